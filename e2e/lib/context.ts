/**
 * What every probe needs about the deployed stack: the model, the program's exports, the realised
 * secrets (harness resources), and each service's running tasks with their addresses per network
 * as the engine reports them. Probes run their commands inside the tasks (the networks are not
 * attachable, so a task is the only place on them). On a multi-node swarm each task's container
 * lives on its node's engine: `ClusterAccess` says which engine that is and where a service's
 * host-mode ports are published.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Docker from "dockerode";
import { E2eHarness, ExecResult, execIn } from "../harness";
import { NetworkPlan } from "../../model/networks";
import { ServiceSpec, Topology } from "../../model/types";
import { ProgramExports } from "../probes/intent";
import { Progress } from "./progress";
import { serviceOf, servicesOf } from "./services";

export interface TaskAddr {
  readonly network: string;
  readonly ip: string;
}

export interface Task {
  readonly id: string;
  readonly slot: number;
  /** Swarm node id of the node the task runs on. */
  readonly node: string;
  readonly containerId: string;
  /** The container's hostname: what a stand-in answers in X-Served-By. */
  readonly hostname: string;
  readonly addrs: readonly TaskAddr[];
}

export interface NetprobeRequest {
  dns?: string[];
  tcp?: [string, number][];
  routes?: string[];
  timeout?: number;
  parallel?: number;
}

export interface NetprobeResult {
  dns: Record<string, { status: string; addrs: string[]; ms: number }>;
  tcp: Record<string, { result: string; ms: number }>;
  routes: Record<string, string>;
  uid: number;
}

const NETPROBE = fs.readFileSync(path.join(__dirname, "../probes/netprobe.py"), "utf8");

/** A swarm of several engines: how to reach each node's engine and a service's published ports. */
export interface ClusterAccess {
  /** The engine of a node (swarm node id), where that node's containers can be inspected and exec'd. */
  readonly engineOf: (nodeId: string) => Docker | undefined;
  /** An address this host reaches a service's host-mode published ports on (a node running a task of it). */
  readonly publishedHost: (service: string) => string;
}

export class StackContext {
  readonly docker: Docker;
  tasks: Record<string, Task[]> = {};

  constructor(
    readonly harness: E2eHarness,
    readonly topology: Topology,
    readonly plan: NetworkPlan,
    readonly exports: ProgramExports,
    readonly progress: Progress,
    readonly cluster?: ClusterAccess,
  ) {
    this.docker = harness.docker;
  }

  /** The engine a task's container lives on: its node's, or the one engine of a single-node swarm. */
  engineOf(task: Task): Docker {
    return this.cluster?.engineOf(task.node) ?? this.docker;
  }

  /** Where this host reaches a service's published ports: loopback on a single node. */
  publishedHost(service: string): string {
    return this.cluster?.publishedHost(service) ?? "127.0.0.1";
  }

  spec(service: string): ServiceSpec {
    const s = this.topology.services.find((x) => x.name === service);
    if (!s) throw new Error(`no service ${service} in the topology`);
    return s;
  }

  /** Reads every service's running tasks (of every service carrying its logical name), containers and addresses. */
  async refreshTasks(): Promise<void> {
    const out: Record<string, Task[]> = {};
    for (const s of this.topology.services) {
      const tasks: Task[] = [];
      for (const svc of await servicesOf(this.docker, this.harness.runId, s.name)) {
        const listed = await this.docker.listTasks({ filters: { service: [svc.ID], "desired-state": ["running"] } });
        for (const t of listed) {
          // The service filter also matches by name prefix; keep this service's own tasks.
          if (t.ServiceID !== svc.ID || t.Status?.State !== "running" || !t.Status?.ContainerStatus?.ContainerID)
            continue;
          tasks.push(await this.task(t));
        }
      }
      out[s.name] = tasks.sort((a, b) => a.slot - b.slot);
    }
    this.tasks = out;
  }

  private async task(t: any): Promise<Task> {
    const containerId = t.Status.ContainerStatus.ContainerID as string;
    // On a cluster the container lives on its node's engine.
    const node = (t.NodeID as string | undefined) ?? "";
    const info = await (this.cluster?.engineOf(node) ?? this.docker)
      .getContainer(containerId)
      .inspect()
      .catch(() => undefined);
    const addrs = ((t.NetworksAttachments ?? []) as any[]).flatMap((a) =>
      ((a.Addresses ?? []) as string[]).map((cidr) => ({
        network: a.Network?.Spec?.Name as string,
        ip: cidr.split("/")[0],
      })),
    );
    return {
      id: t.ID,
      slot: t.Slot,
      node,
      containerId,
      hostname: info?.Config?.Hostname ?? containerId.slice(0, 12),
      addrs,
    };
  }

  /** The Swarm service (inspect) with a logical name: the newest while a replacement is under way. */
  async service(logical: string): Promise<any> {
    return this.docker.getService((await serviceOf(this.docker, this.harness.runId, logical)).ID).inspect();
  }

  /** Addresses of a service's tasks, on the given networks or all of them. */
  ips(service: string, networks?: readonly string[]): string[] {
    return (this.tasks[service] ?? []).flatMap((t) =>
      t.addrs.filter((a) => !networks || networks.includes(a.network)).map((a) => a.ip),
    );
  }

  /** Networks the tasks of two services are both attached to (as deployed). */
  sharedNetworks(a: string, b: string): string[] {
    const nets = (s: string) => new Set((this.tasks[s] ?? []).flatMap((t) => t.addrs.map((x) => x.network)));
    const nb = nets(b);
    return [...nets(a)].filter((n) => nb.has(n)).sort();
  }

  /** Runs argv in one running task of the service (the first, or the one given). */
  async exec(service: string, argv: string[], opts: { timeoutMs?: number; task?: Task } = {}): Promise<ExecResult> {
    const task = opts.task ?? this.tasks[service]?.[0];
    if (!task) throw new Error(`no running task of ${service}`);
    const r = await execIn(this.engineOf(task), task.containerId, argv, { timeoutMs: opts.timeoutMs ?? 30_000 });
    this.progress.detail(
      `exec ${service}.${task.slot} ${JSON.stringify(argv).slice(0, 400)} -> ${r.exitCode}\n${r.stdout.slice(0, 2000)}${r.stderr.slice(0, 1000)}`,
    );
    return r;
  }

  sh(service: string, script: string, opts: { timeoutMs?: number; task?: Task } = {}): Promise<ExecResult> {
    return this.exec(service, ["sh", "-c", script], opts);
  }

  /** DNS lookups, TCP connects and route lookups from inside a task of the service (e2e/probes/netprobe.py). */
  async netprobe(service: string, req: NetprobeRequest, opts: { task?: Task } = {}): Promise<NetprobeResult> {
    const timeout = req.timeout ?? 3;
    const jobs = (req.dns?.length ?? 0) + (req.tcp?.length ?? 0) + (req.routes?.length ?? 0);
    const parallel = req.parallel ?? 8;
    const budget = (Math.ceil(jobs / parallel) + 2) * (timeout + 1) * 1000 + 10_000;
    const r = await this.exec(service, ["python3", "-c", NETPROBE, JSON.stringify({ ...req, timeout, parallel })], {
      timeoutMs: budget,
      task: opts.task,
    });
    if (r.exitCode !== 0) throw new Error(`netprobe in ${service} exited ${r.exitCode}: ${r.stderr.slice(0, 500)}`);
    return JSON.parse(r.stdout) as NetprobeResult;
  }

  /** A generated password (random provider stand-in) by the id the program's file templates use. */
  password(id: string): string {
    const r = this.harness.byType("random:index/randomPassword:RandomPassword").find((x) => x.name.endsWith(`-${id}`));
    if (!r) throw new Error(`no generated password ${id}`);
    return String(r.state.result);
  }

  /** A leaf certificate and its key as the program issued them (tls provider stand-in). */
  leaf(name: string): { certPem: string; keyPem: string } {
    const cert = this.harness
      .byType("tls:index/locallySignedCert:LocallySignedCert")
      .find((x) => x.name.endsWith(`-${name}-cert`));
    const key = this.harness.byType("tls:index/privateKey:PrivateKey").find((x) => x.name.endsWith(`-${name}-key`));
    if (!cert || !key) throw new Error(`no issued certificate ${name}`);
    return { certPem: String(cert.state.certPem), keyPem: String(key.state.privateKeyPem) };
  }

  get caPem(): string {
    return this.exports.caCertPem;
  }

  /** Host port a service's named port is published on. */
  published(service: string, portName: string): number {
    const p = this.exports.publishedPorts.find((x) => x.service === service && x.portName === portName);
    if (!p) throw new Error(`${service} does not publish ${portName}`);
    return p.hostPort;
  }
}
