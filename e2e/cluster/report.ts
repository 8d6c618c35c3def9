/**
 * The e2e cluster run's report (.e2e/cluster-report.json): what the issue's fields mean, which
 * required checks failed (`verdict`), and the readable summary printed at the end of a run.
 * Pure, so both are unit-tested (tests/clusterReport.test.ts).
 */
import { EncryptionReport, encryptionVerdict } from "./encryptionReport";
import { TelemetryCounts } from "./telemetry";

/** Said where the telemetry path (device -> broker -> Node-RED -> InfluxDB) was not measured: the run did not get that far. */
export const NOT_MEASURED = "not measured: the run ended before the telemetry readings were read back from InfluxDB";

/** A fault's lostMessages until the readings are read back at the end of the run. */
export const TELEMETRY_PENDING = "pending: counted once InfluxDB is read back after the last fault";

/** Readings the device must send over the faults for the telemetry result to count. */
export const TELEMETRY_MIN_SENT = 500;

export interface Rescheduled {
  readonly service: string;
  readonly from: string;
  /** Node the replacement runs on; undefined when none runs (pending). */
  readonly to?: string;
  /** Seconds after the fault until the replacement served. */
  readonly seconds?: number;
  /** Why the replacement does not run, when it does not. */
  readonly pending?: string;
  /** The service keeps state in a volume, and its replacement started on another node without it. */
  readonly withoutItsData?: boolean;
}

/** A service pinned to the lost node by its placement: it must wait for the node and come back with its data. */
export interface PinnedState {
  readonly service: string;
  readonly node: string;
  /** No task of it ran on another node while its node was down, for `waitedSeconds`. */
  readonly waitedForNode: boolean;
  readonly waitedSeconds: number;
  readonly pendingReason?: string;
  readonly backOnNode: boolean;
  /** Seconds from the node's return until the service served again. */
  readonly backSeconds: number | null;
  /** The marker written into its volume before the fault, read back after (null: not checked). */
  readonly dataIntact: boolean | null;
  readonly dataEvidence?: string;
}

export interface FaultReport {
  readonly name: string;
  /** The node the fault hit. */
  readonly node?: string;
  readonly requests: number;
  readonly failedRequests: number;
  /** Telemetry readings the device sent while the fault lasted (`window`) that InfluxDB never stored; a string says why not counted. */
  readonly lostMessages: number | string;
  /** When the fault lasted, ms since the epoch: from its start until the stack recovered. */
  readonly window?: { readonly from: number; readonly to: number };
  /**
   * Seconds after the fault until InfluxDB held every reading sent so far, waited for before the next fault; null
   * if not within the wait. A reading Node-RED acknowledged to the broker is in its memory until written.
   */
  readonly telemetryCaughtUpSeconds?: number | null;
  /** Seconds from the fault until every service ran its replicas again (pinned ones: back on their node). */
  readonly recoverySeconds: number | null;
  /** Seconds until the managers marked the node Down. */
  readonly detectedSeconds?: number | null;
  /** Seconds from restarting a lost node until it was Ready again. */
  readonly returnSeconds?: number | null;
  readonly rescheduled: Rescheduled[];
  readonly pinned?: PinnedState[];
  /** Requests served per worker address while the fault lasted. */
  readonly servedVia: Record<string, number>;
  /** The gateway's replicas on the nodes the fault spared kept serving. */
  readonly survivorsServed: boolean;
  readonly latencyMs?: { p50: number; p99: number; max: number };
  /** The first failed requests: seconds after the fault, duration, address, skipped addresses, error. */
  readonly failures: string[];
  /** Served requests that took longer than a second, the same way. */
  readonly slow?: string[];
  /** When requests failed: the gateway tasks' log from the first failure on (HAProxy's access log names the server, or none). */
  readonly gatewayLog?: string[];
  /** The start script's lines of the gateway tasks that started while the fault lasted: how long each waited for its backends. */
  readonly gatewayStarts?: string[];
  readonly notes: string[];
  readonly error?: string;
}

export interface CrossNodeCount {
  readonly ok: number;
  readonly total: number;
}

export interface ClusterReport {
  /** Declared flows, from every task of their client; `crossNode`: connects between tasks on different nodes. */
  readonly allowed: { ok: number; total: number; crossNode: CrossNodeCount };
  /** Undeclared ordered pairs, from every task of the first; `crossNode`: pairs whose target has a task on another node. */
  readonly forbidden: { blocked: number; total: number; crossNode: { blocked: number; total: number } };
  /** Lookups from every task, by the node it runs on. */
  readonly dns: { ok: number; total: number; nodes: Record<string, { ok: number; total: number }> };
  readonly faults: FaultReport[];
  /** Readings a field device sent over mTLS through the published broker port, from before the first fault until after the last, and what InfluxDB stored; a string says why not measured. */
  readonly telemetry: TelemetryCounts | string;
  /** An encrypted overlay between two nodes, captured on the hub bridge (e2e/cluster/encryption.ts). */
  readonly encryption?: EncryptionReport;
  /** Service -> nodes its tasks run on after the deploy. */
  readonly placement: Record<string, string[]>;
  readonly cluster: Record<string, unknown>;
  readonly memory?: Record<string, unknown>;
  readonly standIns: string[];
  readonly passed: boolean;
  readonly failures: string[];
  readonly run: {
    readonly runId: string;
    readonly startedAt: string;
    readonly stack: string;
    readonly durations: Record<string, number>;
  };
  readonly environment: Record<string, unknown>;
  readonly notes: string[];
  readonly checks: { name: string; ok: boolean; detail: string }[];
  readonly teardown?: { leftovers: string[]; errors: string[] };
  readonly details: Record<string, unknown>;
}

/** The faults every run must inject. */
export const REQUIRED_FAULTS = ["worker-loss", "drain", "broker-restart", "storage-node-loss"] as const;

/** Goal for failed requests through the gateway while a fault lasts. */
export const FAULT_FAILED_REQUESTS_GOAL = 0;

export function verdict(r: Omit<ClusterReport, "passed" | "failures">): string[] {
  const failed: string[] = [];
  const count = (name: string, ok: number, total: number) => {
    if (total === 0) failed.push(`${name}: nothing was probed`);
    else if (ok !== total) failed.push(`${name}: ${ok}/${total}`);
  };
  count("allowed flows connect", r.allowed.ok, r.allowed.total);
  count("allowed flows connect across nodes", r.allowed.crossNode.ok, r.allowed.crossNode.total);
  count("undeclared pairs blocked", r.forbidden.blocked, r.forbidden.total);
  count("undeclared pairs blocked across nodes", r.forbidden.crossNode.blocked, r.forbidden.crossNode.total);
  count("DNS names resolve to the right tasks", r.dns.ok, r.dns.total);
  for (const name of REQUIRED_FAULTS) if (!r.faults.some((f) => f.name === name)) failed.push(`fault ${name}: not run`);
  for (const f of r.faults) {
    if (f.error) failed.push(`fault ${f.name}: ${f.error}`);
    if (f.requests === 0) failed.push(`fault ${f.name}: no request was sent while it lasted`);
    if (f.failedRequests > FAULT_FAILED_REQUESTS_GOAL)
      failed.push(
        `fault ${f.name}: ${f.failedRequests} of ${f.requests} requests through the gateway failed (goal ${FAULT_FAILED_REQUESTS_GOAL})`,
      );
    if (f.recoverySeconds === null) failed.push(`fault ${f.name}: the stack did not recover`);
    if (!f.survivorsServed) failed.push(`fault ${f.name}: a gateway replica on a spared node did not serve`);
    for (const p of f.pinned ?? []) {
      if (!p.waitedForNode) failed.push(`fault ${f.name}: ${p.service} ran elsewhere instead of waiting for ${p.node}`);
      if (!p.backOnNode) failed.push(`fault ${f.name}: ${p.service} did not come back on ${p.node}`);
      if (p.dataIntact !== true)
        failed.push(`fault ${f.name}: ${p.service}'s data not shown intact (${p.dataEvidence})`);
    }
  }
  failed.push(...telemetryVerdict(r));
  failed.push(...encryptionVerdict(r.encryption));
  for (const c of r.checks) if (!c.ok) failed.push(`${c.name}: ${c.detail}`);
  if (r.teardown) {
    if (r.teardown.errors.length) failed.push(`teardown: ${r.teardown.errors.join("; ")}`);
    if (r.teardown.leftovers.length) failed.push(`teardown left: ${r.teardown.leftovers.join(", ")}`);
  }
  return failed;
}

/** Every reading arrives exactly once, over at least TELEMETRY_MIN_SENT readings, and no fault loses one. */
export function telemetryVerdict(r: Pick<ClusterReport, "telemetry" | "faults">): string[] {
  const failed: string[] = [];
  const t = r.telemetry;
  if (typeof t === "string") failed.push(`telemetry: ${t}`);
  else {
    if (t.sent < TELEMETRY_MIN_SENT) failed.push(`telemetry: ${t.sent} readings sent (at least ${TELEMETRY_MIN_SENT})`);
    if (t.stored !== t.sent)
      failed.push(
        `telemetry: ${t.stored} of ${t.sent} readings stored in InfluxDB (missing e.g. ${t.missing.slice(0, 5).join(", ")})`,
      );
    if (t.duplicates > 0) failed.push(`telemetry: ${t.duplicates} readings stored more than once`);
  }
  for (const f of r.faults) {
    if (typeof f.lostMessages === "string") failed.push(`fault ${f.name}: lost telemetry ${f.lostMessages}`);
    else if (f.lostMessages > 0)
      failed.push(`fault ${f.name}: ${f.lostMessages} telemetry readings sent meanwhile never stored`);
  }
  return failed;
}

const telemetryLine = (t: TelemetryCounts | string) =>
  typeof t === "string"
    ? t
    : `${t.sent} readings sent, ${t.stored} stored, ${t.duplicates} duplicates, ${t.unacknowledged} unacknowledged by the broker; all stored ${t.drainSeconds === null ? "NEVER" : `${t.drainSeconds.toFixed(1)} s after the last was sent`}`;

const mark = (ok: boolean) => (ok ? "PASS" : "FAIL");
const secs = (s: number | null | undefined) => (s === null || s === undefined ? "never" : `${s.toFixed(1)} s`);

/** One fault on one line: failed requests, lost readings, recovery, pinned state. */
function faultRow(f: FaultReport): [string, boolean, string] {
  const pinned = (f.pinned ?? [])
    .map(
      (p) =>
        `${p.service} waited ${p.waitedSeconds.toFixed(0)} s for ${p.node}, back after ${secs(p.backSeconds)}, data ${p.dataIntact ? "intact" : "NOT shown intact"}`,
    )
    .join("; ");
  const ok =
    !f.error &&
    f.failedRequests <= FAULT_FAILED_REQUESTS_GOAL &&
    f.requests > 0 &&
    f.recoverySeconds !== null &&
    f.survivorsServed &&
    f.lostMessages === 0 &&
    (f.pinned ?? []).every((p) => p.waitedForNode && p.backOnNode && p.dataIntact === true);
  return [
    `Fault ${f.name}${f.node ? ` (${f.node})` : ""}`,
    ok,
    `${f.failedRequests}/${f.requests} failed; lost readings ${f.lostMessages}; recovered in ${secs(f.recoverySeconds)}` +
      (f.detectedSeconds !== undefined ? `; marked Down after ${secs(f.detectedSeconds)}` : "") +
      (f.returnSeconds !== undefined ? `; Ready again ${secs(f.returnSeconds)} after restart` : "") +
      (pinned ? `; ${pinned}` : "") +
      (f.error ? `; ERROR ${f.error}` : ""),
  ];
}

export function summary(r: ClusterReport): string {
  const rows: [string, boolean, string][] = [
    [
      "Declared flows connect, from every client task",
      r.allowed.ok === r.allowed.total && r.allowed.total > 0,
      `${r.allowed.ok}/${r.allowed.total}; across nodes ${r.allowed.crossNode.ok}/${r.allowed.crossNode.total}`,
    ],
    [
      "Undeclared pairs blocked, from every task",
      r.forbidden.blocked === r.forbidden.total && r.forbidden.total > 0,
      `${r.forbidden.blocked}/${r.forbidden.total}; across nodes ${r.forbidden.crossNode.blocked}/${r.forbidden.crossNode.total}`,
    ],
    [
      "DNS from every node",
      r.dns.ok === r.dns.total && r.dns.total > 0,
      Object.entries(r.dns.nodes)
        .map(([n, c]) => `${n} ${c.ok}/${c.total}`)
        .join(", "),
    ],
  ];
  for (const f of r.faults) rows.push(faultRow(f));
  if (r.encryption) {
    const e = r.encryption;
    rows.push([
      "Encrypted overlay: no plaintext on the hub bridge",
      encryptionVerdict(e).length === 0,
      `plaintext frames ${e.plaintextSeen} (control network: ${e.controlPlaintextSeen}); cross-node ${e.crossNode}; ESP frames ${e.capture.espFrames}`,
    ]);
  }
  rows.push([
    "Telemetry: every reading stored exactly once",
    typeof r.telemetry !== "string" && telemetryVerdict({ telemetry: r.telemetry, faults: [] }).length === 0,
    telemetryLine(r.telemetry),
  ]);
  for (const c of r.checks) rows.push([c.name, c.ok, c.detail]);
  if (r.teardown) {
    const ok = !r.teardown.errors.length && !r.teardown.leftovers.length;
    rows.push([
      "Teardown leaves nothing of the cluster",
      ok,
      ok
        ? "no namespace, daemon, cgroup or data root left"
        : [...r.teardown.errors, ...r.teardown.leftovers].join("; "),
    ]);
  }
  const width = Math.max(...rows.map((x) => x[0].length));
  const m = r.memory as { cgroupRssMb?: number; processRssSumMb?: number } | undefined;
  return [
    `End-to-end cluster result for stack ${r.run.stack} (run ${r.run.runId}): ${r.passed ? "PASSED" : "FAILED"}`,
    ...rows.map(([name, ok, detail]) => `  ${mark(ok)}  ${name.padEnd(width)}  ${detail}`),
    `  Stand-in images: ${r.standIns.join(", ")}`,
    ...r.notes.map((n) => `  Note: ${n}`),
    ...(m ? [`  Peak memory: cgroup RSS ${m.cgroupRssMb} MB, sum of process RSS ${m.processRssSumMb} MB`] : []),
    `  Time: ${Object.entries(r.run.durations)
      .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
      .join(", ")}`,
    ...(r.failures.length ? ["  Failed:", ...r.failures.map((f) => `    - ${f}`)] : []),
  ].join("\n");
}
