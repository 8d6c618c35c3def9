/**
 * The e2e report (`.e2e/report.json`): the issue's fields first, then what a reader needs to trust
 * them (environment, timings, per-probe details). `verdict` decides which required checks failed;
 * `summary` renders the readable table printed at the end of a run. Pure, so both are unit-tested.
 */

import type { Day2Report } from "./day2/phase";
import type { RotatedIdentity } from "./day2/rotation";
import type { IdentitySummary } from "./probes/identity";

export interface FailoverResult {
  readonly requests: number;
  readonly failedRequests: number;
  /** Seconds from killing the replica's container until the swarm runs that many healthy replicas again; null if it never did. */
  readonly recoverySeconds: number | null;
}

export interface E2eReport {
  readonly allowed: { ok: number; total: number };
  readonly forbidden: { blocked: number; total: number };
  /**
   * Per Redis and NATS flow, its client's own user (model/identity.ts): the allowed operation works, operations
   * outside its permissions are refused, no credentials and its password under another user are refused. Per
   * MQTT flow of a client with a certificate, the same with its certificate: a topic its ACL allows works, a
   * publish outside it is refused, no certificate and one from another CA are refused. Per ordered pair that
   * shares a network where the server authenticates but has no flow there (model/identity.ts
   * `undeclaredCallers`), the server refuses the client, which holds no credentials for it.
   */
  readonly identity?: IdentitySummary;
  readonly dns: { ok: number; total: number };
  readonly tls: { mqttsOk: boolean; plaintextRefused: boolean; untrustedClientRefused: boolean };
  readonly routes: { ok: number; total: number };
  readonly lb: { perReplica: Record<string, number> };
  readonly failover: FailoverResult;
  readonly internalEgressBlocked: boolean;
  readonly hostPorts: { expected: string[]; found: string[] };
  /** Services whose images are stand-ins for the upstream image (e2e/images/README.md). */
  readonly standIns: string[];
  /** Every required check passed (the exit status of `npm run e2e`). */
  readonly passed: boolean;
  /** The required checks that failed, one line each. */
  readonly failures: string[];
  readonly run: {
    readonly runId: string;
    readonly startedAt: string;
    readonly stack: string;
    /** Seconds per step and in total. */
    readonly durations: Record<string, number>;
  };
  /** What this machine allows and how the stack under test differs from prod because of it. */
  readonly environment: Record<string, unknown>;
  readonly notes: string[];
  /** Extra required checks beside the issue's fields (gateway certificate, ACLs, redirects, Prometheus targets, ...). */
  readonly checks: { name: string; ok: boolean; detail: string }[];
  readonly teardown?: { removed: number; errors: string[]; leftovers: string[]; containmentRuleRemoved: boolean };
  /** The program applied again unchanged, then each day-2 change under traffic (e2e/day2). */
  readonly day2?: Day2Report;
  readonly details: Record<string, unknown>;
}

/** Longest a day-2 change may take to converge healthy. */
export const DAY2_CONVERGE_GOAL_S = 120;

/** Every check of a flow identity probed after its credential's rotation held (e2e/day2/rotation.ts). */
export const rotationHolds = (r: RotatedIdentity): boolean =>
  r.passwordChanged &&
  r.clientHoldsNew &&
  r.oldPasswordRefused &&
  r.allowedOk &&
  r.outOfScopeRefused &&
  r.undeclaredRefused;

/** What a day-2 report fails on: any step in a no-op, and per change the goals of e2e/README.md. */
export function day2Failures(d: Day2Report): string[] {
  const failed: string[] = [];
  const any = (c: Record<string, number>) => Object.values(c).some((n) => n > 0);
  if (any(d.noop.steps)) failed.push(`day2 no-op: took steps ${JSON.stringify(d.noop.resources)}`);
  if (any(d.refreshNoop.steps))
    failed.push(`day2 no-op after a refresh: took steps ${JSON.stringify(d.refreshNoop.resources)}`);
  for (const c of d.changes) {
    const name = `day2 ${c.name}`;
    if (c.error) failed.push(`${name}: ${c.error}`);
    if (!c.stepsAsExpected)
      failed.push(`${name}: steps ${JSON.stringify(c.resources)}, expected ${JSON.stringify(c.expected)}`);
    if (!c.converged) failed.push(`${name}: did not converge healthy`);
    if (c.seconds >= DAY2_CONVERGE_GOAL_S)
      failed.push(`${name}: converged after ${c.seconds} s (goal < ${DAY2_CONVERGE_GOAL_S} s)`);
    if (c.failedAtBackend > 0) failed.push(`${name}: ${c.failedAtBackend} requests to the replicated service failed`);
    if (c.failedWhileGatewayDown > 0 && !c.gatewayRestarted) {
      failed.push(
        `${name}: ${c.failedWhileGatewayDown} requests failed while the gateway did not answer, though the change does not restart it`,
      );
    }
    if (c.lostMessages > 0) failed.push(`${name}: ${c.lostMessages} of ${c.messagesSent} QoS 1 messages lost`);
    if (c.requests === 0 || c.messagesSent === 0) failed.push(`${name}: no traffic ran during the change`);
    if (c.identity && !rotationHolds(c.identity))
      failed.push(`${name}: ${c.identity.credential} afterwards: ${c.identity.evidence.join("; ")}`);
  }
  return failed;
}

/** Goal for failed requests while a replica is killed (see e2e/README.md: more than this fails the run). */
export const FAILOVER_FAILED_REQUESTS_GOAL = 0;

/** The required checks that failed; empty means the run passed. */
export function verdict(r: Omit<E2eReport, "passed" | "failures">): string[] {
  const failed: string[] = [];
  const count = (name: string, ok: number, total: number) => {
    if (total === 0) failed.push(`${name}: nothing was probed`);
    else if (ok !== total) failed.push(`${name}: ${ok}/${total}`);
  };
  count("allowed flows connect", r.allowed.ok, r.allowed.total);
  count("undeclared pairs blocked", r.forbidden.blocked, r.forbidden.total);
  if (r.identity) {
    count("identities: allowed operation works", r.identity.allowedOk, r.identity.flows);
    count("identities: operations outside the permissions refused", r.identity.outOfScopeRefused, r.identity.flows);
    count("identities: no or other credentials refused", r.identity.undeclaredRefused, r.identity.flows);
    // No such pair is a valid stack (the reference stacks have none), so 0/0 passes; any pair must be refused.
    const pairs = r.identity.undeclaredPairs;
    const refused = r.identity.undeclaredPairsRefused;
    if (refused !== pairs)
      failed.push(
        `identities: callers sharing a network without a flow refused without credentials: ${refused}/${pairs}`,
      );
  }
  count("DNS names resolve to the right tasks", r.dns.ok, r.dns.total);
  count("gateway routes reach their backends", r.routes.ok, r.routes.total);
  if (!r.tls.mqttsOk) failed.push("tls: MQTTS with a client certificate did not work");
  if (!r.tls.plaintextRefused) failed.push("tls: plaintext MQTT (1883) was not refused");
  if (!r.tls.untrustedClientRefused) failed.push("tls: a client certificate from an untrusted CA was not refused");
  if (!r.internalEgressBlocked)
    failed.push("internal networks: egress not shown blocked (or the control could not connect)");
  const expected = [...r.hostPorts.expected].sort().join(",");
  const found = [...r.hostPorts.found].sort().join(",");
  if (expected !== found) failed.push(`host ports: expected ${expected || "none"}, found ${found || "none"}`);
  const counts = Object.values(r.lb.perReplica);
  if (counts.length === 0 || counts.some((n) => n === 0))
    failed.push(`load balancing: not every replica served a request (${JSON.stringify(r.lb.perReplica)})`);
  if (r.failover.recoverySeconds === null) failed.push("failover: the swarm did not restore the killed replica");
  if (r.failover.requests < 200)
    failed.push(`failover: only ${r.failover.requests} requests sent (at least 200 required)`);
  if (r.failover.failedRequests > FAILOVER_FAILED_REQUESTS_GOAL) {
    failed.push(
      `failover: ${r.failover.failedRequests} of ${r.failover.requests} requests failed (goal ${FAILOVER_FAILED_REQUESTS_GOAL})`,
    );
  }
  for (const c of r.checks) if (!c.ok) failed.push(`${c.name}: ${c.detail}`);
  if (r.day2) failed.push(...day2Failures(r.day2));
  if (r.teardown) {
    if (r.teardown.errors.length) failed.push(`teardown: ${r.teardown.errors.join("; ")}`);
    if (r.teardown.leftovers.length) failed.push(`teardown left: ${r.teardown.leftovers.join(", ")}`);
    if (!r.teardown.containmentRuleRemoved) failed.push("teardown: the containment firewall rule is still installed");
  }
  return failed;
}

const mark = (ok: boolean) => (ok ? "PASS" : "FAIL");

type Row = [name: string, ok: boolean, detail: string];

/** The identity probe's row, when it ran. */
function identityRows(r: E2eReport): Row[] {
  const i = r.identity;
  if (!i) return [];
  const ok = i.flows > 0 && [i.allowedOk, i.outOfScopeRefused, i.undeclaredRefused].every((n) => n === i.flows);
  const pairs = i.undeclaredPairs;
  const pairsRefused = i.undeclaredPairsRefused;
  return [
    [
      "Identities per flow (Redis, NATS, MQTT, InfluxDB): own credential works, limits and other credentials refused",
      ok,
      `${i.flows} flows: allowed ${i.allowedOk}, out of scope refused ${i.outOfScopeRefused}, others refused ${i.undeclaredRefused}`,
    ],
    [
      "Callers sharing a network with an authenticating server, without a flow to it, refused without credentials",
      pairsRefused === pairs,
      pairs === 0 ? "0 pairs: every such caller has a flow" : `${pairsRefused}/${pairs} pairs refused`,
    ],
  ];
}

/** A row per probe's headline figure. */
function probeRows(r: E2eReport): Row[] {
  return [
    [
      "Declared flows connect (application level)",
      r.allowed.ok === r.allowed.total && r.allowed.total > 0,
      `${r.allowed.ok}/${r.allowed.total}`,
    ],
    [
      "Undeclared service pairs blocked",
      r.forbidden.blocked === r.forbidden.total && r.forbidden.total > 0,
      `${r.forbidden.blocked}/${r.forbidden.total}`,
    ],
    ...identityRows(r),
    [
      "DNS: names, aliases, tasks.<svc> -> right tasks",
      r.dns.ok === r.dns.total && r.dns.total > 0,
      `${r.dns.ok}/${r.dns.total}`,
    ],
    [
      "Internal networks have no egress",
      r.internalEgressBlocked,
      r.internalEgressBlocked ? "blocked (control connected)" : "NOT shown",
    ],
    ["MQTTS with a client certificate", r.tls.mqttsOk, r.tls.mqttsOk ? "publish + subscribe" : "failed"],
    ["Plaintext MQTT 1883 refused", r.tls.plaintextRefused, r.tls.plaintextRefused ? "refused" : "NOT refused"],
    [
      "Untrusted client certificate refused",
      r.tls.untrustedClientRefused,
      r.tls.untrustedClientRefused ? "refused" : "NOT refused",
    ],
    [
      "Gateway routes reach their backends",
      r.routes.ok === r.routes.total && r.routes.total > 0,
      `${r.routes.ok}/${r.routes.total}`,
    ],
    [
      "Load balancing across replicas",
      Object.values(r.lb.perReplica).length > 0 && Object.values(r.lb.perReplica).every((n) => n > 0),
      Object.entries(r.lb.perReplica)
        .map(([k, v]) => `${k}=${v}`)
        .join(" "),
    ],
    [
      "Failover: replica restored",
      r.failover.recoverySeconds !== null,
      r.failover.recoverySeconds === null ? "not restored" : `${r.failover.recoverySeconds.toFixed(1)} s`,
    ],
    [
      `Failover: failed requests (goal ${FAILOVER_FAILED_REQUESTS_GOAL})`,
      r.failover.failedRequests <= FAILOVER_FAILED_REQUESTS_GOAL && r.failover.requests >= 200,
      `${r.failover.failedRequests}/${r.failover.requests}`,
    ],
    [
      "Only declared ports listen on the host",
      [...r.hostPorts.expected].sort().join() === [...r.hostPorts.found].sort().join(),
      `expected ${r.hostPorts.expected.join(" ") || "none"}; found ${r.hostPorts.found.join(" ") || "none"}`,
    ],
  ];
}

/** The no-op applies, then a row per change, judged alone (the no-op rows carry their own verdict). */
function day2Rows(day2: Day2Report): Row[] {
  const none = (c: Record<string, number>) => Object.values(c).every((n) => n === 0);
  const rows: Row[] = [
    ["Day 2: unchanged config takes no step", none(day2.noop.steps), JSON.stringify(day2.noop.steps)],
    ["Day 2: unchanged config after a refresh", none(day2.refreshNoop.steps), JSON.stringify(day2.refreshNoop.steps)],
  ];
  for (const c of day2.changes) {
    rows.push([
      `Day 2: ${c.name}`,
      day2Failures({
        ...day2,
        noop: { ...day2.noop, steps: {} as never },
        refreshNoop: { ...day2.refreshNoop, steps: {} as never },
        changes: [c],
      }).length === 0,
      `${JSON.stringify(c.steps)}, ${c.converged ? `converged in ${c.seconds} s` : "NOT converged"}, ` +
        `${c.failedRequests}/${c.requests} requests failed${c.gatewayRestarted ? ` (gateway restarted: ${c.failedWhileGatewayDown})` : ""}, ` +
        `${c.lostMessages}/${c.messagesSent} messages lost, ${c.duplicateMessages} duplicated` +
        (c.identity
          ? `; ${c.identity.credential} afterwards ${rotationHolds(c.identity) ? "works, limits and the old password refused" : "FAILED"}`
          : ""),
    ]);
  }
  return rows;
}

/** The readable summary printed at the end of a run. */
export function summary(r: E2eReport): string {
  const rows = probeRows(r);
  for (const c of r.checks) rows.push([c.name, c.ok, c.detail]);
  if (r.day2) rows.push(...day2Rows(r.day2));
  if (r.teardown) {
    const ok = !r.teardown.errors.length && !r.teardown.leftovers.length && r.teardown.containmentRuleRemoved;
    rows.push([
      "Teardown leaves nothing behind",
      ok,
      ok ? `removed ${r.teardown.removed} objects` : [...r.teardown.errors, ...r.teardown.leftovers].join("; "),
    ]);
  }
  const width = Math.max(...rows.map((x) => x[0].length));
  const lines = rows.map(([name, ok, detail]) => `  ${mark(ok)}  ${name.padEnd(width)}  ${detail}`);
  const d = r.run.durations;
  return [
    `End-to-end result for stack ${r.run.stack} (run ${r.run.runId}): ${r.passed ? "PASSED" : "FAILED"}`,
    ...lines,
    `  Stand-in images: ${r.standIns.join(", ")}`,
    ...r.notes.map((n) => `  Note: ${n}`),
    `  Time: ${Object.entries(d)
      .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
      .join(", ")}`,
    ...(r.failures.length ? ["  Failed:", ...r.failures.map((f) => `    - ${f}`)] : []),
  ].join("\n");
}
