/**
 * The e2e cluster's machines as a swarm: node.sh builds the nodes (namespaces, cables, one dockerd
 * each); this module forms the swarm over the Engine API (init on node 1, join managers, then
 * workers), labels the nodes as an operator would, copies the images to the nodes that run tasks,
 * and answers where a task runs. Node 1 is the manager the run talks to; it is never a fault target.
 */
import * as path from "node:path";
import Docker from "dockerode";
import { Progress } from "../lib/progress";
import { capture, runStreamed } from "../lib/host";
import { sleep } from "../lib/util";

export const NODE_SH = path.join(__dirname, "node.sh");
/** The cluster's /24 (node.sh's default): host leg .1, node i at .(10+i). */
export const CLUSTER_NET = process.env.IOT_CLUSTER_NET ?? "172.30.77";

export interface ClusterPlan {
  readonly managers: number;
  readonly workers: number;
  /** Swarm dispatcher heartbeat: how often nodes report; a node is Down after a few missed beats. */
  readonly heartbeatSeconds: number;
  /** Managers run no tasks (availability drain), as Docker advises for a production swarm. */
  readonly drainManagers: boolean;
  /** Node labels as an operator sets them, by node index. */
  readonly labels: Readonly<Record<number, Readonly<Record<string, string>>>>;
}

export interface ClusterNode {
  readonly index: number;
  /** Host name, and the swarm's name for the node. */
  readonly name: string;
  readonly address: string;
  readonly role: "manager" | "worker";
  readonly socket: string;
  readonly docker: Docker;
  /** Swarm node id, once joined. */
  id: string;
}

export class LocalCluster {
  readonly nodes: ClusterNode[];

  constructor(
    readonly plan: ClusterPlan,
    private readonly progress: Progress,
  ) {
    const count = plan.managers + plan.workers;
    this.nodes = Array.from({ length: count }, (_, i) => {
      const index = i + 1;
      const socket = `/run/iot-cluster/node${index}/docker.sock`;
      return {
        index,
        name: `iot-cluster-node${index}`,
        address: `${CLUSTER_NET}.${10 + index}`,
        role: index <= plan.managers ? "manager" : "worker",
        socket,
        docker: new Docker({ socketPath: socket }),
        id: "",
      };
    });
  }

  /** The manager the run talks to. */
  get manager(): ClusterNode {
    return this.nodes[0];
  }

  get workers(): ClusterNode[] {
    return this.nodes.filter((n) => n.role === "worker");
  }

  /** Nodes that run tasks (every worker; managers too unless drained). */
  get taskNodes(): ClusterNode[] {
    return this.plan.drainManagers ? this.workers : this.nodes;
  }

  node(index: number): ClusterNode {
    const n = this.nodes.find((x) => x.index === index);
    if (!n) throw new Error(`no node ${index}`);
    return n;
  }

  byId(id: string): ClusterNode | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  /** node.sh, its output streamed as progress. */
  sh(...args: string[]): Promise<void> {
    return runStreamed(this.progress, "node", "bash", [NODE_SH, ...args]);
  }

  /** Namespaces, cables and one dockerd per node. */
  async up(): Promise<void> {
    await this.sh("net-up", String(this.nodes.length));
    for (const n of this.nodes) await this.sh("start", String(n.index));
  }

  /** Swarm init on node 1 with the plan's heartbeat; managers, then workers join it. */
  async formSwarm(): Promise<void> {
    const m = this.manager;
    await m.docker.swarmInit({
      ListenAddr: `${m.address}:2377`,
      AdvertiseAddr: m.address,
      Spec: { Dispatcher: { HeartbeatPeriod: this.plan.heartbeatSeconds * 1e9 } },
    });
    const swarm = await m.docker.swarmInspect();
    for (const n of this.nodes.slice(1)) {
      await n.docker.swarmJoin({
        ListenAddr: `${n.address}:2377`,
        AdvertiseAddr: n.address,
        RemoteAddrs: [`${m.address}:2377`],
        JoinToken: n.role === "manager" ? swarm.JoinTokens.Manager : swarm.JoinTokens.Worker,
      });
    }
    for (const n of this.nodes) n.id = (await n.docker.info()).Swarm.NodeID;
    await this.waitUntil("every node Ready", 60_000, async () => {
      const ready = (await m.docker.listNodes()).filter((x: any) => x.Status?.State === "ready");
      return ready.length === this.nodes.length;
    });
  }

  /** Labels and availability, as `docker node update` sets them. */
  async labelNodes(): Promise<void> {
    for (const n of this.nodes) {
      const labels = this.plan.labels[n.index] ?? {};
      const drain = this.plan.drainManagers && n.role === "manager";
      if (!Object.keys(labels).length && !drain) continue;
      await this.updateNode(n, (spec) => ({
        ...spec,
        Labels: { ...spec.Labels, ...labels },
        Availability: drain ? "drain" : spec.Availability,
      }));
    }
  }

  async updateNode(n: ClusterNode, change: (spec: any) => any): Promise<void> {
    const node = this.manager.docker.getNode(n.id);
    const info = await node.inspect();
    const body: Record<string, unknown> = { version: info.Version.Index, ...change(info.Spec) };
    await node.update(body);
  }

  /** Copies images from one node to others: `docker save` once, then `docker load` on each, in parallel. */
  async distributeImages(
    from: ClusterNode,
    to: ClusterNode[],
    images: string[],
  ): Promise<{ save: number; load: number }> {
    const tar = `/var/lib/iot-cluster/images.tar`;
    const t0 = Date.now();
    await runStreamed(this.progress, "save", "docker", ["-H", `unix://${from.socket}`, "save", "-o", tar, ...images]);
    const t1 = Date.now();
    await Promise.all(
      to.map((n) =>
        runStreamed(this.progress, `load ${n.name}`, "docker", ["-H", `unix://${n.socket}`, "load", "-q", "-i", tar]),
      ),
    );
    capture("rm", ["-f", tar]);
    return { save: (t1 - t0) / 1000, load: (Date.now() - t1) / 1000 };
  }

  /** Swarm's view of every node: name, state (ready/down), availability. */
  async nodeStates(): Promise<Map<string, { state: string; availability: string }>> {
    const out = new Map<string, { state: string; availability: string }>();
    for (const x of (await this.manager.docker.listNodes()) as any[])
      out.set(x.ID, { state: x.Status?.State ?? "unknown", availability: x.Spec?.Availability ?? "unknown" });
    return out;
  }

  async waitUntil(what: string, timeoutMs: number, ok: () => Promise<boolean>, pollMs = 250): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      if (await ok().catch(() => false)) return (Date.now() - t0) / 1000;
      if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
      await sleep(pollMs);
    }
  }
}
