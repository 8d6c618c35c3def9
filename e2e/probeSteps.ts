/**
 * The probe steps of `npm run e2e` (e2e/run.ts), each as one function: run the probe against the
 * deployed stack, put its counts in the report, its evidence in the details and a line per result
 * on the console. A probe that throws fails a check and the run goes on with the next one, so one
 * broken probe never hides what the others would have shown.
 */
import Docker from "dockerode";
import { E2eHarness } from "./harness";
import { mqttClientCertName } from "../model/pki";
import { runDay2 } from "./day2/phase";
import { StackContext } from "./lib/context";
import { RunLifecycle } from "./lib/lifecycle";
import { Progress } from "./lib/progress";
import { errorText, mapLimit } from "./lib/util";
import { probeDns } from "./probes/dns";
import { probeEgress } from "./probes/egress";
import { probeIdentities, summarizeIdentities } from "./probes/identity";
import { probeUndeclaredCallers } from "./probes/undeclaredCallers";
import { balancedRoute, probeFailover, probeLoadBalancing, probeRoutes } from "./probes/gateway";
import { ProbePlan } from "./probes/intent";
import { describePair, flowName, probeFlow, probeForbidden, prometheusTargets } from "./probes/segmentation";
import { Check, probeTls } from "./probes/tls";
import { E2eReport } from "./report";
import { INFLUXDB_SETUP } from "../model/apps/influxdb";
import { deviceStream, settleTelemetry } from "./cluster/telemetry";
import { sleep } from "./lib/util";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** The report while the run fills it in; `passed` and `failures` are decided at the end. */
export type Draft = Mutable<Omit<E2eReport, "passed" | "failures">>;

/** What the steps of one run share. */
export interface E2eRun {
  readonly progress: Progress;
  readonly report: Draft;
  readonly durations: Record<string, number>;
  readonly life: RunLifecycle<E2eReport>;
  /** Set once the deploy starts; the teardown removes what it created. */
  harness?: E2eHarness;
  /** Set once the engine is up; the teardown lists what is left on it. */
  docker?: Docker;
}

/** What the probes need: the deployed stack, what to probe, and the program to apply again on day 2. */
export interface Deployed {
  readonly ctx: StackContext;
  readonly probes: ProbePlan;
  readonly harness: E2eHarness;
  readonly program: () => unknown;
  readonly config: Record<string, string>;
  readonly stack: string;
}

const mark = (ok: boolean) => (ok ? "ok  " : "FAIL");

/** Runs one probe as a timed step; an error fails a check named after the step instead of ending the run. */
async function probeStep(run: E2eRun, name: string, fn: () => Promise<void>): Promise<void> {
  const { progress, life } = run;
  const done = progress.step(name);
  try {
    await fn();
  } catch (e) {
    run.report.checks.push({ name: `${name} ran to completion`, ok: false, detail: life.brief(errorText(e)) });
    progress.line(`  ERROR: ${life.brief(errorText(e))}`);
    progress.detail(errorText(e));
  } finally {
    run.durations[name.split(":")[0]] = done();
  }
}

/** Every probe in order; day 2 last, since it changes the stack the others look at. */
export async function runProbes(run: E2eRun, d: Deployed): Promise<void> {
  await probeStep(run, "dns: service names, aliases and tasks.<service> from every peer's task", () => dns(run, d));
  await probeStep(run, "allowed: every declared flow at the application level, from the client's task", () =>
    allowed(run, d),
  );
  await probeStep(
    run,
    "identity: each Redis, NATS, MQTT and InfluxDB flow's own credential, its limits, and refusals without it; " +
      "callers that share a network with such a server but have no flow to it",
    () => identity(run, d),
  );
  await probeStep(run, "forbidden: every undeclared ordered pair, names and every task address on every port", () =>
    forbidden(run, d),
  );
  await probeStep(
    run,
    "egress: internal-only tasks cannot reach this host's docker_gwbridge address; egress tasks can (control)",
    () => egress(run, d),
  );
  await probeStep(run, "tls: MQTTS with and without client certificates, plaintext, served certificates", () =>
    tls(run, d),
  );
  await probeStep(
    run,
    `telemetry: ${TELEMETRY_READINGS} device readings through the broker and Node-RED into InfluxDB`,
    () => telemetry(run, d),
  );
  await probeStep(run, "routes: every gateway route reaches its backend", () => routes(run, d));
  await probeStep(run, "lb: requests through the gateway spread over every replica", () => loadBalancing(run, d));
  await probeStep(run, "failover: kill one replica while a client sends requests through the gateway", () =>
    failover(run, d),
  );
  await probeStep(run, "day2: apply again unchanged, then each day-2 change under traffic", () => day2(run, d));
}

async function dns({ report, progress }: E2eRun, { ctx, probes }: Deployed): Promise<void> {
  const results = await probeDns(ctx, probes.dns);
  report.dns = { ok: results.filter((r) => r.ok).length, total: results.length };
  report.details.dns = results;
  for (const r of results.filter((x) => !x.ok))
    progress.line(`  FAIL ${r.from}: ${r.name} -> ${r.answer} (expected ${r.expected})`);
  progress.line(`  ${report.dns.ok}/${report.dns.total} lookups answered with the right tasks`);
}

/** Each declared flow at the application level; a Prometheus flow also needs its scrape job's targets up. */
async function allowed({ report, progress }: E2eRun, { ctx, probes }: Deployed): Promise<void> {
  const results = await mapLimit(probes.flows, 3, async (f) => {
    const r = await probeFlow(ctx, f);
    progress.line(`  ${mark(r.ok)} ${r.flow.padEnd(32)} ${r.protocol.padEnd(6)} ${r.evidence.join("; ")}`);
    return r;
  });
  const jobs = [...new Set(probes.flows.filter((f) => f.from === "prometheus").map((f) => f.to))];
  const targets = jobs.length ? await prometheusTargets(ctx, jobs) : {};
  const final = results.map((r, i) => {
    const f = probes.flows[i];
    const t = f.from === "prometheus" ? targets[f.to] : undefined;
    if (!t) return r;
    const up = t.up === t.expected && t.total === t.expected && t.expected > 0;
    const errors = t.errors.length ? ` (${t.errors.join("; ")})` : "";
    return {
      ...r,
      ok: r.ok && up,
      evidence: [...r.evidence, `Prometheus target job ${f.to}: ${t.up}/${t.expected} up${errors}`],
    };
  });
  for (const [job, t] of Object.entries(targets))
    progress.line(`  Prometheus scrapes ${job}: ${t.up}/${t.expected} targets up`);
  report.allowed = { ok: final.filter((r) => r.ok).length, total: final.length };
  report.details.allowed = final;
  progress.line(`  ${report.allowed.ok}/${report.allowed.total} declared flows connect`);
}

/** Each flow identity (passwords, MQTT certificates): allowed operation, operations outside its scope, others. */
async function identity({ report, progress }: E2eRun, { ctx }: Deployed): Promise<void> {
  const results = await probeIdentities(ctx);
  for (const r of results) {
    const ok = r.allowedOk && r.outOfScopeRefused && r.undeclaredRefused;
    progress.line(`  ${mark(ok)} ${r.flow.padEnd(32)} ${r.evidence.join("; ")}`);
  }
  const callers = await probeUndeclaredCallers(ctx);
  for (const r of callers.pairs) progress.line(`  ${mark(r.refused)} ${r.pair.padEnd(32)} no flow: ${r.evidence}`);
  for (const r of callers.controls) progress.line(`  ${mark(r.refused)} ${r.pair.padEnd(32)} control: ${r.evidence}`);
  report.identity = summarizeIdentities(results, callers.pairs);
  report.details.identity = results;
  report.details.undeclaredCallers = callers;
  report.checks.push({
    name: "Authenticating servers refuse an in-swarm caller without credentials (one declared client per port)",
    ok: callers.controls.length > 0 && callers.controls.every((r) => r.refused),
    detail: callers.controls.map((r) => `${r.pair} ${r.refused ? "refused" : "NOT refused"}`).join("; "),
  });
  const i = report.identity;
  progress.line(
    `  ${i.flows} identities: allowed ${i.allowedOk}, out of scope refused ${i.outOfScopeRefused}, ` +
      `other credentials refused ${i.undeclaredRefused}; ${i.undeclaredPairs} pairs sharing a network without a ` +
      `flow, refused without credentials ${i.undeclaredPairsRefused}`,
  );
}

async function forbidden({ report, progress }: E2eRun, { ctx, probes }: Deployed): Promise<void> {
  const results = await probeForbidden(ctx, probes.forbidden, (client, rs) => {
    const blocked = rs.filter((r) => r.blocked).length;
    progress.line(
      `  ${mark(blocked === rs.length)} from ${client.padEnd(14)} ${blocked}/${rs.length} blocked (${rs.map((r) => r.to).join(", ")})`,
    );
    for (const r of rs.filter((x) => !x.blocked))
      progress.line(`       ${client} -> ${r.to} NOT blocked: ${describePair(r)}`);
  });
  report.forbidden = { blocked: results.filter((r) => r.blocked).length, total: results.length };
  report.details.forbidden = results.map((r) => ({ ...r, summary: describePair(r) }));
  progress.line(`  ${report.forbidden.blocked}/${report.forbidden.total} undeclared pairs blocked`);
}

async function egress({ report, progress }: E2eRun, { ctx }: Deployed): Promise<void> {
  const r = await probeEgress(ctx);
  report.internalEgressBlocked = r.blocked;
  report.details.internalEgress = r;
  for (const x of r.results)
    progress.line(
      `  ${mark(x.ok)} ${x.service.padEnd(14)} ${x.internalOnly ? "internal only" : "has egress   "} -> ${r.listener}: ${x.connect}${x.seenFrom ? ` (listener saw ${x.seenFrom})` : ""}`,
    );
}

function checkLines(progress: Progress, checks: readonly Check[]): void {
  for (const c of checks) progress.line(`  ${mark(c.ok)} ${c.name}: ${c.detail}`);
}

async function tls({ report, progress }: E2eRun, { ctx }: Deployed): Promise<void> {
  const r = await probeTls(ctx);
  report.tls = {
    mqttsOk: r.mqttsOk,
    plaintextRefused: r.plaintextRefused,
    untrustedClientRefused: r.untrustedClientRefused,
  };
  report.checks.push(...r.checks);
  report.details.tls = r.details;
  const mqtts = r.details.mqtts as { evidence?: string[] } | string;
  progress.line(
    `  MQTTS with the program's client certificate: ${r.mqttsOk ? "ok" : "FAILED"} (${typeof mqtts === "string" ? mqtts : mqtts.evidence?.join("; ")})`,
  );
  progress.line(
    `  plaintext MQTT refused: ${r.plaintextRefused ? "yes" : "NO"} ${JSON.stringify(r.details.plaintext)}`,
  );
  progress.line(
    `  untrusted client certificate refused: ${r.untrustedClientRefused ? "yes" : "NO"} (${r.details.untrustedClient})`,
  );
  checkLines(progress, r.checks);
}

async function routes({ report, progress }: E2eRun, { ctx }: Deployed): Promise<void> {
  const r = await probeRoutes(ctx);
  report.routes = { ok: r.results.filter((x) => x.ok).length, total: r.results.length };
  report.checks.push(...r.checks);
  report.details.routes = r.results;
  for (const x of r.results)
    progress.line(
      `  ${mark(x.ok)} ${x.route}${x.admin ? " (admin)" : ""}: ${x.fromHost}${x.fromAllowlist ? `; ${x.fromAllowlist}` : ""}`,
    );
  checkLines(progress, r.checks);
}

async function loadBalancing({ report, progress }: E2eRun, { ctx }: Deployed): Promise<void> {
  const r = await probeLoadBalancing(ctx);
  report.lb = { perReplica: r.perReplica };
  report.details.lb = r;
  const spread = Object.entries(r.perReplica)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const others = Object.keys(r.others).length ? `; others ${JSON.stringify(r.others)}` : "";
  progress.line(`  ${r.requests} requests to ${r.route ?? "?"}: ${spread}${others}; failed ${r.failed}`);
  if (r.failed)
    report.checks.push({
      name: "Load-balanced requests succeed",
      ok: false,
      detail: `${r.failed}/${r.requests} failed`,
    });
}

async function failover({ report, progress }: E2eRun, { ctx }: Deployed): Promise<void> {
  const r = await probeFailover(ctx);
  report.failover = { requests: r.requests, failedRequests: r.failedRequests, recoverySeconds: r.recoverySeconds };
  report.details.failover = r;
  if (r.error) report.checks.push({ name: "Failover probe ran", ok: false, detail: r.error });
  report.checks.push({
    name: "Failover: the replacement replica serves requests",
    ok: r.replacementServed,
    detail: r.replacementServed ? `after ${r.gatewayRecoverySeconds ?? "?"} s` : "never seen in X-Served-By",
  });
  const servers = ctx.spec(balancedRoute(ctx)?.service ?? "gateway").replicas;
  progress.line(
    `  ${r.requests} requests, ${r.failedRequests} failed; killed ${r.killed}; swarm restored it after ${r.recoverySeconds ?? "never"} s; gateway marked it down after ${r.gatewayMarkedDownSeconds ?? "?"} s and used ${servers} servers again after ${r.gatewayRecoverySeconds ?? "?"} s; latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`,
  );
}

/** Readings the single-node run sends end to end (the cluster run sends hundreds while its faults run). */
const TELEMETRY_READINGS = 50;

/** A field device publishes QoS 1 readings over mTLS; InfluxDB must hold each exactly once. */
async function telemetry({ report, progress }: E2eRun, { ctx }: Deployed): Promise<void> {
  const stream = deviceStream(ctx, () => ctx.publishedHost("mosquitto"), { limit: TELEMETRY_READINGS });
  stream.start();
  const deadline = Date.now() + 60_000;
  while (!stream.finished && Date.now() < deadline) await sleep(200);
  await stream.stop(30_000);
  const { counts } = await settleTelemetry(ctx, stream, INFLUXDB_SETUP.bucket, 60_000);
  report.details.telemetry = counts;
  const ok = counts.sent === TELEMETRY_READINGS && counts.stored === counts.sent && counts.duplicates === 0;
  const detail = `${counts.sent} sent, ${counts.stored} stored, ${counts.duplicates} duplicates, ${counts.unacknowledged} unacknowledged; all stored ${counts.drainSeconds ?? "NEVER"} s after sending ended${stream.lastError ? `; device error: ${stream.lastError}` : ""}`;
  report.checks.push({
    name: `Telemetry: ${TELEMETRY_READINGS} device readings stored in InfluxDB exactly once`,
    ok,
    detail,
  });
  progress.line(`  ${mark(ok)} ${detail}`);
}

/** Day 2 connects as a field device: a client certificate the program issues for no service. */
async function day2({ report, progress }: E2eRun, d: Deployed): Promise<void> {
  const { ctx } = d;
  const device = ctx.topology.tls.mqttClients.find((c) => !ctx.topology.services.some((s) => s.name === c));
  if (!device) throw new Error("the e2e stack declares no field device client certificate");
  const leaf = ctx.leaf(mqttClientCertName(device));
  report.day2 = await runDay2({
    harness: d.harness,
    load: d.program,
    stack: d.stack,
    config: d.config,
    progress,
    device: { name: device, cert: leaf.certPem, key: leaf.keyPem },
  });
}

/** The flows, pairs and shared networks the probes were planned from, for the report's details. */
export function intentDetails(probes: ProbePlan): Record<string, unknown> {
  return {
    flows: probes.flows.map(flowName),
    forbiddenPairs: probes.forbidden.length,
    sharedWithoutFlow: probes.sharedWithoutFlow.map((p) => `${p.from} -> ${p.to}`),
  };
}
