/**
 * `npm run e2e:cluster`: deploys the real program (index.ts) with a prod-shaped stack config
 * (Pulumi.cluster.yaml) onto a swarm of 3 managers and 3 workers built on this machine
 * (e2e/cluster/node.sh: one network namespace and one dockerd per node), and proves across nodes
 * what the single-node run proves on one: declared flows connect, undeclared pairs are blocked,
 * names resolve to the right tasks; then injects faults (worker loss, drain, broker restart, loss
 * and return of the storage node) while a client keeps requesting Grafana through the gateway.
 * Writes .e2e/cluster-report.json, prints a summary, exits non-zero when a required check fails,
 * and always removes the whole cluster (also on failure, a signal or the deadline).
 *
 * The program runs under e2e/harness (the test stand-in for the Pulumi providers) against node 1,
 * a manager, exactly as `npm run e2e` runs it against the single-node engine.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createHarness, demux, runProgram } from "../harness";
import { planNetworks } from "../../model/networks";
import { Topology } from "../../model/types";
import { PROJECT_ROOT, readStackConfig } from "../../tools/stackFile";
import { ClusterAccess, StackContext } from "../lib/context";
import { capture, runStreamed } from "../lib/host";
import { environmentFacts } from "../lib/environment";
import { concludeWith, exitWith, loadTopology, RunLifecycle } from "../lib/lifecycle";
import { Progress } from "../lib/progress";
import { errorText, sleep } from "../lib/util";
import { balancedRoute, routeHost, routePath } from "../probes/gateway";
import { planProbes, ProbePlan, ProgramExports } from "../probes/intent";
import { GatewayClient } from "./client";
import { probeEncryption } from "./encryption";
import { brokerRestart, drain, FaultEnv, storageNodeLoss, workerLoss } from "./faults";
import { MemorySampler } from "./memory";
import { ClusterPlan, LocalCluster, NODE_SH } from "./nodes";
import { allowedAcrossNodes, dnsFromEveryNode, forbiddenAcrossNodes } from "./probes";
import { ClusterReport, FaultReport, NOT_MEASURED, summary, verdict } from "./report";
import { backlogStored, DeviceStream, deviceStream, lostIn, settleTelemetry } from "./telemetry";
import { INFLUXDB_SETUP } from "../../model/apps/influxdb";
import { shortOf, swarmView } from "./swarmView";

const STACK = "cluster";
const OUT_DIR = path.join(PROJECT_ROOT, ".e2e");
const REPORT = path.join(OUT_DIR, "cluster-report.json");
const LOG = path.join(OUT_DIR, "cluster.log");
const LOGS = path.join(OUT_DIR, "cluster-logs");
const STAND_IN_LABEL = "iot-swarm-net.e2e-image.stand-in";
/** The whole run, image build included; about 5 minutes with images cached, 7 on a fresh machine. */
const DEADLINE_S = Number(process.env.IOT_CLUSTER_DEADLINE_S ?? 1200);

/** 3 managers (raft survives one lost) that run no tasks, 3 workers; node 6 holds the data. */
const PLAN: ClusterPlan = {
  managers: 3,
  workers: 3,
  heartbeatSeconds: Number(process.env.IOT_CLUSTER_HEARTBEAT_S ?? 1),
  drainManagers: true,
  labels: { 6: { "iot.storage": "true", "iot.state": "true" } },
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Mutable<Omit<ClusterReport, "passed" | "failures">>;

/** One cluster run: its log, its report so far, the cluster it built, and what the teardown must stop. */
interface ClusterRun {
  readonly progress: Progress;
  readonly report: Draft;
  readonly durations: Record<string, number>;
  readonly life: RunLifecycle<ClusterReport>;
  readonly cluster: LocalCluster;
  readonly memory: MemorySampler;
  /** Set once the faults' traffic starts; the teardown stops it. */
  client?: GatewayClient;
  telemetry?: DeviceStream;
}

function emptyReport(startedAt: Date): Draft {
  return {
    allowed: { ok: 0, total: 0, crossNode: { ok: 0, total: 0 } },
    forbidden: { blocked: 0, total: 0, crossNode: { blocked: 0, total: 0 } },
    dns: { ok: 0, total: 0, nodes: {} },
    faults: [],
    telemetry: NOT_MEASURED,
    placement: {},
    cluster: {},
    standIns: [],
    run: { runId: "", startedAt: startedAt.toISOString(), stack: STACK, durations: {} },
    environment: {},
    notes: [],
    checks: [],
    details: {},
  };
}

/** What is left of the cluster on this host after `node.sh down`. */
function leftovers(): string[] {
  const out: string[] = [];
  const netns = capture("ip", ["netns", "list"])
    .stdout.split("\n")
    .filter((l) => l.startsWith("iot-cluster"));
  if (netns.length) out.push(`namespaces ${netns.map((l) => l.split(" ")[0]).join(" ")}`);
  if (capture("ip", ["link", "show", "iot-cluster-h"]).status === 0) out.push("host leg iot-cluster-h");
  const pids = capture("bash", [NODE_SH, "pids"]).stdout.trim();
  if (pids) out.push(`processes ${pids.split("\n").join(" ")}`);
  for (const h of fs.existsSync("/sys/fs/cgroup") ? fs.readdirSync("/sys/fs/cgroup") : [])
    if (fs.existsSync(`/sys/fs/cgroup/${h}/iot-cluster`)) out.push(`cgroup ${h}/iot-cluster`);
  for (const d of ["/var/lib/iot-cluster", "/run/iot-cluster"]) if (fs.existsSync(d)) out.push(`directory ${d}`);
  return out;
}

const nodeName = (cluster: LocalCluster, id: string) => cluster.byId(id)?.name ?? id.slice(0, 12);

/** Stops the traffic, keeps the daemons' logs, and removes every node, namespace, daemon, cgroup and data root. */
async function teardown(run: ClusterRun): Promise<void> {
  const { progress, report, cluster } = run;
  const done = progress.step("teardown: every node, namespace, daemon, cgroup, data root and image of the cluster");
  await run.client?.stop().catch(() => undefined);
  await run.telemetry?.stop(0).catch(() => undefined);
  report.memory = { ...run.memory.stop() };
  // The daemons' logs outlive their data roots, for a failed run's diagnosis.
  fs.mkdirSync(LOGS, { recursive: true });
  for (const n of cluster.nodes) {
    const log = `/var/lib/iot-cluster/node${n.index}/dockerd.log`;
    if (fs.existsSync(log)) fs.copyFileSync(log, path.join(LOGS, `${n.name}-dockerd.log`));
  }
  const errors: string[] = [];
  await cluster.sh("down").catch((e) => errors.push(errorText(e)));
  report.teardown = { leftovers: leftovers(), errors };
  run.durations.teardown = done();
  progress.line(
    `  ${report.teardown.leftovers.length ? `LEFT: ${report.teardown.leftovers.join(", ")}` : "nothing of the cluster left"}`,
  );
}

/**
 * One step of the run, timed under the first word of its name. A required step's error ends the run; an
 * optional one's becomes a failed check and the run goes on. After a signal or the deadline the teardown
 * owns the cluster: no further step.
 */
async function step<T>(run: ClusterRun, name: string, fn: () => Promise<T>, required = true): Promise<T | undefined> {
  const { progress, life } = run;
  if (life.exiting) throw new Error("stopped");
  const done = progress.step(name);
  try {
    return await fn();
  } catch (e) {
    if (required || life.exiting) throw e;
    run.report.checks.push({
      name: `${name.split(":")[0]} ran to completion`,
      ok: false,
      detail: life.brief(errorText(e)),
    });
    progress.line(`  ERROR: ${life.brief(errorText(e))}`);
    progress.detail(errorText(e));
    return undefined;
  } finally {
    run.durations[name.split(":")[0]] = done();
  }
}

/** The engine packages, the nodes with their daemons, the swarm, and the images on every task node. */
async function buildCluster(run: ClusterRun): Promise<void> {
  const { progress, cluster, memory } = run;
  await step(run, "install: docker.io, debootstrap, iproute2 if missing (e2e/engine.sh install)", () =>
    runStreamed(progress, "engine", "bash", [path.join(__dirname, "../engine.sh"), "install"]),
  );
  await step(run, "nodes: namespaces, hub bridge, host leg, one dockerd per node (e2e/cluster/node.sh)", async () => {
    await cluster.sh("down"); // what a killed earlier run left
    await cluster.up();
    memory.start();
  });
  await step(run, `swarm: init, ${PLAN.managers} managers and ${PLAN.workers} workers join, labels`, async () => {
    await cluster.formSwarm();
    await cluster.labelNodes();
    for (const n of cluster.nodes)
      progress.line(
        `  ${n.name} ${n.address} ${n.role}${PLAN.drainManagers && n.role === "manager" ? " (drain: runs no tasks)" : ""} ${JSON.stringify(PLAN.labels[n.index] ?? {})}`,
      );
  });
  const builder = cluster.taskNodes[0];
  await step(run, `images: e2e/images/build.sh on ${builder.name}, docker save | load to the other task nodes`, () =>
    buildImages(run),
  );
}

/** Builds the images on the first task node and copies them to the other task nodes. */
async function buildImages(run: ClusterRun): Promise<void> {
  const { progress, cluster } = run;
  const builder = cluster.taskNodes[0];
  await runStreamed(progress, "images", "bash", [path.join(__dirname, "../images/build.sh")], {
    DOCKER_HOST: `unix://${builder.socket}`,
  });
  const images = capture("docker", [
    "-H",
    `unix://${builder.socket}`,
    "image",
    "ls",
    "--format",
    "{{.Repository}}:{{.Tag}}",
    "iot-e2e/*",
  ])
    .stdout.split("\n")
    .filter((i) => i.endsWith(":e2e"));
  const t = await cluster.distributeImages(builder, cluster.taskNodes.slice(1), images);
  progress.line(
    `  ${images.length} images copied to ${cluster.taskNodes.length - 1} nodes: save ${t.save.toFixed(1)} s, load ${t.load.toFixed(1)} s`,
  );
}

/** What this kernel and cluster can do, and how the run differs from prod because of it. */
async function describeCluster(run: ClusterRun, topology: Topology): Promise<void> {
  const { report, cluster } = run;
  const { kernel, environment } = await environmentFacts(cluster.manager.docker, topology);
  report.environment = environment;
  report.notes.push(
    `overlay encryption is OFF (prod: on): the kernel ${kernel.esp ? "has" : "has no"} IPsec ESP (${kernel.espDetail}), and an encrypted overlay drops all cross-node traffic without the AEAD rfc4106(gcm(aes)); the encrypted data plane is not what this run proves`,
    `publishing in host mode with dnsrr endpoints (prod: ingress and VIPs): IPVS is ${kernel.ipvs ? "present" : "absent"}; the gateway's clients resolve it to every worker's address`,
    "managers are manager-only (availability drain): every task runs on the 3 workers",
    "faults start between two requests of the client: a request in flight on a connection to a node at the instant it is cut off is lost with the node whatever the stack does (the client does not retry)",
    "telemetry: a field device on this host publishes a QoS 1 reading every 200 ms over mTLS to the broker's published port from before the first fault until after the last; InfluxDB is read back at the end (the stand-in's read-back route); a fault's lostMessages are the readings sent while it lasted that InfluxDB never stored",
    "telemetry between faults: the next fault starts once InfluxDB holds every reading sent so far (telemetryCaughtUpSeconds, up to 120 s): Node-RED acknowledges a reading to the broker on receipt and holds it in memory until written, so a node loss while it holds a broker restart's backlog would lose that backlog",
  );
  report.cluster = {
    managers: PLAN.managers,
    workers: PLAN.workers,
    heartbeatSeconds: PLAN.heartbeatSeconds,
    nodes: cluster.nodes.map((n) => ({
      name: n.name,
      address: n.address,
      role: n.role,
      availability: PLAN.drainManagers && n.role === "manager" ? "drain" : "active",
      labels: PLAN.labels[n.index] ?? {},
    })),
    network:
      "namespaces cabled to one bridge in a hub namespace; no default route in the cluster: nothing leaves this machine",
  };
}

/** Applies the real program through the first manager; the context reaches each task on its own node. */
async function deploy(
  run: ClusterRun,
  topology: Topology,
  config: Record<string, string>,
): Promise<{ ctx: StackContext; exports: ProgramExports }> {
  const { progress, cluster } = run;
  let ctx: StackContext | undefined;
  const access: ClusterAccess = {
    engineOf: (id) => cluster.byId(id)?.docker,
    publishedHost: (service) => {
      const t = ctx?.tasks[service]?.[0];
      const n = t ? cluster.byId(t.node) : undefined;
      if (!n) throw new Error(`no running task of ${service} to reach its published ports on`);
      return n.address;
    },
  };
  const outputs = await step(
    run,
    `deploy: the real program (index.ts) with Pulumi.${STACK}.yaml, through ${cluster.manager.name}`,
    async () => {
      let converged = 0;
      const harness = createHarness({
        docker: cluster.manager.docker,
        convergeTimeoutMs: 240_000,
        log: (l) => {
          progress.detail(`[harness] ${l}`);
          if (/ converged$/.test(l))
            progress.line(`  ${l.replace(/^service /, "")} (${++converged}/${topology.services.length})`);
          else if (/^FAILED/.test(l)) progress.line(`  ${l}`);
        },
      });
      run.report.run = { ...run.report.run, runId: harness.runId };
      const { outputs: out } = await runProgram(harness, () => import(path.join(PROJECT_ROOT, "index")), {
        stack: STACK,
        config,
      });
      const exports = out as unknown as ProgramExports;
      ctx = new StackContext(harness, topology, planNetworks(topology), exports, progress, access);
      return out;
    },
  );
  if (!outputs || !ctx) throw new Error("the program did not deploy");
  return { ctx, exports: outputs as unknown as ProgramExports };
}

/** Waits until every service runs its replicas; records placement and which images are stand-ins. */
async function waitHealthy(run: ClusterRun, ctx: StackContext): Promise<void> {
  const { progress, report, cluster } = run;
  const { topology } = ctx;
  await cluster.waitUntil(
    "every service running its replicas",
    180_000,
    async () =>
      shortOf(
        await swarmView(
          cluster.manager.docker,
          topology.services.map((s) => s.name),
        ),
        topology,
      ).length === 0,
  );
  await ctx.refreshTasks();
  for (const s of topology.services) {
    report.placement[s.name] = ctx.tasks[s.name].map((t) => nodeName(cluster, t.node));
    progress.line(
      `  ${s.name.padEnd(14)} ${ctx.tasks[s.name].length}/${s.replicas} on ${report.placement[s.name].join(", ")}`,
    );
  }
  const worker = cluster.taskNodes[0].docker;
  const images = await Promise.all(
    topology.services.map(
      async (s) => [s.name, (await worker.getImage(s.image).inspect()).Config?.Labels?.[STAND_IN_LABEL]] as const,
    ),
  );
  report.standIns = images.filter(([, u]) => u).map(([n]) => n);
  placementChecks(report, cluster, ctx, topology);
}

/**
 * Every name from every task. Swarm's gossip spreads each node's tasks to the others: right after the
 * deploy converged a node may not know a task on another one yet. Asks until every answer is right (or 90 s).
 */
async function dnsAcrossNodes(run: ClusterRun, ctx: StackContext, probes: ProbePlan): Promise<void> {
  const { progress, report } = run;
  const name = (id: string) => nodeName(run.cluster, id);
  const t0 = Date.now();
  let r = await dnsFromEveryNode(ctx, probes.dns, name);
  let rounds = 1;
  while (r.summary.ok < r.summary.total && Date.now() - t0 < 90_000) {
    await sleep(2000);
    r = await dnsFromEveryNode(ctx, probes.dns, name);
    rounds++;
  }
  const converged = r.summary.ok === r.summary.total ? (Date.now() - t0) / 1000 : null;
  report.details.dnsConvergence = { rounds, seconds: converged };
  progress.line(
    `  every node's answers right ${converged === null ? "NEVER (90 s)" : `after ${converged.toFixed(1)} s (${rounds} round${rounds > 1 ? "s" : ""})`}`,
  );
  report.dns = r.summary;
  report.details.dns = r.results;
  for (const [n, x] of Object.entries(r.summary.nodes))
    progress.line(`  ${n}: ${x.ok}/${x.total} lookups answered with the right tasks`);
  for (const x of r.results.filter((y) => !y.ok)) progress.line(`  FAIL ${JSON.stringify(x)}`);
}

/** Every declared flow from every client task, and TCP to every server task. */
async function allowedFlows(run: ClusterRun, ctx: StackContext, probes: ProbePlan): Promise<void> {
  const { progress, report } = run;
  const r = await allowedAcrossNodes(ctx, probes.flows, (id) => nodeName(run.cluster, id));
  report.allowed = r.summary;
  report.details.allowed = r.results;
  for (const x of r.results)
    progress.line(
      `  ${x.ok ? "ok  " : "FAIL"} ${`${x.from}@${x.fromNode}`.padEnd(34)} ${x.flow.padEnd(30)} ${x.evidence.join("; ").slice(0, 300)}`,
    );
  progress.line(
    `  ${r.summary.ok}/${r.summary.total} flows; cross-node connects ${r.summary.crossNode.ok}/${r.summary.crossNode.total} open`,
  );
}

/** Every undeclared ordered pair from every task of the first. */
async function forbiddenPairs(run: ClusterRun, ctx: StackContext, probes: ProbePlan): Promise<void> {
  const { progress, report } = run;
  const r = await forbiddenAcrossNodes(
    ctx,
    probes.forbidden,
    (id) => nodeName(run.cluster, id),
    (l) => progress.line(`  ${l}`),
  );
  report.forbidden = r.summary;
  report.details.forbidden = r.results;
  progress.line(
    `  ${r.summary.blocked}/${r.summary.total} blocked; cross-node ${r.summary.crossNode.blocked}/${r.summary.crossNode.total}`,
  );
}

/** The segmentation and discovery probes, each from every task (so from every node a service runs on). */
async function probeAcrossNodes(run: ClusterRun, ctx: StackContext, exports: ProgramExports): Promise<void> {
  const probes = planProbes(ctx.topology, exports);
  for (const p of probes.problems) run.report.checks.push({ name: "model and exports agree", ok: false, detail: p });
  await step(
    run,
    "dns: every name every service may use, from every task (so from every node a service runs on)",
    () => dnsAcrossNodes(run, ctx, probes),
    false,
  );
  await step(
    run,
    "allowed: every declared flow from every client task, and TCP to every server task",
    () => allowedFlows(run, ctx, probes),
    false,
  );
  await step(
    run,
    "forbidden: every undeclared ordered pair from every task of the first",
    () => forbiddenPairs(run, ctx, probes),
    false,
  );
}

/** Starts the gateway client and the field device's telemetry stream that run through every fault. */
async function startTraffic(
  run: ClusterRun,
  ctx: StackContext,
): Promise<{ client: GatewayClient; telemetry: DeviceStream }> {
  const { progress, report, cluster } = run;
  const route = balancedRoute(ctx);
  if (!route) throw new Error("no route to a replicated service: nothing for the faults' client to request");
  const workers = cluster.workers.map((n) => n.address);
  const client = new GatewayClient({
    addresses: workers,
    port: ctx.published("gateway", "https"),
    host: routeHost(ctx, route),
    path: routePath(ctx, route),
    ca: ctx.caPem,
  });
  run.client = client;
  report.details.client = {
    route: `https://${routeHost(ctx, route)}${routePath(ctx, route)}`,
    addresses: workers,
    port: ctx.published("gateway", "https"),
    behaviour:
      "one request after another, 25 ms apart, each on a new connection; next address only on a failed TCP connect (2 s connect timeout)",
  };
  const telemetry = deviceStream(ctx, () => ctx.publishedHost("mosquitto"));
  run.telemetry = telemetry;
  telemetry.start();
  client.start();
  await sleep(3000);
  progress.line(
    `  telemetry: ${telemetry.sent.length - telemetry.unacknowledged}/${telemetry.sent.length} readings acknowledged by the broker before the faults`,
  );
  const warm = client.window(0, Date.now());
  progress.line(`  client: ${warm.filter((r) => r.ok).length}/${warm.length} requests served before the faults`);
  return { client, telemetry };
}

const FAULTS = [
  [
    "worker-loss: unplug a worker running a gateway and a Grafana replica, kill its daemon and containers, then restart it",
    workerLoss,
  ],
  ["drain: drain a worker running a gateway replica, then make it active again", drain],
  ["broker-restart: force a new broker task; back when a device connects over MQTTS", brokerRestart],
  ["storage-node-loss: unplug and kill the node holding InfluxDB's data, leave it away, restart it", storageNodeLoss],
] as const;

/** Injects each fault in turn while the traffic runs; the next starts once InfluxDB caught up on the readings. */
async function injectFaults(
  run: ClusterRun,
  ctx: StackContext,
  client: GatewayClient,
  telemetry: DeviceStream,
): Promise<void> {
  const env: FaultEnv = {
    cluster: run.cluster,
    ctx,
    client,
    progress: run.progress,
    topology: ctx.topology,
    recoveryTimeoutMs: 180_000,
    holdSeconds: Number(process.env.IOT_CLUSTER_HOLD_S ?? 20),
  };
  for (const [name, fault] of FAULTS) {
    const r = await step(run, name, () => fault(env), false);
    if (!r) continue;
    run.report.faults.push(r);
    printFault(run.progress, r);
    await ctx.refreshTasks().catch(() => undefined);
    const caughtUp = await backlogStored(ctx, telemetry, INFLUXDB_SETUP.bucket, 120_000);
    (r as { telemetryCaughtUpSeconds?: number | null }).telemetryCaughtUpSeconds = caughtUp;
    run.progress.line(`  telemetry: every reading sent so far stored ${caughtUp ?? "NOT within 120"} s after recovery`);
  }
  await client.stop();
}

function printFault(progress: Progress, r: FaultReport): void {
  progress.line(
    `  ${r.failedRequests}/${r.requests} requests failed; recovered in ${r.recoverySeconds ?? "never"} s; latency p50 ${r.latencyMs?.p50} ms, max ${r.latencyMs?.max} ms; served via ${JSON.stringify(r.servedVia)}`,
  );
  for (const f of r.failures) progress.line(`    failed: ${f}`);
  for (const l of r.gatewayStarts ?? []) progress.line(`    gateway started: ${l}`);
  for (const f of (r.slow ?? []).slice(0, 10)) progress.line(`    slow: ${f}`);
}

/** 5 s more readings, then InfluxDB read back: what was stored, and each fault's lost readings. */
async function countTelemetry(run: ClusterRun, ctx: StackContext, stream: DeviceStream): Promise<void> {
  const { progress, report } = run;
  await sleep(5000);
  await stream.stop();
  const { counts, missing } = await settleTelemetry(ctx, stream, INFLUXDB_SETUP.bucket, 120_000);
  report.telemetry = counts;
  for (const f of report.faults)
    if (f.window)
      (f as { lostMessages: number | string }).lostMessages = lostIn(stream.sent, missing, f.window.from, f.window.to);
  progress.line(
    `  ${counts.sent} sent, ${counts.stored} stored, ${counts.duplicates} duplicates, ${counts.unacknowledged} unacknowledged; all stored ${counts.drainSeconds ?? "NEVER"} s after sending ended; device reconnects ${stream.reconnects}${stream.lastError ? ` (last error: ${stream.lastError})` : ""}`,
  );
  const t0 = stream.sent[0]?.at ?? 0;
  for (const f of report.faults)
    progress.line(
      `  ${f.name}: ${f.lostMessages} readings lost (window +${(((f.window?.from ?? 0) - t0) / 1000).toFixed(1)} s to +${(((f.window?.to ?? 0) - t0) / 1000).toFixed(1)} s)`,
    );
  for (const m of counts.missing) progress.line(`  missing: ${m}`);
  // The path's logs (every container of the broker and Node-RED, exited ones too), for a diagnosis.
  await saveServiceLogs(run.cluster, ["mosquitto", "node-red"], LOGS);
}

/** A note naming the stateful services a fault moved to another node without their volume's data. */
function noteMovedState(report: Draft): void {
  const moved = report.faults.flatMap((f) =>
    f.rescheduled.filter((m) => m.withoutItsData).map((m) => `${m.service} (${f.name})`),
  );
  if (moved.length)
    report.notes.push(
      `stateful services without a placement constraint moved to another node without their volume's data: ${[...new Set(moved)].join(", ")}; pinning them (iot.state) is the program's to do`,
    );
}

async function steps(run: ClusterRun): Promise<void> {
  await buildCluster(run);
  const { config } = readStackConfig(STACK);
  const topology = loadTopology(config);
  await describeCluster(run, topology);
  await step(
    run,
    "encryption: the program's encrypted overlay between two workers, captured on the hub bridge",
    async () => {
      run.report.encryption = await probeEncryption({
        cluster: run.cluster,
        topology,
        progress: run.progress,
        outDir: OUT_DIR,
      });
    },
    false,
  );
  const { ctx, exports } = await deploy(run, topology, config);
  await step(
    run,
    "healthy: every service runs its replicas (healthy: a task with a healthcheck reports running once healthy)",
    () => waitHealthy(run, ctx),
  );
  await probeAcrossNodes(run, ctx, exports);
  const { client, telemetry } = await startTraffic(run, ctx);
  await injectFaults(run, ctx, client, telemetry);
  await step(
    run,
    "telemetry: 5 s more readings, then InfluxDB read back: every reading stored once, none lost in a fault",
    () => countTelemetry(run, ctx, telemetry),
    false,
  );
  noteMovedState(run.report);
}

async function main(): Promise<number> {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.rmSync(LOGS, { recursive: true, force: true });
  const progress = new Progress(LOG);
  const report = emptyReport(new Date());
  const durations = report.run.durations as Record<string, number>;
  const run: ClusterRun = {
    progress,
    report,
    durations,
    memory: new MemorySampler(),
    cluster: new LocalCluster(PLAN, progress),
    life: new RunLifecycle<ClusterReport>({
      progress,
      reportPath: REPORT,
      logPath: LOG,
      deadlineS: DEADLINE_S,
      durations,
      teardown: () => teardown(run),
      conclude: concludeWith(report, verdict),
      summary,
    }),
  };
  return run.life.run(() => steps(run));
}

/** Logs of every container (running or exited) of `services` on every task node, into `dir`. */
async function saveServiceLogs(cluster: LocalCluster, services: readonly string[], dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  for (const n of cluster.taskNodes)
    for (const service of services) {
      const containers = await n.docker
        .listContainers({ all: true, filters: { label: [`com.docker.swarm.service.name=${service}`] } })
        .catch(() => []);
      for (const c of containers) {
        const buf = (await n.docker
          .getContainer(c.Id)
          .logs({ stdout: true, stderr: true, timestamps: true })
          .catch(() => Buffer.from(""))) as unknown as Buffer;
        const { stdout, stderr } = demux(buf);
        fs.writeFileSync(path.join(dir, `${service}-${n.name}-${c.Id.slice(0, 12)}.log`), `${stdout}${stderr}`);
      }
    }
}

/** Prod's placement, as deployed: the gateway on workers, Grafana spread, the data on the storage node, managers free. */
function placementChecks(report: Draft, cluster: LocalCluster, ctx: StackContext, topology: Topology): void {
  const nodesOf = (s: string) => (ctx.tasks[s] ?? []).map((t) => cluster.byId(t.node));
  const gw = nodesOf("gateway");
  report.checks.push({
    name: "Gateway replicas run on workers only, one per node",
    ok: gw.length > 0 && gw.every((n) => n?.role === "worker") && new Set(gw).size === gw.length,
    detail: gw.map((n) => `${n?.name} (${n?.role})`).join(", "),
  });
  for (const s of topology.services.filter((x) => x.replicas > 1 && x.name !== "gateway")) {
    const nodes = nodesOf(s.name);
    const spread = new Set(nodes).size === Math.min(nodes.length, cluster.taskNodes.length);
    report.checks.push({
      name: `${s.name}: ${s.replicas} replicas spread over nodes`,
      ok: nodes.length === s.replicas && spread,
      detail: nodes.map((n) => n?.name).join(", "),
    });
  }
  const storage = Object.entries(cluster.plan.labels)
    .filter(([, l]) => l["iot.storage"] === "true")
    .map(([i]) => cluster.node(Number(i)).name);
  for (const s of topology.services.filter((x) => x.placement.some((p) => p.includes("iot.storage")))) {
    const nodes = nodesOf(s.name).map((n) => n?.name);
    report.checks.push({
      name: `${s.name} runs on the storage node`,
      ok: nodes.length > 0 && nodes.every((n) => n !== undefined && storage.includes(n)),
      detail: `${nodes.join(", ")} (labelled iot.storage=true: ${storage.join(", ")})`,
    });
  }
  if (cluster.plan.drainManagers) {
    const onManagers = topology.services.flatMap((s) =>
      nodesOf(s.name)
        .filter((n) => n?.role === "manager")
        .map((n) => `${s.name}@${n?.name}`),
    );
    report.checks.push({
      name: "Managers run no tasks",
      ok: onManagers.length === 0,
      detail: onManagers.join(", ") || "none",
    });
  }
}

exitWith("e2e:cluster", main);
