/**
 * Undeclared callers (model/identity.ts): every client that shares a network with a server's authenticated port
 * but has no flow there. The e2e run probes each from the client's task and expects the server to refuse it.
 */
import { authenticatedPorts, identitiesOf, undeclaredCallers, UndeclaredCaller } from "../model/identity";
import { planNetworks } from "../model/networks";
import { Topology } from "../model/types";
import { readStackConfig } from "../tools/stackFile";
import { topologyFrom } from "./helpers";

function stack(name: string): Topology {
  const raw = Object.fromEntries(
    Object.entries(readStackConfig(name).config).map(([k, v]) => [k.replace(/^iot-swarm-net:/, ""), v]),
  );
  return topologyFrom(raw);
}

/** The dev stack plus a bridge on the backend and cache tiers (beside Node-RED, InfluxDB and Redis). */
const withBridge = (flows: string[]) =>
  topologyFrom({
    environment: "dev",
    services: {
      bridge: {
        image: "ghcr.io/acme/bridge:1.0.0",
        tiers: ["backend", "cache"],
        role: "bridge",
        ports: [{ name: "http", port: 8080, appProtocol: "http", purpose: "health" }],
        health: { test: ["CMD", "true"] },
      },
    },
    flows: flows.map((flow) => ({ flow })),
  });

const line = (c: UndeclaredCaller) => `${c.client} -> ${c.server}:${c.port} ${c.protocol}`;

/** What every returned pair must be: a shared network, no flow to that port, no identity for the server. */
function expectUndeclared(t: Topology, callers: readonly UndeclaredCaller[]) {
  const reach = planNetworks(t).reachability;
  for (const c of callers) {
    expect(c.client).not.toBe(c.server);
    expect(reach[c.client]).toContain(c.server);
    expect(t.flows.some((f) => f.from === c.client && f.to === c.server && f.port === c.port)).toBe(false);
    expect(identitiesOf(t, c.client).filter((i) => i.server === c.server)).toEqual([]);
  }
}

describe.each(["dev", "e2e", "prod"])("undeclared callers of the %s stack", (name) => {
  // Resolved in each test: a change that broke resolving then fails the tests instead of the suite's loading.
  it("are none: every service on a network with Redis, NATS, the broker or InfluxDB has a flow to it", () => {
    const t = stack(name);
    const reach = planNetworks(t).reachability;
    const sharing = authenticatedPorts(t).flatMap((p) => reach[p.server].map((x) => `${x} -> ${p.server}:${p.port}`));
    expect(sharing.length).toBeGreaterThan(0);
    for (const pair of sharing) expect(t.flows.map((f) => `${f.from} -> ${f.to}:${f.port}`)).toContain(pair);
    expect(undeclaredCallers(t)).toEqual([]);
  });

  it("appear once a server's tier takes in a service without a flow to it, and leave with its flow", () => {
    const t = stack(name);
    const redisTier = t.services.find((s) => s.app === "redis")!.tiers[0];
    const grafana = t.services.find((s) => s.name === "grafana")!;
    const moved: Topology = {
      ...t,
      services: t.services.map((s) => (s === grafana ? { ...s, tiers: [...s.tiers, redisTier] } : s)),
    };
    const callers = undeclaredCallers(moved);
    expect(callers.map(line)).toEqual(["grafana -> redis:6379 redis"]);
    expectUndeclared(moved, callers);
    const flow = { ...t.flows[0], from: "grafana", to: "redis", port: 6379, permissions: undefined };
    expect(undeclaredCallers({ ...moved, flows: [...moved.flows, flow] })).toEqual([]);
  });
});

describe("undeclared callers of a stack with a bridge beside Node-RED, InfluxDB and Redis", () => {
  const t = () => withBridge(["bridge -> nats:4222"]);

  it("are the bridge to InfluxDB and to Redis, each by the network it shares", () => {
    const callers = undeclaredCallers(t());
    expect(callers.map(line)).toEqual(["bridge -> influxdb:8086 influxdb", "bridge -> redis:6379 redis"]);
    expectUndeclared(t(), callers);
  });

  it("never include a server the bridge has a flow to (NATS, over their link network)", () => {
    expect(planNetworks(t()).reachability.bridge).toContain("nats");
    expect(undeclaredCallers(t()).some((c) => c.server === "nats")).toBe(false);
  });

  it("drop exactly the pair whose flow is declared", () => {
    const after = withBridge(["bridge -> nats:4222", "bridge -> redis:6379"]);
    expect(undeclaredCallers(after).map(line)).toEqual(["bridge -> influxdb:8086 influxdb"]);
    expectUndeclared(after, undeclaredCallers(after));
  });

  it("count a flow to another port of the server as no flow to its authenticated port", () => {
    const t2 = withBridge(["bridge -> nats:8222"]);
    const pairs = undeclaredCallers(t2).map(line);
    expect(pairs).toContain("bridge -> nats:4222 nats");
    expectUndeclared(t2, undeclaredCallers(t2));
  });
});

describe("authenticated ports", () => {
  it("are Redis's, NATS's, the broker's MQTTS port and InfluxDB's HTTP API on the reference stack", () => {
    expect(authenticatedPorts(stack("dev")).map((p) => `${p.server}:${p.port} ${p.protocol}`)).toEqual([
      "mosquitto:8883 mqtts",
      "influxdb:8086 influxdb",
      "redis:6379 redis",
      "nats:4222 nats",
    ]);
  });

  it("leave out the broker when it does not require client certificates", () => {
    const t = stack("dev");
    const open: Topology = { ...t, mqtt: { ...t.mqtt, requireClientCertificate: false } };
    expect(authenticatedPorts(open).map((p) => p.protocol)).not.toContain("mqtts");
  });
});
