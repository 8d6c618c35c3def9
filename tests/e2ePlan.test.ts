/**
 * The pure parts of the end-to-end run (e2e/): what it derives from the model and the program's
 * exports, and how it decides pass or fail. The run itself needs a Docker engine (npm run e2e).
 */
import { discoveryTable, publishedPorts } from "../model/discovery";
import { planNetworks } from "../model/networks";
import { planProbes, ProgramExports, sharedTopic, topicMatches, topicUnder } from "../e2e/probes/intent";
import { summarizeIdentities } from "../e2e/probes/identity";
import { E2eReport, summary, verdict } from "../e2e/report";
import { readStackConfig } from "../tools/stackFile";
import { topologyFrom } from "./helpers";

function e2eTopology() {
  const raw = Object.fromEntries(
    Object.entries(readStackConfig("e2e").config).map(([k, v]) => [k.replace(/^iot-swarm-net:/, ""), v]),
  );
  return topologyFrom(raw);
}

function exportsOf(t: ReturnType<typeof e2eTopology>): ProgramExports {
  const plan = planNetworks(t);
  return {
    environment: t.environment,
    intendedReachability: plan.intent,
    reachability: plan.reachability,
    discovery: discoveryTable(t, plan),
    publishedPorts: publishedPorts(t),
    networks: Object.fromEntries(plan.networks.map((n) => [n.name, `${n.name}-id`])),
    caCertPem: "",
  };
}

describe("the e2e probe plan", () => {
  const t = e2eTopology();
  const exports = exportsOf(t);
  const plan = planProbes(t, exports);

  it("tests every declared flow and every ordered pair outside the intended reachability, and nothing in between", () => {
    expect(plan.flows).toEqual(t.flows);
    const n = t.services.length;
    const intendedOrdered = Object.values(exports.intendedReachability).reduce((sum, peers) => sum + peers.length, 0);
    expect(plan.forbidden.length).toBe(n * (n - 1) - intendedOrdered);
    for (const p of plan.forbidden) expect(exports.intendedReachability[p.from]).not.toContain(p.to);
    for (const f of t.flows) expect(plan.forbidden).not.toContainEqual({ from: f.from, to: f.to });
    expect(plan.forbidden).toContainEqual({ from: "grafana", to: "mosquitto" });
    expect(plan.problems).toEqual([]);
  });

  it("looks up every name of every peer a service may reach", () => {
    const grafana = plan.dns.filter((d) => d.from === "grafana").map((d) => d.service);
    expect(grafana).toEqual([...exports.intendedReachability.grafana].sort());
    const influx = plan.dns.find((d) => d.from === "grafana" && d.service === "influxdb")!;
    expect(influx.names).toEqual(["influxdb", "tsdb", "tasks.influxdb"]);
  });

  it("expects exactly the stack's published ports on the host", () => {
    expect(plan.expectedHostPorts).toEqual(["18080/tcp", "18443/tcp", "18883/tcp"]);
  });

  it("reports a flow outside the intent and reachability that differs from it", () => {
    const intent = exports.intendedReachability;
    const broken = planProbes(t, {
      ...exports,
      intendedReachability: { ...intent, "node-red": intent["node-red"].filter((p) => p !== "redis") },
    });
    expect(broken.problems).toContain("declared flow node-red -> redis:6379 is outside intendedReachability");
    expect(broken.problems).toContain("the exported reachability differs from intendedReachability");
  });
});

describe("MQTT topics for the device probes", () => {
  it("matches filters as the broker does", () => {
    expect(topicMatches("devices/#", "devices/a/b")).toBe(true);
    expect(topicMatches("devices/#", "devices")).toBe(true);
    expect(topicMatches("devices/+/t", "devices/a/t")).toBe(true);
    expect(topicMatches("devices/+/t", "devices/a/b/t")).toBe(false);
    expect(topicMatches("commands/e2e-device/#", "commands/other/x")).toBe(false);
    expect(topicUnder("devices/+/#", "e2e/1")).toBe("devices/probe/e2e/1");
  });

  it("finds a topic one identity may write and the other read, from either side's filter", () => {
    const t = e2eTopology();
    expect(sharedTopic(t, "e2e-device", "node-red", "e2e/1")).toBe("devices/e2e-device/e2e/1");
    expect(sharedTopic(t, "node-red", "e2e-device", "e2e/1")).toBe("commands/e2e-device/e2e/1");
    expect(sharedTopic(t, "mqtt-exporter", "node-red", "e2e/1")).toBeUndefined();
  });
});

describe("the e2e verdict", () => {
  const passing: Omit<E2eReport, "passed" | "failures"> = {
    allowed: { ok: 13, total: 13 },
    forbidden: { blocked: 46, total: 46 },
    identity: {
      flows: 2,
      allowedOk: 2,
      outOfScopeRefused: 2,
      undeclaredRefused: 2,
      undeclaredPairs: 0,
      undeclaredPairsRefused: 0,
    },
    dns: { ok: 78, total: 78 },
    tls: { mqttsOk: true, plaintextRefused: true, untrustedClientRefused: true },
    routes: { ok: 3, total: 3 },
    lb: { perReplica: { "grafana.1": 30, "grafana.2": 30, "grafana.3": 30 } },
    failover: { requests: 400, failedRequests: 0, recoverySeconds: 16 },
    internalEgressBlocked: true,
    hostPorts: { expected: ["18443/tcp", "18883/tcp"], found: ["18883/tcp", "18443/tcp"] },
    standIns: ["grafana"],
    run: { runId: "r", startedAt: "", stack: "e2e", durations: { total: 100 } },
    environment: {},
    notes: [],
    checks: [{ name: "extra", ok: true, detail: "" }],
    teardown: { removed: 50, errors: [], leftovers: [], containmentRuleRemoved: true },
    details: {},
  };

  it("passes a report where every required check holds", () => {
    expect(verdict(passing)).toEqual([]);
    expect(summary({ ...passing, passed: true, failures: [] })).toMatch(/PASSED/);
  });

  it.each([
    ["a blocked pair that connects", { forbidden: { blocked: 45, total: 46 } }, "undeclared pairs blocked: 45/46"],
    ["nothing probed", { allowed: { ok: 0, total: 0 } }, "allowed flows connect: nothing was probed"],
    [
      "a FLUSHALL that went through",
      { identity: { ...passing.identity!, outOfScopeRefused: 1 } },
      "identities: operations outside the permissions refused: 1/2",
    ],
    [
      "a login without credentials that worked",
      { identity: { ...passing.identity!, undeclaredRefused: 1 } },
      "identities: no or other credentials refused: 1/2",
    ],
    [
      "a caller without a flow that Redis let in",
      { identity: { ...passing.identity!, undeclaredPairs: 3, undeclaredPairsRefused: 2 } },
      "identities: callers sharing a network without a flow refused without credentials: 2/3",
    ],
    [
      "an extra host port",
      { hostPorts: { expected: ["18443/tcp"], found: ["18443/tcp", "8086/tcp"] } },
      "host ports: expected 18443/tcp, found 18443/tcp,8086/tcp",
    ],
    ["a replica without requests", { lb: { perReplica: { "grafana.1": 45, "grafana.2": 0 } } }, "load balancing"],
    [
      "a replica never restored",
      { failover: { requests: 300, failedRequests: 0, recoverySeconds: null } },
      "did not restore",
    ],
    [
      "a failed request during failover",
      { failover: { requests: 300, failedRequests: 1, recoverySeconds: 15 } },
      "1 of 300 requests failed (goal 0)",
    ],
    [
      "too few failover requests",
      { failover: { requests: 120, failedRequests: 0, recoverySeconds: 15 } },
      "only 120 requests",
    ],
    ["internal egress not shown blocked", { internalEgressBlocked: false }, "internal networks"],
    [
      "a failed extra check",
      { checks: [{ name: "Gateway sends HSTS", ok: false, detail: "missing" }] },
      "Gateway sends HSTS: missing",
    ],
    [
      "something left behind",
      { teardown: { removed: 3, errors: [], leftovers: ["network iot-edge-network"], containmentRuleRemoved: true } },
      "teardown left: network iot-edge-network",
    ],
  ])("fails on %s", (_, change, message) => {
    const failures = verdict({ ...passing, ...change } as typeof passing);
    expect(failures.join("\n")).toContain(message);
  });

  it("counts the callers without a flow in the identity summary and shows them in the table", () => {
    const pair = (refused: boolean) => ({
      pair: "a -> redis:6379",
      protocol: "redis" as const,
      holdsIdentity: false,
      refused,
      evidence: "",
    });
    const identity = summarizeIdentities([], [pair(true), pair(false), pair(true)]);
    expect(identity).toMatchObject({ flows: 0, undeclaredPairs: 3, undeclaredPairsRefused: 2 });
    const row = (r: typeof passing) =>
      summary({ ...r, passed: false, failures: [] })
        .split("\n")
        .find((l) => l.includes("without a flow to it"));
    expect(row(passing)).toMatch(/PASS.*0 pairs/);
    expect(
      row({ ...passing, identity: { ...passing.identity!, undeclaredPairs: 3, undeclaredPairsRefused: 2 } }),
    ).toMatch(/FAIL.*2\/3 pairs refused/);
  });
});
