/**
 * The cluster run's encryption probe: does an encrypted overlay put anything readable on the wire
 * between two nodes, and does cross-node traffic on it work (encrypted) or fail closed?
 *
 * The networks under test are the program's, not hand-rolled: `probeNetworks` plans two tier networks
 * with the program's planner (model/networks.ts), one with `encryptOverlays: true`, and they are
 * registered by the program's own component (components/networks.ts `SegmentedNetworks`) through the
 * e2e harness, whose docker.Network mapping (e2e/harness/spec.ts) creates them on the cluster. So the
 * driver options on the wire are whatever the program declares for prod (`encrypted`, the VXLAN id), and
 * a change there changes what this probe tests. The stack itself stays unencrypted (Pulumi.cluster.yaml):
 * on a kernel without IPsec every cross-node flow of it would be dropped.
 *
 * A receiving task on one worker echoes UDP and TCP; a sending task on another worker sends a marker
 * over the unencrypted control network, then another over the encrypted one, while a raw socket in the
 * hub namespace captures every frame crossing the bridge (e2e/cluster/sniff.py; the machine has no
 * tcpdump). The control's markers must be seen, proving the capture sees overlay payloads; the
 * encrypted network's must not. Everything the probe creates carries its own harness run label and is
 * removed before it returns.
 */
import { ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import Docker from "dockerode";
import { SegmentedNetworks } from "../../components/networks";
import { PlannedNetwork } from "../../model/networks";
import { Topology } from "../../model/types";
import { createHarness, E2eHarness, e2eLabels, E2E_RUN_LABEL, execIn, PROBE_IMAGE, runProgram } from "../harness";
import { demux, serviceContainers, waitForService } from "../harness/swarm";
import { kernelFacts } from "../lib/kernel";
import { Progress } from "../lib/progress";
import { errorText, sleep } from "../lib/util";
import {
  countCapture,
  crossNodeOutcome,
  Delivery,
  EncryptionReport,
  Markers,
  markersFor,
  ProbeNetwork,
  probeNetworks,
} from "./encryptionReport";
import { ClusterNode, LocalCluster } from "./nodes";
import { readPcap } from "./pcap";

/** node.sh's hub namespace and bridge. */
const HUB_NETNS = "/run/netns/iot-cluster-hub";
const HUB_BRIDGE = "iot-cluster-br";
const PORT = 9123;
/** How long each end waits for its marker to come back, per protocol and network. */
const PATIENCE_S = 15;
const ENCPROBE = fs.readFileSync(path.join(__dirname, "encprobe.py"), "utf8");
const SNIFF = path.join(__dirname, "sniff.py");

export interface EncryptionEnv {
  readonly cluster: LocalCluster;
  readonly topology: Topology;
  readonly progress: Progress;
  /** Where the capture is kept (.e2e). */
  readonly outDir: string;
}

type Net = "encrypted" | "control";
interface Deployed {
  readonly planned: PlannedNetwork;
  readonly id: string;
}

export async function probeEncryption(env: EncryptionEnv): Promise<EncryptionReport> {
  const [receiver, sender] = env.cluster.workers;
  if (!receiver || !sender) throw new Error("the encryption probe needs two workers");
  const harness = createHarness({
    docker: env.cluster.manager.docker,
    runId: `encryption-${crypto.randomBytes(3).toString("hex")}`,
    log: (l) => env.progress.detail(`[encryption] ${l}`),
  });
  let measured: Omit<EncryptionReport, "cleanup"> | undefined;
  let failure: unknown;
  try {
    measured = await measure(env, harness, receiver, sender);
  } catch (e) {
    failure = e;
  }
  // Also after a failure: nothing of the probe may stay on the cluster.
  const cleanup = await cleanUp(harness, [receiver, sender]);
  for (const e of cleanup.errors) env.progress.line(`  cleanup: ${e}`);
  if (!measured)
    throw new Error(`${errorText(failure)}${cleanup.errors.length ? `; cleanup: ${cleanup.errors.join("; ")}` : ""}`);
  return { ...measured, cleanup };
}

async function measure(
  env: EncryptionEnv,
  harness: E2eHarness,
  receiver: ClusterNode,
  sender: ClusterNode,
): Promise<Omit<EncryptionReport, "cleanup">> {
  const { cluster, progress } = env;
  const markers = markersFor(crypto.randomBytes(6).toString("hex").toUpperCase());
  const logSizes = new Map(cluster.nodes.map((n) => [n.index, daemonLogSize(n)]));
  const nets = await deployNetworks(harness, env.topology);
  const network = await inspected(cluster.manager.docker, nets.encrypted);
  const control = await inspected(cluster.manager.docker, nets.control);
  progress.line(`  ${network.name} options ${JSON.stringify(network.options)}; control ${control.name}`);
  const ends = await startEnds(cluster, harness.runId, nets, receiver, sender);
  progress.line(
    `  receiver on ${receiver.name} (${ends.ips.encrypted}, ${ends.ips.control}), sender on ${sender.name}`,
  );
  const file = path.join(env.outDir, "cluster-encryption.pcap");
  const sent = await captured(file, () => send(sender, ends.sender, ends.ips, markers));
  const received = await receiverLog(receiver, ends.receiver, markers);
  const delivered = {
    encrypted: { ...sent.result.encrypted, received: received.encrypted },
    control: { ...sent.result.control, received: received.control },
  };
  const { plaintextSeen, controlPlaintextSeen, ...wire } = countCapture(
    readPcap(fs.readFileSync(file)),
    markers,
    { encrypted: nets.encrypted.planned.vxlanId, control: nets.control.planned.vxlanId },
    [sender.address, receiver.address],
  );
  const crossNode = crossNodeOutcome(plaintextSeen, delivered.encrypted);
  progress.line(
    `  plaintext frames: ${plaintextSeen} on the encrypted network, ${controlPlaintextSeen} on the control; cross-node ${crossNode}; ` +
      `delivered: control ${JSON.stringify(delivered.control.received)}, encrypted ${JSON.stringify(delivered.encrypted.received)}; ` +
      `${wire.frames} frames, VXLAN ${JSON.stringify(wire.vxlanFrames)}, ESP ${wire.espFrames}`,
  );
  return {
    plaintextSeen,
    crossNode,
    controlPlaintextSeen,
    network,
    control,
    sender: sender.name,
    receiver: receiver.name,
    delivered,
    capture: { ...wire, bridge: HUB_BRIDGE, seconds: sent.seconds, truncated: sent.truncated, file },
    evidence: [`kernel: ${kernelFacts().espDetail}`, ...daemonEvidence([sender, receiver], logSizes)],
  };
}

/** The two networks, registered by the program's component through the harness. */
async function deployNetworks(harness: E2eHarness, topology: Topology): Promise<Record<Net, Deployed>> {
  const planned = probeNetworks(topology);
  await runProgram(
    harness,
    () => {
      new SegmentedNetworks("encryption-probe", {
        plan: { networks: [planned.encrypted, planned.control], attachments: {}, reachability: {}, intent: {} },
        stack: "cluster",
        environment: topology.environment,
      });
      return {};
    },
    { stack: "cluster" },
  );
  const idOf = (n: PlannedNetwork) => {
    const r = harness.byType("docker:index/network:Network").find((x) => x.state.name === n.name);
    if (!r?.id) throw new Error(`network ${n.name} was not created`);
    return r.id;
  };
  return {
    encrypted: { planned: planned.encrypted, id: idOf(planned.encrypted) },
    control: { planned: planned.control, id: idOf(planned.control) },
  };
}

async function inspected(docker: Docker, n: Deployed): Promise<ProbeNetwork> {
  const info = await docker.getNetwork(n.id).inspect();
  return { name: info.Name, options: info.Options ?? {}, subnet: n.planned.subnet, vxlanId: n.planned.vxlanId };
}

interface Ends {
  readonly ips: Record<Net, string>;
  readonly receiver: string;
  readonly sender: string;
}

/** An echo server on `receiver` and an idle task on `sender`, both on both networks. */
async function startEnds(
  cluster: LocalCluster,
  runId: string,
  nets: Record<Net, Deployed>,
  receiver: ClusterNode,
  sender: ClusterNode,
): Promise<Ends> {
  const m = cluster.manager.docker;
  const labels = e2eLabels(runId, "encryption-probe");
  const create = (name: string, node: ClusterNode, command?: string[]) =>
    m.createService(
      {} as Docker.AuthConfig,
      {
        Name: name,
        Labels: labels,
        TaskTemplate: {
          // Neither sleep nor python as PID 1 stops on SIGTERM: a short grace keeps the cleanup quick.
          ContainerSpec: { Image: PROBE_IMAGE, Command: command, Labels: labels, StopGracePeriod: 1e9 },
          Placement: { Constraints: [`node.id == ${node.id}`] },
          Networks: [{ Target: nets.control.id }, { Target: nets.encrypted.id }],
          RestartPolicy: { Condition: "none" },
        },
        Mode: { Replicated: { Replicas: 1 } },
        // No IPVS on this kernel, so no VIP.
        EndpointSpec: { Mode: "dnsrr" },
      } as Docker.ServiceSpec,
    );
  const rx = await create(`${runId}-receiver`, receiver, ["python3", "-c", ENCPROBE, "serve", String(PORT)]);
  const tx = await create(`${runId}-sender`, sender);
  await Promise.all([rx, tx].map((s) => waitForService(m, s.id, { timeoutMs: 90_000 })));
  const [task] = await m.listTasks({ filters: { service: [rx.id], "desired-state": ["running"] } });
  const ipOn = (n: Deployed) => {
    const a = (task?.NetworksAttachments ?? []).find((x: any) => x.Network?.ID === n.id);
    const ip = a?.Addresses?.[0]?.split("/")[0];
    if (!ip) throw new Error(`the receiving task has no address on ${n.planned.name}`);
    return ip;
  };
  const container = async (node: ClusterNode, service: string) => {
    const [c] = await serviceContainers(node.docker, service);
    if (!c) throw new Error(`no container of ${service} on ${node.name}`);
    return c.Id;
  };
  return {
    ips: { encrypted: ipOn(nets.encrypted), control: ipOn(nets.control) },
    receiver: await container(receiver, rx.id),
    sender: await container(sender, tx.id),
  };
}

type Sent = Record<Net, Omit<Delivery, "received">>;

/** The control first: once it went through, the nodes know each other's endpoints on both networks. */
async function send(node: ClusterNode, container: string, ips: Record<Net, string>, markers: Markers): Promise<Sent> {
  const targets = (["control", "encrypted"] as const).map((name) => ({
    name,
    ip: ips[name],
    port: PORT,
    ...markers[name],
  }));
  const req = JSON.stringify({ targets, patience: PATIENCE_S });
  const r = await execIn(node.docker, container, ["python3", "-c", ENCPROBE, "send", req], {
    timeoutMs: (PATIENCE_S * 4 + 30) * 1000,
  });
  if (r.exitCode !== 0) throw new Error(`the sender exited ${r.exitCode}: ${r.stderr.slice(0, 500)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as Sent;
}

/** Protocols whose marker the receiver logged, per network. */
async function receiverLog(node: ClusterNode, container: string, markers: Markers): Promise<Record<Net, string[]>> {
  const buf = (await node.docker.getContainer(container).logs({ stdout: true, stderr: true })) as unknown as Buffer;
  const lines = demux(buf)
    .stdout.split("\n")
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as { proto?: string; data?: string }];
      } catch {
        return [];
      }
    });
  const got = (net: Net) =>
    (["udp", "tcp"] as const).filter((p) => lines.some((l) => l.proto === p && l.data === markers[net][p]));
  return { encrypted: got("encrypted"), control: got("control") };
}

/** Runs `during` while the hub bridge is captured into `file`. */
async function captured<T>(
  file: string,
  during: () => Promise<T>,
): Promise<{ result: T; seconds: number; truncated: boolean }> {
  const child = spawn("nsenter", [`--net=${HUB_NETNS}`, "--", "python3", SNIFF, HUB_BRIDGE, file], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const out: string[] = [];
  let err = "";
  child.stdout.on("data", (b: Buffer) => out.push(b.toString()));
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  const t0 = Date.now();
  try {
    await waitForReady(child, out, exited, () => err);
    const result = await during();
    await sleep(1000); // the last echoes' frames
    child.stdin.end();
    const code = await exited;
    if (code !== 0) throw new Error(`sniff.py exited ${code}: ${err.slice(0, 500)}`);
    const stats = JSON.parse(out.join("").trim().split("\n").pop() ?? "{}") as { truncated?: boolean };
    return { result, seconds: (Date.now() - t0) / 1000, truncated: stats.truncated === true };
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

async function waitForReady(
  child: ChildProcessWithoutNullStreams,
  out: string[],
  exited: Promise<number>,
  err: () => string,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!out.join("").includes("ready")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      await exited;
      throw new Error(`sniff.py in the hub namespace did not start: ${err().slice(0, 500)}`);
    }
    await sleep(100);
  }
}

const daemonLog = (n: ClusterNode) => `/var/lib/iot-cluster/node${n.index}/dockerd.log`;
const daemonLogSize = (n: ClusterNode) => (fs.existsSync(daemonLog(n)) ? fs.statSync(daemonLog(n)).size : 0);

/** The two daemons' log lines about IPsec written while the probe ran (the first 5 of each), keys redacted. */
function daemonEvidence(nodes: ClusterNode[], since: Map<number, number>): string[] {
  return nodes.flatMap((n) => {
    if (!fs.existsSync(daemonLog(n))) return [];
    const text = fs
      .readFileSync(daemonLog(n))
      .subarray(since.get(n.index) ?? 0)
      .toString();
    return (
      text
        .split("\n")
        .filter((l) => /xfrm|encrypt|esp\b|rfc4106|gcm|ipsec|\bkey/i.test(l))
        .slice(0, 5)
        // The daemon logs the IPsec keys it failed to install: never into the report.
        .map((l) => l.replace(/^time="[^"]*"\s*/, "").replace(/Key: 0x[0-9a-fA-F]+/g, "Key: <redacted>"))
        .map((l) => `${n.name}: ${l.slice(0, 300)}`)
    );
  });
}

/** Removes the probe's services and networks, then waits until no container of it is left on the nodes. */
async function cleanUp(harness: E2eHarness, nodes: ClusterNode[]): Promise<EncryptionReport["cleanup"]> {
  const errors: string[] = [];
  const report = await harness.teardown({ timeoutMs: 90_000 }).catch((e) => {
    errors.push(errorText(e));
    return undefined;
  });
  errors.push(...(report?.errors ?? []));
  const removed = [...(report?.removed ?? []).map((o) => `${o.kind} ${o.name}`), ...(report?.swept ?? [])];
  const filters = { label: [`${E2E_RUN_LABEL}=${harness.runId}`] };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const left = (
      await Promise.all(
        nodes.map(async (n) =>
          (await n.docker.listContainers({ all: true, filters }).catch(() => [])).map(
            (c) => `container ${c.Names?.[0] ?? c.Id} on ${n.name}`,
          ),
        ),
      )
    ).flat();
    if (!left.length) break;
    if (Date.now() > deadline) {
      errors.push(`left after 30 s: ${left.join(", ")}`);
      break;
    }
    await sleep(500);
  }
  return { removed, errors };
}
