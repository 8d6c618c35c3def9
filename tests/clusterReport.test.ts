/**
 * How the e2e cluster run decides pass or fail (e2e/cluster/report.ts). The run itself needs root
 * and Docker (npm run e2e:cluster); its verdict is pure.
 */
import { ClusterReport, FaultReport, NOT_MEASURED, REQUIRED_FAULTS, summary, verdict } from "../e2e/cluster/report";
import { passingEncryption } from "./encryptionFixture";

function fault(name: string, over: Partial<FaultReport> = {}): FaultReport {
  return {
    name,
    node: "iot-cluster-node4",
    requests: 300,
    failedRequests: 0,
    lostMessages: NOT_MEASURED,
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
    telemetry: NOT_MEASURED,
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

  it("summarises each fault on one line and says what is not measured", () => {
    const r = passing();
    const text = summary({ ...r, passed: true, failures: [] });
    expect(text).toContain("PASSED");
    expect(text).toMatch(
      /PASS {2}Fault storage-node-loss \(iot-cluster-node4\) +0\/300 failed; recovered in 20\.0 s;.*influxdb waited 50 s for iot-cluster-node6, back after 18\.0 s, data intact/,
    );
    expect(text).toContain(`Lost messages, telemetry: ${NOT_MEASURED}`);
    expect(text).toMatch(
      /PASS {2}Encrypted overlay: no plaintext on the hub bridge +plaintext frames 0 \(control network: 4\); cross-node fails-closed/,
    );
    const failed = withFault("drain", { failedRequests: 2 });
    expect(summary({ ...failed, passed: false, failures: verdict(failed) })).toMatch(/FAIL {2}Fault drain/);
  });
});
