/**
 * How the e2e cluster run decides pass or fail (e2e/cluster/report.ts). The run itself needs root
 * and Docker (npm run e2e:cluster); its verdict is pure.
 */
import {
  ClusterReport,
  FaultReport,
  NOT_MEASURED,
  REQUIRED_FAULTS,
  summary,
  TELEMETRY_MIN_SENT,
  TELEMETRY_PENDING,
  verdict,
} from "../e2e/cluster/report";
import { TelemetryCounts } from "../e2e/cluster/telemetry";
import { passingEncryption } from "./encryptionFixture";

function fault(name: string, over: Partial<FaultReport> = {}): FaultReport {
  return {
    name,
    node: "iot-cluster-node4",
    requests: 300,
    failedRequests: 0,
    lostMessages: 0,
    window: { from: 1_000, to: 21_000 },
    recoverySeconds: 20,
    rescheduled: [{ service: "grafana", from: "iot-cluster-node4", to: "iot-cluster-node5", seconds: 18 }],
    servedVia: { "172.30.77.15": 150, "172.30.77.16": 150 },
    survivorsServed: true,
    failures: [],
    notes: [],
    ...over,
  };
}

const encryption = passingEncryption();

const telemetry: TelemetryCounts = {
  sent: 1400,
  stored: 1400,
  duplicates: 0,
  unacknowledged: 0,
  drainSeconds: 2.1,
  missing: [],
};

const pinned = {
  service: "influxdb",
  node: "iot-cluster-node6",
  waitedForNode: true,
  waitedSeconds: 50,
  backOnNode: true,
  backSeconds: 18,
  dataIntact: true,
};

function passing(): Omit<ClusterReport, "passed" | "failures"> {
  return {
    allowed: { ok: 20, total: 20, crossNode: { ok: 24, total: 24 } },
    forbidden: { blocked: 60, total: 60, crossNode: { blocked: 44, total: 44 } },
    dns: { ok: 108, total: 108, nodes: { "iot-cluster-node4": { ok: 31, total: 31 } } },
    faults: REQUIRED_FAULTS.map((n) => fault(n, n === "storage-node-loss" ? { pinned: [pinned] } : {})),
    telemetry,
    encryption,
    placement: {},
    cluster: {},
    standIns: ["grafana"],
    run: { runId: "r", startedAt: "2026-01-01T00:00:00Z", stack: "cluster", durations: { total: 270 } },
    environment: {},
    notes: [],
    checks: [{ name: "Managers run no tasks", ok: true, detail: "none" }],
    teardown: { leftovers: [], errors: [] },
    details: {},
  };
}

const withFault = (name: string, over: Partial<FaultReport>) => {
  const r = passing();
  return { ...r, faults: r.faults.map((f) => (f.name === name ? { ...f, ...over } : f)) };
};

describe("the e2e cluster verdict", () => {
  it("passes a run where every probe and fault met its goal", () => {
    expect(verdict(passing())).toEqual([]);
  });

  it("fails a fault that cost a failed request through the gateway", () => {
    expect(verdict(withFault("drain", { failedRequests: 3 }))).toEqual([
      "fault drain: 3 of 300 requests through the gateway failed (goal 0)",
    ]);
  });

  it("fails a fault the stack did not recover from", () => {
    expect(verdict(withFault("worker-loss", { recoverySeconds: null }))).toEqual([
      "fault worker-loss: the stack did not recover",
    ]);
  });

  it("fails when a gateway replica the fault spared did not serve", () => {
    expect(verdict(withFault("broker-restart", { survivorsServed: false }))).toEqual([
      "fault broker-restart: a gateway replica on a spared node did not serve",
    ]);
  });

  it("fails a fault while which no request was sent", () => {
    expect(verdict(withFault("drain", { requests: 0 }))).toEqual(["fault drain: no request was sent while it lasted"]);
  });

  it("fails when a required fault did not run", () => {
    const r = passing();
    expect(verdict({ ...r, faults: r.faults.filter((f) => f.name !== "drain") })).toEqual(["fault drain: not run"]);
  });

  it("fails pinned state that started elsewhere, did not come back or lost its data", () => {
    const moved = withFault("storage-node-loss", { pinned: [{ ...pinned, waitedForNode: false }] });
    expect(verdict(moved)).toEqual([
      "fault storage-node-loss: influxdb ran elsewhere instead of waiting for iot-cluster-node6",
    ]);
    const lost = withFault("storage-node-loss", {
      pinned: [{ ...pinned, dataIntact: false, dataEvidence: "marker not read back" }],
    });
    expect(verdict(lost)).toEqual(["fault storage-node-loss: influxdb's data not shown intact (marker not read back)"]);
    const gone = withFault("storage-node-loss", { pinned: [{ ...pinned, backOnNode: false }] });
    expect(verdict(gone)).toEqual(["fault storage-node-loss: influxdb did not come back on iot-cluster-node6"]);
  });

  it("fails when nothing crossed nodes, or a cross-node pair was not blocked", () => {
    const none = passing();
    expect(verdict({ ...none, allowed: { ...none.allowed, crossNode: { ok: 0, total: 0 } } })).toEqual([
      "allowed flows connect across nodes: nothing was probed",
    ]);
    expect(verdict({ ...none, forbidden: { ...none.forbidden, crossNode: { blocked: 43, total: 44 } } })).toEqual([
      "undeclared pairs blocked across nodes: 43/44",
    ]);
  });

  it("fails a wrong DNS answer, a failed check and anything the teardown left", () => {
    const r = passing();
    expect(verdict({ ...r, dns: { ...r.dns, ok: 107 } })).toEqual(["DNS names resolve to the right tasks: 107/108"]);
    expect(verdict({ ...r, checks: [{ name: "Managers run no tasks", ok: false, detail: "redis@node1" }] })).toEqual([
      "Managers run no tasks: redis@node1",
    ]);
    expect(verdict({ ...r, teardown: { leftovers: ["namespaces iot-cluster-hub"], errors: [] } })).toEqual([
      "teardown left: namespaces iot-cluster-hub",
    ]);
  });

  it("fails a run without the encryption probe, or with the probe's payload in plaintext", () => {
    const r = passing();
    expect(verdict({ ...r, encryption: undefined })).toEqual(["encryption: not probed"]);
    expect(verdict({ ...r, encryption: { ...encryption, plaintextSeen: 2, crossNode: "plaintext" } })).toEqual([
      "encryption: 2 frame(s) on the hub bridge carried the probe's payload in plaintext on the encrypted network iot-encryption-probe-network",
    ]);
  });

  it("fails telemetry that was not measured, too short, incomplete or stored twice", () => {
    const r = passing();
    const t = (over: Partial<TelemetryCounts>) => verdict({ ...r, telemetry: { ...telemetry, ...over } });
    expect(verdict({ ...r, telemetry: NOT_MEASURED })).toEqual([`telemetry: ${NOT_MEASURED}`]);
    expect(t({ sent: TELEMETRY_MIN_SENT - 1, stored: TELEMETRY_MIN_SENT - 1 })).toEqual([
      `telemetry: ${TELEMETRY_MIN_SENT - 1} readings sent (at least ${TELEMETRY_MIN_SENT})`,
    ]);
    expect(t({ sent: TELEMETRY_MIN_SENT, stored: TELEMETRY_MIN_SENT })).toEqual([]);
    expect(t({ stored: 1398, missing: ["a-000007", "a-000008"] })).toEqual([
      "telemetry: 1398 of 1400 readings stored in InfluxDB (missing e.g. a-000007, a-000008)",
    ]);
    expect(t({ duplicates: 3 })).toEqual(["telemetry: 3 readings stored more than once"]);
  });

  it("fails a fault that lost readings, or whose readings were never counted", () => {
    expect(verdict(withFault("broker-restart", { lostMessages: 4 }))).toEqual([
      "fault broker-restart: 4 telemetry readings sent meanwhile never stored",
    ]);
    expect(verdict(withFault("drain", { lostMessages: TELEMETRY_PENDING }))).toEqual([
      `fault drain: lost telemetry ${TELEMETRY_PENDING}`,
    ]);
    const lost = withFault("drain", { lostMessages: 1 });
    expect(summary({ ...lost, passed: false, failures: verdict(lost) })).toMatch(
      /FAIL {2}Fault drain .*lost readings 1;/,
    );
  });

  it("summarises each fault on one line and says what is not measured", () => {
    const r = passing();
    const text = summary({ ...r, passed: true, failures: [] });
    expect(text).toContain("PASSED");
    expect(text).toMatch(
      /PASS {2}Fault storage-node-loss \(iot-cluster-node4\) +0\/300 failed; lost readings 0; recovered in 20\.0 s;.*influxdb waited 50 s for iot-cluster-node6, back after 18\.0 s, data intact/,
    );
    expect(text).toMatch(
      /PASS {2}Telemetry: every reading stored exactly once +1400 readings sent, 1400 stored, 0 duplicates, 0 unacknowledged by the broker; all stored 2\.1 s after the last was sent/,
    );
    const unmeasured = { ...r, telemetry: NOT_MEASURED };
    expect(summary({ ...unmeasured, passed: false, failures: verdict(unmeasured) })).toMatch(
      /FAIL {2}Telemetry: every reading stored exactly once +not measured/,
    );
    expect(text).toMatch(
      /PASS {2}Encrypted overlay: no plaintext on the hub bridge +plaintext frames 0 \(control network: 4\); cross-node fails-closed/,
    );
    const failed = withFault("drain", { failedRequests: 2 });
    expect(summary({ ...failed, passed: false, failures: verdict(failed) })).toMatch(/FAIL {2}Fault drain/);
  });
});
