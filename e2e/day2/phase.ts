/**
 * Day 2 on the live stack: the program applied again with unchanged config (plain and with a refresh), then
 * each change of changes.ts in turn, while a client requests the replicated service through the gateway and a
 * device publishes QoS 1 readings that Node-RED's task receives. Per change: the steps taken (checked against
 * the steps the model says it needs), whether and when the stack converged healthy, failed requests and lost
 * or duplicated messages. A change that rotates a flow credential probes that flow's identity again afterwards.
 */
import { planNetworks } from "../../model/networks";
import { E2eHarness, ProgramRun, runProgram, Step, waitForService } from "../harness";
import { StackContext } from "../lib/context";
import { serviceOf, servicesOf } from "../lib/services";
import { Progress } from "../lib/progress";
import { mapLimit } from "../lib/util";
import { ProgramExports } from "../probes/intent";
import { DAY2_CHANGES, StackConfig } from "./changes";
import { expectedSteps, ExpectedSteps, modelOf, resourceId, StepKind } from "./expected";
import { probeRotatedIdentity, RotatedIdentity } from "./rotation";
import { GatewayClient, TelemetryFlow } from "./traffic";

export type StepCounts = Record<StepKind, number>;

export interface Day2ChangeReport {
  readonly name: string;
  readonly description: string;
  readonly steps: StepCounts;
  /** The resources of each step, and the ones the model says the change needs. */
  readonly resources: ExpectedSteps;
  readonly expected: ExpectedSteps;
  readonly stepsAsExpected: boolean;
  readonly converged: boolean;
  readonly seconds: number;
  readonly requests: number;
  readonly failedRequests: number;
  readonly failedWhileGatewayDown: number;
  readonly failedAtBackend: number;
  /** How long the gateway itself did not answer (its own restart), in seconds. */
  readonly gatewayDownSeconds: number;
  /** The change restarts the gateway, whose host-mode port one task holds at a time. */
  readonly gatewayRestarted: boolean;
  /**
   * Services replaced delete-first (a singleton with a volume, or one publishing a host port), with the seconds
   * from the original's delete until its successor converged: the time the service did not exist.
   */
  readonly deleteFirstGaps: readonly { readonly service: string; readonly seconds: number }[];
  readonly messagesSent: number;
  readonly lostMessages: number;
  readonly duplicateMessages: number;
  /** For a credential rotation: the flow's identity probed after the change, and the old password refused. */
  readonly identity?: RotatedIdentity;
  readonly error?: string;
}

export interface Day2Report {
  readonly noop: { readonly steps: StepCounts; readonly resources: ExpectedSteps };
  readonly refreshNoop: { readonly steps: StepCounts; readonly resources: ExpectedSteps };
  readonly changes: Day2ChangeReport[];
}

const KINDS: readonly StepKind[] = ["create", "update", "replace", "delete"];

function grouped(steps: readonly Step[]): ExpectedSteps {
  const out: ExpectedSteps = { create: [], update: [], replace: [], delete: [] };
  for (const s of steps) if (s.op !== "same") out[s.op].push(resourceId(s.type, s.name));
  for (const k of KINDS) out[k].sort();
  return out;
}

const counts = (g: ExpectedSteps): StepCounts => Object.fromEntries(KINDS.map((k) => [k, g[k].length])) as StepCounts;

export interface Day2Options {
  readonly harness: E2eHarness;
  readonly load: () => unknown;
  readonly stack: string;
  readonly config: StackConfig;
  readonly progress: Progress;
  /** The device whose certificate the program issued (its CN is the client id the ACL knows). */
  readonly device: { readonly name: string; readonly cert: string; readonly key: string };
  readonly convergeTimeoutMs?: number;
}

/** Waits until every service of the topology runs its replicas healthy, under one Docker service each. */
async function converged(ctx: StackContext, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (const s of ctx.topology.services) {
    for (;;) {
      const services = await servicesOf(ctx.docker, ctx.harness.runId, s.name);
      if (services.length === 1) break;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const left = Math.max(1000, deadline - Date.now());
  const results = await mapLimit(ctx.topology.services, 3, async (s) =>
    waitForService(ctx.docker, (await serviceOf(ctx.docker, ctx.harness.runId, s.name)).ID, {
      timeoutMs: left,
      replicas: s.replicas,
    }).then(
      () => true,
      () => false,
    ),
  );
  return results.every(Boolean);
}

function contextFor(o: Day2Options, config: StackConfig, run: ProgramRun): StackContext {
  const t = modelOf(config).t;
  return new StackContext(o.harness, t, planNetworks(t), run.outputs as unknown as ProgramExports, o.progress);
}

type Apply = (config: StackConfig, refresh?: boolean) => Promise<ProgramRun>;

export async function runDay2(o: Day2Options): Promise<Day2Report> {
  const apply: Apply = (config, refresh = false) =>
    runProgram(o.harness, o.load, { stack: o.stack, config: { ...config }, refresh });
  const noopRun = await apply(o.config);
  const noop = grouped(noopRun.steps);
  o.progress.line(`  no-op: ${noopRun.steps.length} registrations, ${JSON.stringify(counts(noop))}`);
  const refreshRun = await apply(o.config, true);
  const refreshNoop = grouped(refreshRun.steps);
  o.progress.line(`  no-op after a refresh: ${JSON.stringify(counts(refreshNoop))}`);

  const changes: Day2ChangeReport[] = [];
  let config = o.config;
  let ctx = contextFor(o, config, refreshRun);
  for (const [i, change] of DAY2_CHANGES.entries()) {
    const next = change.apply(config);
    const expected = expectedSteps({ ...config }, { ...next });
    const rotated = change.rotates?.(config);
    const oldPassword = rotated ? ctx.password(rotated) : undefined;
    const applied = await applyUnderTraffic(o, apply, ctx, next, `c${i + 1}-${Date.now().toString(36)}`);
    ctx = applied.ctx;
    const report = {
      ...changeReport(change, expected, applied),
      ...(rotated && oldPassword !== undefined && !applied.error ? await rotationProbe(ctx, rotated, oldPassword) : {}),
    };
    changes.push(report);
    o.progress.line(changeLine(report, report.error));
    for (const f of applied.requests.failures) o.progress.detail(`    failed request: ${f}`);
    config = next;
  }
  return {
    noop: { steps: counts(noop), resources: noop },
    refreshNoop: { steps: counts(refreshNoop), resources: refreshNoop },
    changes,
  };
}

/** The rotated flow's identity, probed once the change converged; an error fails the change, not the phase. */
async function rotationProbe(
  ctx: StackContext,
  credential: string,
  oldPassword: string,
): Promise<{ identity: RotatedIdentity } | { error: string }> {
  try {
    return { identity: await probeRotatedIdentity(ctx, credential, oldPassword) };
  } catch (e) {
    return { error: `probing ${credential} after the rotation: ${(e as Error).message.slice(0, 400)}` };
  }
}

/**
 * Applies one change while a client requests Grafana through the gateway and a field device
 * publishes telemetry; both run from 3 s before the apply until 3 s after convergence.
 */
async function applyUnderTraffic(o: Day2Options, apply: Apply, before: StackContext, next: StackConfig, tag: string) {
  const route = before.topology.routes.find((r) => r.service === "grafana") ?? before.topology.routes[0];
  const client = new GatewayClient(before, route);
  const telemetry = new TelemetryFlow(before, o.device, tag);
  let ctx = before;
  let run: ProgramRun | undefined;
  let error: string | undefined;
  let ok = false;
  let seconds = 0;
  await telemetry.start();
  client.start();
  await new Promise((r) => setTimeout(r, 3000));
  const t0 = Date.now();
  try {
    run = await apply(next);
    ctx = contextFor(o, next, run);
    ok = await converged(ctx, o.convergeTimeoutMs ?? 150_000);
    seconds = Math.round((Date.now() - t0) / 100) / 10;
  } catch (e) {
    error = (e as Error).message.slice(0, 800);
    seconds = Math.round((Date.now() - t0) / 100) / 10;
  }
  await new Promise((r) => setTimeout(r, 3000));
  const requests = await client.stop();
  await ctx.refreshTasks().catch(() => undefined);
  const messages = await telemetry.stop();
  await telemetry.close();
  return { ctx, run, error, ok, seconds, requests, messages };
}

type Applied = Awaited<ReturnType<typeof applyUnderTraffic>>;

function changeReport(change: (typeof DAY2_CHANGES)[number], expected: ExpectedSteps, a: Applied): Day2ChangeReport {
  const { run, requests, messages, error } = a;
  const resources = run ? grouped(run.steps) : { create: [], update: [], replace: [], delete: [] };
  const gatewayId = resourceId("docker:index/service:Service", "iot-gateway");
  return {
    name: change.name,
    description: change.description,
    steps: counts(resources),
    resources,
    expected,
    stepsAsExpected: JSON.stringify(resources) === JSON.stringify(expected),
    converged: a.ok,
    seconds: a.seconds,
    requests: requests.requests,
    failedRequests: requests.failedRequests,
    failedWhileGatewayDown: requests.failedWhileGatewayDown,
    failedAtBackend: requests.failedAtBackend,
    gatewayDownSeconds: requests.gatewayDownSeconds,
    gatewayRestarted: [...resources.update, ...resources.replace].includes(gatewayId),
    deleteFirstGaps: (run?.steps ?? [])
      .filter((s) => s.type === "docker:index/service:Service" && s.gapSeconds !== undefined)
      .map((s) => ({ service: s.name, seconds: s.gapSeconds! })),
    messagesSent: messages.sent,
    lostMessages: messages.lostMessages,
    duplicateMessages: messages.duplicateMessages,
    ...(error ? { error } : {}),
  };
}

function rotationLine(r: RotatedIdentity): string {
  const yes = (ok: boolean, what: string) => `${what} ${ok ? "yes" : "NO"}`;
  return [
    yes(r.passwordChanged, "new value"),
    yes(r.clientHoldsNew, "client holds it"),
    yes(r.allowedOk, "allowed operation works"),
    yes(r.outOfScopeRefused, "out of scope refused"),
    yes(r.undeclaredRefused, "other credentials refused"),
    yes(r.oldPasswordRefused, "old password refused"),
  ].join(", ");
}

function changeLine(r: Day2ChangeReport, error: string | undefined): string {
  return (
    `  ${r.name}: ${JSON.stringify(r.steps)}${r.stepsAsExpected ? "" : " (NOT as expected)"}, ` +
    `${r.converged ? "converged" : "NOT converged"} in ${r.seconds} s; requests ${r.failedRequests}/${r.requests} failed ` +
    `(${r.failedWhileGatewayDown} while the gateway restarted, down ${r.gatewayDownSeconds} s); messages ${r.messagesSent} sent, ${r.lostMessages} lost, ` +
    `${r.duplicateMessages} duplicated` +
    (r.identity ? `; ${r.identity.credential} afterwards: ${rotationLine(r.identity)}` : "") +
    r.deleteFirstGaps.map((g) => `; ${g.service} replaced delete-first, absent ${g.seconds} s`).join("") +
    `${error ? `; ERROR ${error}` : ""}`
  );
}
