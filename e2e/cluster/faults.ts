/**
 * Faults on the running cluster, each while the gateway client keeps requesting a replicated
 * service through the gateway: the loss of a worker (unplugged, then its dockerd and every
 * container killed; later restarted like a rebooted machine), the drain of a worker, a restart of
 * the broker, and the loss and return of the node that holds the stateful services pinned to it
 * by placement (InfluxDB's data). Each reports failed requests, the time until every service ran
 * its replicas again, where lost tasks went, and for pinned state whether it waited for its node
 * and came back with its data.
 */
import * as crypto from "node:crypto";
import { mqttClientCertName } from "../../model/pki";
import { ServiceSpec, Topology } from "../../model/types";
import { demux } from "../harness";
import { StackContext } from "../lib/context";
import { connectDevice, endDevice } from "../lib/mqttDevice";
import { Progress } from "../lib/progress";
import { errorText, sleep } from "../lib/util";
import { deviceIdentity } from "../probes/mqtt";
import { GatewayClient, latency, RequestRecord } from "./client";
import { ClusterNode, LocalCluster } from "./nodes";
import { FaultReport, PinnedState, Rescheduled, TELEMETRY_PENDING } from "./report";
import { pendingReasons, serving, shortOf, swarmView, SwarmView, TaskView } from "./swarmView";

export interface FaultEnv {
  readonly cluster: LocalCluster;
  readonly ctx: StackContext;
  readonly client: GatewayClient;
  readonly progress: Progress;
  readonly topology: Topology;
  /** How long to wait for the stack to recover from one fault. */
  readonly recoveryTimeoutMs: number;
  /** How long pinned state is left waiting for its node before the node returns. */
  readonly holdSeconds: number;
}

const MARKER = ".iot-cluster-marker";

function view(env: FaultEnv): Promise<SwarmView> {
  return swarmView(
    env.cluster.manager.docker,
    env.topology.services.map((s) => s.name),
  );
}

const nodeName = (env: FaultEnv, id: string) => env.cluster.byId(id)?.name ?? id.slice(0, 12);
const seconds = (t0: number) => Math.round((Date.now() - t0) / 100) / 10;

/** Services whose placement pins them to node labels a node carries. */
async function pinnedTo(env: FaultEnv, node: ClusterNode): Promise<ServiceSpec[]> {
  const labels: Record<string, string> =
    (await env.cluster.manager.docker.getNode(node.id).inspect()).Spec?.Labels ?? {};
  return env.topology.services.filter((s) =>
    s.placement.some((c) => {
      const m = /^node\.labels\.([\w.-]+)\s*==\s*(\S+)$/.exec(c.trim());
      return m !== null && labels[m[1]] === m[2];
    }),
  );
}

/**
 * Polls the swarm until `done` holds; records when each task that was not serving before first
 * served. Returns the seconds since t0 (null on timeout) and the last view.
 */
async function waitFor(
  env: FaultEnv,
  t0: number,
  before: readonly TaskView[],
  done: (v: SwarmView) => boolean,
  firstServed: Map<string, number>,
  timeoutMs = env.recoveryTimeoutMs,
): Promise<{ seconds: number | null; view: SwarmView }> {
  const known = new Set(before.map((t) => t.id));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await view(env).catch(() => undefined);
    if (v) {
      for (const t of serving(v)) if (!known.has(t.id) && !firstServed.has(t.id)) firstServed.set(t.id, seconds(t0));
      if (done(v)) return { seconds: seconds(t0), view: v };
      if (Date.now() > deadline) return { seconds: null, view: v };
    }
    await sleep(500);
  }
}

/**
 * Every service runs its replicas, except those in `exempt` and those the scheduler cannot place
 * while a node is away ("no suitable node": a host-mode port taken on every other candidate).
 */
function settled(env: FaultEnv, v: SwarmView, exempt: readonly string[]): boolean {
  return shortOf(v, env.topology)
    .map((x) => x.split(" ")[0])
    .every((s) => exempt.includes(s) || pendingReasons(v, s).some((r) => /no suitable node/.test(r)));
}

/** Where the tasks that served on `node` before the fault serve now. */
function rescheduled(
  env: FaultEnv,
  before: readonly TaskView[],
  node: string,
  after: SwarmView,
  firstServed: Map<string, number>,
): Rescheduled[] {
  const known = new Set(before.map((t) => t.id));
  const out: Rescheduled[] = [];
  const lost = before.filter((t) => t.node === node);
  for (const service of [...new Set(lost.map((t) => t.service))]) {
    const replacements = serving(after, service).filter((t) => !known.has(t.id) && t.node !== node);
    const spec = env.topology.services.find((s) => s.name === service);
    lost
      .filter((t) => t.service === service)
      .forEach((t, i) => {
        const r = replacements[i];
        out.push({
          service,
          from: nodeName(env, node),
          to: r ? nodeName(env, r.node) : undefined,
          seconds: r ? firstServed.get(r.id) : undefined,
          pending: r ? undefined : pendingReasons(after, service).join("; ") || "no replacement task",
          withoutItsData: r && spec && spec.volumes.length > 0 ? true : undefined,
        });
      });
  }
  return out;
}

/**
 * The client's requests while a fault lasted (from its start until now, the request in flight
 * included), whether every gateway replica it spared served, and the fault's window: the telemetry
 * readings sent in it are counted once the run has read InfluxDB back (e2e/cluster/telemetry.ts).
 */
async function requestsDuring(
  env: FaultEnv,
  t0: number,
  spared: readonly string[],
): Promise<
  Pick<
    FaultReport,
    | "requests"
    | "failedRequests"
    | "window"
    | "servedVia"
    | "survivorsServed"
    | "latencyMs"
    | "failures"
    | "slow"
    | "gatewayLog"
    | "gatewayStarts"
  >
> {
  await env.client.between(async () => undefined);
  const end = Date.now();
  const records = env.client.window(t0, end);
  const servedVia: Record<string, number> = {};
  for (const r of records) if (r.ok && r.address) servedVia[r.address] = (servedVia[r.address] ?? 0) + 1;
  const failed = records.filter((r) => !r.ok);
  const line = (r: RequestRecord) =>
    `+${((r.at - t0) / 1000).toFixed(1)} s ${r.ms} ms ${r.address ?? "no address"}${r.skipped.length ? ` (skipped ${r.skipped.join(", ")})` : ""}: ${r.ok ? `200 ${r.servedBy ?? ""}` : (r.error ?? r.status)}`;
  return {
    requests: records.length,
    failedRequests: failed.length,
    window: { from: t0, to: end },
    servedVia,
    survivorsServed: spared.every((a) => (servedVia[a] ?? 0) > 0),
    latencyMs: latency(records),
    failures: failed.slice(0, 20).map(line),
    slow: records
      .filter((r) => r.ok && r.ms > 1000)
      .slice(0, 50)
      .map(line),
    gatewayLog: failed.length ? await gatewayLog(env, failed[0].at) : undefined,
    gatewayStarts: await gatewayLog(env, t0, (l) => l.includes("gateway-start:")),
  };
}

/**
 * The log lines of every gateway task since `since` (HAProxy's JSON access log, server state changes, the start
 * script's lines), those `keep` accepts, at most 60 per task.
 */
async function gatewayLog(
  env: FaultEnv,
  since: number,
  keep: (line: string) => boolean = () => true,
): Promise<string[]> {
  await env.ctx.refreshTasks().catch(() => undefined);
  const out: string[] = [];
  for (const t of env.ctx.tasks.gateway ?? []) {
    const buf = (await env.ctx
      .engineOf(t)
      .getContainer(t.containerId)
      .logs({ stdout: true, stderr: true, since: Math.floor(since / 1000) - 2, timestamps: true })
      .catch(() => Buffer.from(""))) as unknown as Buffer;
    const { stdout, stderr } = demux(buf);
    for (const l of `${stdout}${stderr}`.split("\n").filter(Boolean).filter(keep).slice(0, 60))
      out.push(`${nodeName(env, t.node)} ${l}`);
  }
  return out;
}

/** Addresses of the nodes running a gateway replica, except `except`. */
function gatewayNodes(env: FaultEnv, v: SwarmView, except?: string): string[] {
  return [...new Set(serving(v, "gateway").map((t) => t.node))]
    .filter((n) => n !== except)
    .map((n) => env.cluster.byId(n)!.address);
}

/** A worker running a gateway replica (and a Grafana one where possible) and no pinned state. */
async function pickWorker(env: FaultEnv, v: SwarmView): Promise<{ node: ClusterNode; note: string }> {
  const runs = (n: ClusterNode, s: string) => serving(v, s).some((t) => t.node === n.id);
  const scored = [];
  for (const n of env.cluster.workers) {
    const pinned = (await pinnedTo(env, n)).length > 0;
    scored.push({ n, score: (runs(n, "gateway") ? 4 : 0) + (runs(n, "grafana") ? 2 : 0) + (pinned ? 0 : 1) });
  }
  scored.sort((a, b) => b.score - a.score);
  const node = scored[0].n;
  const has = ["gateway", "grafana"].filter((s) => runs(node, s));
  return { node, note: `${node.name} runs ${has.join(" and ") || "neither gateway nor grafana"}` };
}

function blank(name: string, node?: string): FaultReport {
  return {
    name,
    node,
    requests: 0,
    failedRequests: 0,
    lostMessages: TELEMETRY_PENDING,
    recoverySeconds: null,
    rescheduled: [],
    servedVia: {},
    survivorsServed: false,
    failures: [],
    notes: [],
  };
}

/** A node being lost: what every phase of the fault reads. */
interface NodeLoss {
  readonly env: FaultEnv;
  readonly node: ClusterNode;
  /** The services pinned to the node by placement, and their names. */
  readonly pinned: readonly ServiceSpec[];
  readonly pinnedNames: readonly string[];
  /** When the node was cut off. */
  readonly t0: number;
  /** The tasks serving before the fault. */
  readonly before: readonly TaskView[];
  /** Task id -> seconds after the fault it first served, for the tasks that were not serving before. */
  readonly firstServed: Map<string, number>;
}

/** What happened while the node was away. */
interface Away {
  /** Seconds until the managers marked it Down. */
  readonly detected: number | null;
  /** Every service but the pinned ones back to its replicas without the node. */
  readonly others: { seconds: number | null; view: SwarmView };
  readonly moved: Rescheduled[];
  /** Pinned services seen serving on another node. */
  readonly ranElsewhere: Set<string>;
  /** Why each pinned service did not run while the node was away, as the scheduler said first. */
  readonly pendingWhy: Record<string, string>;
  /** Seconds from the fault until the node was restarted. */
  readonly waited: number;
}

/** What happened once the node was restarted. */
interface Returned {
  /** When the node was restarted. */
  readonly tr: number;
  /** Seconds until it was Ready again. */
  readonly ready: number | null;
  /** Every service back to its replicas and every pinned one serving on the node again. */
  readonly all: { seconds: number | null; view: SwarmView };
  /** Pinned service -> seconds after the restart it served on the node again. */
  readonly back: Map<string, number>;
}

/** Unplugs a node and kills everything on it; later restarts it like a rebooted machine. */
async function loseNode(
  env: FaultEnv,
  name: string,
  node: ClusterNode,
  note: string,
  pinned: ServiceSpec[],
): Promise<FaultReport> {
  const v0 = await view(env);
  const before = serving(v0);
  const spared = gatewayNodes(env, v0, node.id);
  const markers = await writeMarkers(env, pinned);
  const idx = String(node.index);
  let t0 = Date.now();
  await env.client.between(async () => {
    t0 = Date.now();
    await env.cluster.sh("cut", idx);
  });
  let report: FaultReport = { ...blank(name, node.name), notes: [note] };
  try {
    const pinnedNames = pinned.map((s) => s.name);
    const loss: NodeLoss = { env, node, pinned, pinnedNames, t0, before, firstServed: new Map() };
    const away = await whileAway(loss);
    const returned = await nodeReturns(loss);
    const pinnedState = await pinnedStateAfter(loss, markers, away, returned);
    await sleep(2000);
    report = { ...report, ...lossOutcome(loss, note, away, returned, pinnedState) };
  } catch (e) {
    report = { ...report, error: errorText(e) };
    // The later faults need the node back.
    await env.cluster.sh("reboot", idx).catch(() => undefined);
  }
  return { ...report, ...(await requestsDuring(env, t0, spared)) };
}

/** Kills the unplugged node; waits until it is Down and the rest of the stack ran without it, then holds. */
async function whileAway(loss: NodeLoss): Promise<Away> {
  const { env, node, pinned, pinnedNames, t0, before, firstServed } = loss;
  const p = env.progress;
  await env.cluster.sh("kill", String(node.index));
  const down = await waitFor(env, t0, before, (v) => v.nodes.get(node.id)?.state === "down", firstServed, 60_000);
  p.line(`  ${node.name} marked Down after ${down.seconds ?? "never"} s`);
  const ranElsewhere = new Set<string>();
  const others = await waitFor(
    env,
    t0,
    before,
    (v) => {
      for (const s of pinnedNames) if (serving(v, s).some((t) => t.node !== node.id)) ranElsewhere.add(s);
      return settled(env, v, pinnedNames);
    },
    firstServed,
  );
  p.line(
    `  every service${pinned.length ? " but the pinned ones" : ""} back to its replicas after ${others.seconds ?? "never"} s`,
  );
  const moved = rescheduled(env, before, node.id, others.view, firstServed);
  for (const m of moved)
    p.line(
      `  ${m.service}: ${m.from} -> ${m.to ?? "(pending)"}${m.seconds !== undefined ? ` serving after ${m.seconds} s` : ""}${m.pending ? ` (${m.pending})` : ""}${m.withoutItsData ? " WITHOUT its data" : ""}`,
    );
  const pendingWhy = await holdPinned(loss, ranElsewhere);
  return { detected: down.seconds, others, moved, ranElsewhere, pendingWhy, waited: seconds(t0) };
}

/**
 * Pinned state waits for its node: it must not start elsewhere while the node is away. Leaves the node away
 * for `holdSeconds` when something is pinned to it, noting any pinned service seen serving elsewhere.
 */
async function holdPinned(loss: NodeLoss, ranElsewhere: Set<string>): Promise<Record<string, string>> {
  const { env, node, pinned, pinnedNames } = loss;
  const pendingWhy: Record<string, string> = {};
  const holdUntil = Date.now() + (pinned.length ? env.holdSeconds * 1000 : 0);
  while (Date.now() < holdUntil) {
    const v = await view(env);
    for (const s of pinnedNames) {
      if (serving(v, s).some((t) => t.node !== node.id)) ranElsewhere.add(s);
      pendingWhy[s] ??= pendingReasons(v, s)[0];
    }
    await sleep(1000);
  }
  return pendingWhy;
}

/** Restarts the node; waits until it is Ready, every service runs its replicas and the pinned ones serve on it. */
async function nodeReturns(loss: NodeLoss): Promise<Returned> {
  const { env, node, pinnedNames, t0, before, firstServed } = loss;
  const tr = Date.now();
  await env.cluster.sh("reboot", String(node.index));
  const ready = await waitFor(env, tr, before, (v) => v.nodes.get(node.id)?.state === "ready", firstServed, 60_000);
  env.progress.line(`  ${node.name} restarted: Ready after ${ready.seconds ?? "never"} s`);
  const back = new Map<string, number>();
  const all = await waitFor(
    env,
    t0,
    before,
    (v) => {
      for (const s of pinnedNames)
        if (!back.has(s) && serving(v, s).some((t) => t.node === node.id)) back.set(s, seconds(tr));
      return shortOf(v, env.topology).length === 0 && back.size === pinnedNames.length;
    },
    firstServed,
  );
  return { tr, ready: ready.seconds, all, back };
}

/** Each pinned service: did it wait for its node, come back on it, and with the marker in its volume. */
async function pinnedStateAfter(
  loss: NodeLoss,
  markers: Record<string, string>,
  away: Away,
  returned: Returned,
): Promise<PinnedState[]> {
  const { env, node, pinned, pinnedNames, t0 } = loss;
  const { tr, back } = returned;
  const ranElsewhere = new Set([...away.ranElsewhere].filter((s) => pinnedNames.includes(s)));
  await env.ctx.refreshTasks();
  const intact = await readMarkers(env, markers);
  const pinnedState: PinnedState[] = pinned.map((s) => ({
    service: s.name,
    node: node.name,
    waitedForNode: !ranElsewhere.has(s.name),
    waitedSeconds: Math.round((tr - t0) / 1000),
    pendingReason: away.pendingWhy[s.name],
    backOnNode: back.has(s.name),
    backSeconds: back.get(s.name) ?? null,
    dataIntact: intact[s.name]?.ok ?? null,
    dataEvidence: intact[s.name]?.evidence ?? "no volume to mark",
  }));
  for (const ps of pinnedState)
    env.progress.line(
      `  pinned ${ps.service}: ${ps.waitedForNode ? "waited" : "did NOT wait"} for ${ps.node} (${ps.pendingReason ?? "?"}); back after ${ps.backSeconds ?? "never"} s; ${ps.dataEvidence}`,
    );
  return pinnedState;
}

/** The fault's report fields from its phases; recovery counts until the pinned services serve on the node again. */
function lossOutcome(
  loss: NodeLoss,
  note: string,
  away: Away,
  returned: Returned,
  pinnedState: PinnedState[],
): Pick<FaultReport, "detectedSeconds" | "returnSeconds" | "recoverySeconds" | "rescheduled" | "pinned" | "notes"> {
  const { env, pinned } = loss;
  const { all } = returned;
  return {
    detectedSeconds: away.detected,
    returnSeconds: returned.ready,
    recoverySeconds: pinned.length ? all.seconds : away.others.seconds,
    rescheduled: away.moved,
    pinned: pinned.length ? pinnedState : undefined,
    notes: [
      note,
      `the node was away for ${away.waited} s; ${pinned.length ? "recovery counts until the pinned services served again on it" : "recovery counts until every service ran its replicas without it"}`,
      ...(all.seconds === null ? [`after the return: ${shortOf(all.view, env.topology).join(", ")} short`] : []),
    ],
  };
}

/** Writes a nonce into the first volume of each pinned service, from inside its task. */
async function writeMarkers(env: FaultEnv, pinned: ServiceSpec[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  await env.ctx.refreshTasks();
  for (const s of pinned) {
    const volume = s.volumes[0];
    if (!volume) continue;
    const nonce = crypto.randomBytes(8).toString("hex");
    const r = await env.ctx.sh(
      s.name,
      `printf %s ${nonce} > ${volume.target}/${MARKER} && cat ${volume.target}/${MARKER}`,
    );
    if (r.exitCode === 0 && r.stdout === nonce) out[s.name] = nonce;
    else env.progress.line(`  could not mark ${s.name}'s volume: ${r.stderr.trim()}`);
  }
  return out;
}

async function readMarkers(
  env: FaultEnv,
  markers: Record<string, string>,
): Promise<Record<string, { ok: boolean; evidence: string }>> {
  const out: Record<string, { ok: boolean; evidence: string }> = {};
  for (const [service, nonce] of Object.entries(markers)) {
    const target = env.ctx.spec(service).volumes[0].target;
    const r = await env.ctx
      .sh(service, `cat ${target}/${MARKER}`)
      .catch((e) => ({ exitCode: -1, stdout: "", stderr: errorText(e) }));
    const ok = r.exitCode === 0 && r.stdout === nonce;
    out[service] = {
      ok,
      evidence: ok
        ? `marker ${nonce} written to ${target} before the fault, read back from the new task`
        : `marker ${nonce} not read back (${r.exitCode}: ${(r.stdout || r.stderr).trim().slice(0, 120)})`,
    };
  }
  return out;
}

export async function workerLoss(env: FaultEnv): Promise<FaultReport> {
  const { node, note } = await pickWorker(env, await view(env));
  env.progress.line(
    `  target ${node.name} (${node.address}): ${note}; unplugged, then dockerd, containerd, shims and containers SIGKILLed`,
  );
  return loseNode(env, "worker-loss", node, note, []);
}

export async function storageNodeLoss(env: FaultEnv): Promise<FaultReport> {
  const v = await view(env);
  const influx = serving(v, "influxdb")[0];
  const node = influx ? env.cluster.byId(influx.node) : undefined;
  if (!node) return { ...blank("storage-node-loss"), error: "no node runs InfluxDB" };
  const pinned = await pinnedTo(env, node);
  const note = `${node.name} holds InfluxDB's data; pinned to it by placement: ${pinned.map((s) => s.name).join(", ") || "nothing"}`;
  env.progress.line(`  target ${node.name} (${node.address}): ${note}`);
  return loseNode(env, "storage-node-loss", node, note, pinned);
}

export async function drain(env: FaultEnv): Promise<FaultReport> {
  const v0 = await view(env);
  const { node, note } = await pickWorker(env, v0);
  env.progress.line(`  target ${node.name}: ${note}; availability drain, then active again`);
  const before = serving(v0);
  const spared = gatewayNodes(env, v0, node.id);
  const firstServed = new Map<string, number>();
  let t0 = Date.now();
  let report: FaultReport = { ...blank("drain", node.name), notes: [note] };
  try {
    await env.client.between(async () => {
      t0 = Date.now();
      await env.cluster.updateNode(node, (spec) => ({ ...spec, Availability: "drain" }));
    });
    const done = await waitFor(
      env,
      t0,
      before,
      (v) => settled(env, v, []) && !serving(v).some((t) => t.node === node.id),
      firstServed,
    );
    const moved = rescheduled(env, before, node.id, done.view, firstServed);
    for (const m of moved)
      env.progress.line(
        `  ${m.service}: ${m.from} -> ${m.to ?? "(pending)"}${m.seconds !== undefined ? ` serving after ${m.seconds} s` : ""}${m.withoutItsData ? " WITHOUT its data" : ""}`,
      );
    await env.cluster.updateNode(node, (spec) => ({ ...spec, Availability: "active" }));
    await sleep(2000);
    report = { ...report, recoverySeconds: done.seconds, rescheduled: moved };
  } catch (e) {
    report = { ...report, error: errorText(e) };
    await env.cluster.updateNode(node, (spec) => ({ ...spec, Availability: "active" })).catch(() => undefined);
  }
  return { ...report, ...(await requestsDuring(env, t0, spared)) };
}

/** `docker service update --force` of the broker; back when a device connects over MQTTS again. */
export async function brokerRestart(env: FaultEnv): Promise<FaultReport> {
  const v0 = await view(env);
  const before = serving(v0);
  const spared = gatewayNodes(env, v0);
  const firstServed = new Map<string, number>();
  const old = serving(v0, "mosquitto")[0];
  let t0 = Date.now();
  let report: FaultReport = {
    ...blank("broker-restart", old ? nodeName(env, old.node) : undefined),
    notes: ["docker service update --force mosquitto: a new task replaces the running one (stop-first)"],
  };
  try {
    const svc = env.cluster.manager.docker.getService("mosquitto");
    await env.client.between(async () => {
      t0 = Date.now();
      const info = await svc.inspect();
      const spec = info.Spec;
      await svc.update({
        version: info.Version.Index,
        ...spec,
        TaskTemplate: { ...spec.TaskTemplate, ForceUpdate: (spec.TaskTemplate?.ForceUpdate ?? 0) + 1 },
      });
    });
    const running = await waitFor(
      env,
      t0,
      before,
      (v) => serving(v, "mosquitto").some((t) => t.id !== old?.id),
      firstServed,
    );
    const fresh = serving(running.view, "mosquitto").find((t) => t.id !== old?.id);
    const connected = fresh ? await deviceConnects(env, env.cluster.byId(fresh.node)!.address, t0) : null;
    env.progress.line(
      `  new broker task serving after ${running.seconds ?? "never"} s on ${fresh ? nodeName(env, fresh.node) : "?"}; a device connected over MQTTS after ${connected ?? "never"} s`,
    );
    report = {
      ...report,
      recoverySeconds: connected,
      rescheduled:
        old && fresh
          ? [
              {
                service: "mosquitto",
                from: nodeName(env, old.node),
                to: nodeName(env, fresh.node),
                seconds: running.seconds ?? undefined,
              },
            ]
          : [],
      notes: [...report.notes, "recovery counts until a field device on this host connected over MQTTS again"],
    };
  } catch (e) {
    report = { ...report, error: errorText(e) };
  }
  await env.ctx.refreshTasks().catch(() => undefined);
  return { ...report, ...(await requestsDuring(env, t0, spared)) };
}

async function deviceConnects(env: FaultEnv, host: string, t0: number): Promise<number | null> {
  const device = deviceIdentity(env.ctx);
  if (!device) return null;
  const leaf = env.ctx.leaf(mqttClientCertName(device));
  const deadline = Date.now() + env.recoveryTimeoutMs;
  while (Date.now() < deadline) {
    const c = await connectDevice({
      host,
      port: env.ctx.published("mosquitto", "mqtts"),
      servername: env.topology.tls.mqttHostname,
      ca: env.ctx.caPem,
      cert: leaf.certPem,
      key: leaf.keyPem,
      clientId: `${device}-restart-${Date.now()}`,
      timeoutMs: 3000,
    });
    if (c.connected) {
      await endDevice(c.client);
      return seconds(t0);
    }
    await sleep(500);
  }
  return null;
}
