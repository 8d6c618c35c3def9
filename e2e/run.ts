/**
 * `npm run e2e`: deploys the real program (index.ts, stack config Pulumi.e2e.yaml) onto a local
 * single-node Docker Swarm and proves that what it declares works: declared flows connect,
 * undeclared pairs are blocked, discovery answers with the right tasks, internal networks have no
 * egress, TLS and mTLS hold, gateway routes, load balancing and failover work, and only the
 * declared ports listen on the host. Writes .e2e/report.json, prints a summary, exits non-zero
 * when a required check fails, and always removes what it created (also on failure or a signal).
 *
 * The program runs in-process under `pulumi.runtime.setMocks` with e2e/harness, a test harness
 * that stands in for the Pulumi docker, tls and random providers (Docker Engine API, real X.509,
 * CSPRNG passwords). `pulumi up` does not use it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Docker from "dockerode";
import { createHarness, E2eHarness, loadProgram, removeAllLabelled, runProgram, waitForService } from "./harness";
import { planNetworks } from "../model/networks";
import { Topology } from "../model/types";
import { PROJECT_ROOT, readStackConfig } from "../tools/stackFile";
import { containmentRejected, installContainment, removeContainment } from "./lib/containment";
import { environmentFacts } from "./lib/environment";
import { StackContext } from "./lib/context";
import { concludeWith, exitWith, loadTopology, RunLifecycle } from "./lib/lifecycle";
import { serviceOf } from "./lib/services";
import { runStreamed } from "./lib/host";
import { Progress } from "./lib/progress";
import { errorText, sleep } from "./lib/util";
import { HostPortSnapshot, newPorts, snapshotHostPorts } from "./probes/hostPorts";
import { planProbes, ProbePlan, ProgramExports } from "./probes/intent";
import { Deployed, Draft, E2eRun, intentDetails, runProbes } from "./probeSteps";
import { E2eReport, summary, verdict } from "./report";

const STACK = "e2e";
const OUT_DIR = path.join(PROJECT_ROOT, ".e2e");
const REPORT = path.join(OUT_DIR, "report.json");
const LOG = path.join(OUT_DIR, "e2e.log");
const STAND_IN_LABEL = "iot-swarm-net.e2e-image.stand-in";
/** The whole run, engine install and image build included, must finish well inside CI's 15 minutes. */
const DEADLINE_S = Number(process.env.IOT_E2E_DEADLINE_S ?? 1800);

function emptyReport(startedAt: Date): Draft {
  return {
    allowed: { ok: 0, total: 0 },
    forbidden: { blocked: 0, total: 0 },
    dns: { ok: 0, total: 0 },
    tls: { mqttsOk: false, plaintextRefused: false, untrustedClientRefused: false },
    routes: { ok: 0, total: 0 },
    lb: { perReplica: {} },
    failover: { requests: 0, failedRequests: 0, recoverySeconds: null },
    internalEgressBlocked: false,
    hostPorts: { expected: [], found: [] },
    standIns: [],
    run: { runId: "", startedAt: startedAt.toISOString(), stack: STACK, durations: {} },
    environment: {},
    notes: [],
    checks: [],
    details: {},
  };
}

async function leftovers(docker: Docker): Promise<string[]> {
  const f = { filters: { label: ["iot-swarm-net.e2e"] } };
  return [
    ...(await docker.listServices(f)).map((s) => `service ${s.Spec?.Name}`),
    ...(await docker.listNetworks(f)).map((n) => `network ${n.Name}`),
    ...((await docker.listSecrets(f)) as any[]).map((s) => `secret ${s.Spec?.Name}`),
    ...(await docker.listConfigs(f)).map((c) => `config ${c.Spec?.Name}`),
    ...(await docker.listContainers({ all: true, ...f })).map((c) => `container ${c.Names?.[0]}`),
    ...((await docker.listVolumes(f)).Volumes ?? []).map((v) => `volume ${v.Name}`),
  ];
}

/** Removes what the harness created, twice: the second pass catches what a deploy still in flight registered. */
async function removeCreated(run: E2eRun, h: E2eHarness): Promise<{ removed: number; errors: string[] }> {
  const once = (timeoutMs: number) =>
    h.teardown({ timeoutMs }).catch((e) => ({ removed: [], swept: [], errors: [errorText(e)] }));
  const first = await once(120_000);
  // Interrupted mid-deploy, the program may still register a resource whose inputs just
  // resolved: let it land, then sweep this run's label again.
  await Promise.race([h.idle(500), sleep(5000)]);
  const second = await once(60_000);
  if (first.errors.length) run.report.details.teardownFirstPassErrors = first.errors;
  const removed = first.removed.length + first.swept.length + second.removed.length + second.swept.length;
  // The second pass retries what the first could not remove; what is still there shows in the leftovers.
  return { removed, errors: second.errors };
}

async function teardown(run: E2eRun): Promise<void> {
  const { progress, report } = run;
  const done = progress.step("teardown: remove every service, network, secret, config and volume this run created");
  const { removed, errors } = run.harness ? await removeCreated(run, run.harness) : { removed: 0, errors: [] };
  const rejected = containmentRejected();
  const containmentRuleRemoved = removeContainment();
  let left: string[] = [];
  if (run.docker) left = await leftovers(run.docker).catch((e) => [`could not list: ${errorText(e)}`]);
  report.teardown = { removed, errors, leftovers: left, containmentRuleRemoved };
  report.details.containment = {
    ...(report.details.containment as object | undefined),
    rejectedConnections: rejected,
  };
  run.durations.teardown = done();
  progress.line(
    `  removed ${removed} objects; ${left.length ? `LEFT: ${left.join(", ")}` : "nothing labelled iot-swarm-net.e2e left"}; containment rule ${containmentRuleRemoved ? "removed" : "STILL INSTALLED"}`,
  );
}

/** The engine in swarm mode and the local images; removes what a killed earlier run left. */
async function prepareEngine(run: E2eRun): Promise<Docker> {
  const { progress, durations } = run;
  let done = progress.step("engine: docker engine in single-node swarm mode (e2e/engine.sh)");
  await runStreamed(progress, "engine", "bash", [path.join(__dirname, "engine.sh")]);
  durations.engine = done();

  done = progress.step("images: local images iot-e2e/<service>:e2e (e2e/images/build.sh)");
  await runStreamed(progress, "images", "bash", [path.join(__dirname, "images/build.sh")]);
  durations.images = done();

  const docker = new Docker();
  run.docker = docker;
  const earlier = await removeAllLabelled(docker);
  if (earlier.swept.length) progress.line(`removed leftovers of an earlier run: ${earlier.swept.length} objects`);
  removeContainment();
  return docker;
}

/** What this engine and kernel can do, and what that means for what the run proves. */
async function describeEnvironment(run: E2eRun, docker: Docker, topology: Topology): Promise<void> {
  const { report } = run;
  const { kernel, environment } = await environmentFacts(docker, topology);
  report.environment = environment;
  report.notes.push(
    `overlay encryption is ${topology.encryptOverlays ? "on" : "OFF"} in this stack: the kernel ${kernel.esp ? "has" : "has no"} IPsec ESP (${kernel.espDetail}); prod encrypts overlays, so the encrypted data plane is not what this run proves`,
    `VIP endpoints and the ingress routing mesh are not used: IPVS is ${kernel.ipvs ? "present" : "absent"}; services resolve by DNS round-robin (dnsrr) and publish in host mode`,
    "the program runs under e2e/harness, a test stand-in for the docker, tls and random providers; pulumi up does not use it",
  );
  run.progress.line(
    `kernel: IPVS ${kernel.ipvs ? "present" : "absent"}, IPsec ESP ${kernel.esp ? "present" : "absent"}; stack ${STACK}: encryption ${environment.overlayEncryption}, publish mode ${topology.publishMode}, endpoint modes ${report.environment.endpointModes}`,
  );
}

async function hostPortsBefore(run: E2eRun, topology: Topology): Promise<HostPortSnapshot> {
  const done = run.progress.step("host ports before the deploy");
  const before = await snapshotHostPorts(topology);
  run.progress.line(`  listening before: ${Object.keys(before.sockets).join(" ") || "none"}`);
  run.durations.hostPortsBefore = done();
  return before;
}

/** Keeps every connection a container opens towards outside this host on the machine while the run lasts. */
function contain(run: E2eRun): void {
  installContainment();
  run.report.details.containment = {
    rule: "DOCKER-USER -i docker_gwbridge -m conntrack --ctstate NEW -j REJECT",
    why: "keeps every connection a container opens towards outside this host on the machine while the run lasts",
  };
}

/** Applies the real program under the harness; prints each service as it converges. */
async function deploy(run: E2eRun, topology: Topology, config: Record<string, string>) {
  const { progress } = run;
  const done = progress.step(
    "deploy: the real program (index.ts) with Pulumi.e2e.yaml under the provider stand-in harness",
  );
  let converged = 0;
  const harness = createHarness({
    convergeTimeoutMs: 150_000,
    log: (l) => {
      progress.detail(`[harness] ${l}`);
      if (/ converged$/.test(l))
        progress.line(`  ${l.replace(/^service /, "")} (${++converged}/${topology.services.length})`);
      else if (/^FAILED/.test(l)) progress.line(`  ${l}`);
    },
  });
  run.harness = harness;
  run.report.run = { ...run.report.run, runId: harness.runId };
  const program = loadProgram(path.join(PROJECT_ROOT, "index.ts"));
  const { outputs } = await runProgram(harness, program, { stack: STACK, config });
  const kinds = harness.created.reduce<Record<string, number>>((m, o) => ((m[o.kind] = (m[o.kind] ?? 0) + 1), m), {});
  const created = Object.entries(kinds)
    .map(([k, n]) => `${n} ${k}s`)
    .join(", ");
  const certs = harness.byType("tls:index/locallySignedCert:LocallySignedCert").length;
  progress.line(`  created ${created}; ${certs} certificates issued by the program's CA`);
  run.durations.deploy = done();
  return { harness, program, exports: outputs as unknown as ProgramExports };
}

/** Waits for every service's replicas to be healthy; records which images are stand-ins for upstream ones. */
async function waitHealthy(run: E2eRun, docker: Docker, ctx: StackContext): Promise<void> {
  const { progress, report } = run;
  const { topology, harness } = ctx;
  const done = progress.step("healthy: every service runs all its replicas, healthy");
  await Promise.all(
    topology.services.map(async (s) =>
      waitForService(docker, (await serviceOf(docker, harness.runId, s.name)).ID, {
        timeoutMs: 120_000,
        replicas: s.replicas,
      }),
    ),
  );
  await ctx.refreshTasks();
  for (const s of topology.services) {
    const tasks = ctx.tasks[s.name];
    const addrs = tasks.map((t) => t.addrs.map((a) => `${a.network}=${a.ip}`).join(" ")).join(" | ");
    progress.line(`  ${s.name.padEnd(14)} ${tasks.length}/${s.replicas} healthy  ${addrs}`);
  }
  const images = await Promise.all(
    topology.services.map(
      async (s) => [s.name, (await docker.getImage(s.image).inspect()).Config?.Labels?.[STAND_IN_LABEL]] as const,
    ),
  );
  report.standIns = images.filter(([, upstream]) => upstream).map(([name]) => name);
  report.details.standIns = Object.fromEntries(images.filter(([, u]) => u));
  run.durations.healthy = done();
}

/** Only the declared ports may be newly open on the host; plans the probes from the model and exports. */
async function hostPortsAfter(
  run: E2eRun,
  ctx: StackContext,
  before: HostPortSnapshot,
  exports: ProgramExports,
): Promise<ProbePlan> {
  const { progress, report } = run;
  const done = progress.step("host ports after the deploy");
  const after = await snapshotHostPorts(ctx.topology);
  const probes = planProbes(ctx.topology, exports);
  const opened = newPorts(before, after);
  report.hostPorts = { expected: [...probes.expectedHostPorts], found: opened.found };
  report.details.hostPorts = {
    compared:
      "listening TCP and bound UDP sockets on this host (ss -ltnu, any address) and TCP connects on 127.0.0.1 to every container port, published port and 1883, before and after the deploy; found = open after and not before",
    holders: opened.holders,
    acceptingAfter: after.accepting,
    listeningBefore: Object.keys(before.sockets),
  };
  const holders = Object.entries(opened.holders)
    .map(([k, v]) => `${k} ${v.join(",")}`)
    .join("; ");
  progress.line(
    `  expected ${report.hostPorts.expected.join(" ")}; newly open ${opened.found.join(" ") || "none"} (${holders})`,
  );
  run.durations.hostPorts = done();
  for (const p of probes.problems) report.checks.push({ name: "model and exports agree", ok: false, detail: p });
  report.details.intent = intentDetails(probes);
  return probes;
}

async function steps(run: E2eRun): Promise<void> {
  const docker = await prepareEngine(run);
  const { config } = readStackConfig(STACK);
  const topology = loadTopology(config);
  await describeEnvironment(run, docker, topology);
  const before = await hostPortsBefore(run, topology);
  contain(run);
  const { harness, program, exports } = await deploy(run, topology, config);
  const ctx = new StackContext(harness, topology, planNetworks(topology), exports, run.progress);
  await waitHealthy(run, docker, ctx);
  const probes = await hostPortsAfter(run, ctx, before, exports);
  const deployed: Deployed = { ctx, probes, harness, program, config, stack: STACK };
  await runProbes(run, deployed);
}

async function main(): Promise<number> {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const progress = new Progress(LOG);
  const report = emptyReport(new Date());
  const durations = report.run.durations as Record<string, number>;
  const run: E2eRun = {
    progress,
    report,
    durations,
    life: new RunLifecycle<E2eReport>({
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

exitWith("e2e", main);
