import { formatCidr, overlaps, parseCidr } from "../model/cidr";
import { allocateSubnets, diffReachability, planNetworks } from "../model/networks";
import { topologyFrom } from "./helpers";

const pairs = (m: Record<string, readonly string[]>) =>
  new Set(Object.entries(m).flatMap(([a, ps]) => ps.map((b) => [a, b].sort().join("<->"))));

describe.each(["dev", "prod"])("network plan for the reference %s stack", (environment) => {
  const topology = topologyFrom({ environment });
  const plan = planNetworks(topology);

  it("makes reachability equal the declared intent exactly", () => {
    expect(plan.reachability).toEqual(plan.intent);
    expect(diffReachability(plan.reachability, plan.intent)).toEqual({ extra: [], missing: [] });
  });

  it("keeps Grafana off every network Mosquitto or Node-RED is on", () => {
    expect(plan.reachability.grafana).not.toContain("mosquitto");
    expect(plan.reachability.grafana).not.toContain("node-red");
    for (const n of plan.networks) {
      if (n.services.includes("grafana")) expect(n.services).not.toEqual(expect.arrayContaining(["mosquitto"]));
      if (n.services.includes("grafana")) expect(n.services).not.toContain("node-red");
    }
  });

  it("keeps the seeds' tier networks and their members", () => {
    const members = (name: string) => plan.networks.find((n) => n.name === name)?.services ?? [];
    expect(members("iot-frontend-network")).toEqual(expect.arrayContaining(["grafana", "influxdb"]));
    expect(members("iot-backend-network")).toEqual(expect.arrayContaining(["node-red", "influxdb"]));
    expect(members("iot-mqtt-network")).toEqual(expect.arrayContaining(["mosquitto"]));
  });

  it("carries every declared flow on a shared network", () => {
    for (const f of topology.flows) expect(plan.reachability[f.from]).toContain(f.to);
  });

  it("makes every network internal except single-member egress networks", () => {
    for (const n of plan.networks) {
      expect(n.internal).toBe(n.kind !== "egress");
      if (n.kind === "egress") expect(n.services).toHaveLength(1);
    }
    expect(
      plan.networks
        .filter((n) => n.kind === "egress")
        .map((n) => n.owner)
        .sort(),
    ).toEqual(["gateway", "mosquitto"]);
  });

  it("gives every network its own subnet inside the pool", () => {
    const pool = parseCidr(topology.subnetPool);
    const subnets = plan.networks.map((n) => parseCidr(n.subnet));
    for (const [i, a] of subnets.entries()) {
      expect(overlaps(a, pool) && a.prefix >= pool.prefix).toBe(true);
      for (const b of subnets.slice(i + 1)) expect(overlaps(a, b)).toBe(false);
    }
  });

  it("encrypts overlays exactly in prod", () => {
    expect(plan.networks.every((n) => n.encrypted === (environment === "prod"))).toBe(true);
  });
});

describe("flows that no tier can carry", () => {
  it("get a two-member link network instead of widening a tier", () => {
    // Redis joining the frontend tier would let it reach InfluxDB, which nothing declared.
    const t = topologyFrom({ environment: "dev", flows: ["redis -> grafana:3000"] });
    const plan = planNetworks(t);
    expect(plan.reachability).toEqual(plan.intent);
    expect(plan.reachability.redis).not.toContain("influxdb");
    const link = plan.networks.find(
      (n) => n.kind === "link" && n.services.includes("grafana") && n.services.includes("redis"),
    );
    expect(link?.services).toHaveLength(2);
    expect(pairs(plan.reachability)).toEqual(pairs(plan.intent));
  });

  it("holds for a generated topology of many tiers and random flows", () => {
    const services: Record<string, unknown> = {};
    const tiers = Array.from({ length: 8 }, (_, i) => ({ name: `t${i}`, description: `tier ${i}` }));
    for (let i = 0; i < 40; i++) {
      services[`svc${i}`] = {
        image: "busybox:1.36",
        tiers: [`t${i % 8}`],
        role: "app",
        ports: [{ name: "http", port: 8000 + (i % 5), appProtocol: "http", purpose: "app" }],
        health: { test: ["CMD", "true"] },
      };
    }
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const flows = Array.from({ length: 60 }, () => {
      const a = rand(40);
      const b = (a + 1 + rand(39)) % 40;
      return `svc${a} -> svc${b}:${8000 + (b % 5)}`;
    });
    const plan = planNetworks(topologyFrom({ environment: "dev", tiers, services, flows }));
    expect(diffReachability(plan.reachability, plan.intent)).toEqual({ extra: [], missing: [] });
  });
});

describe("subnet allocation", () => {
  it("does not renumber existing networks when one is added", () => {
    const before = allocateSubnets(["iot-a", "iot-b", "iot-c"], "10.231.0.0/16", 24);
    const after = allocateSubnets(["iot-a", "iot-b", "iot-c", "iot-d"], "10.231.0.0/16", 24);
    for (const name of ["iot-a", "iot-b", "iot-c"])
      expect(formatCidr(after.get(name)!)).toBe(formatCidr(before.get(name)!));
  });

  it("refuses more networks than the pool holds, naming the pool", () => {
    expect(() => allocateSubnets(["a", "b", "c"], "10.231.0.0/23", 24)).toThrow(
      /subnetPool 10.231.0.0\/23 holds 2 \/24 subnets, but 3/,
    );
  });
});

describe("external endpoints", () => {
  it("give only the declaring service a non-internal network of its own", () => {
    const t = topologyFrom({
      environment: "dev",
      services: { "node-red": { externalEndpoints: [{ name: "weather", host: "api.weather.example", port: 443 }] } },
    });
    const plan = planNetworks(t);
    const open = plan.networks.filter((n) => !n.internal);
    expect(open.map((n) => n.services)).toEqual(expect.arrayContaining([["node-red"]]));
    for (const n of open) expect(n.services).toHaveLength(1);
    expect(plan.reachability).toEqual(plan.intent);
    expect(plan.attachments.grafana.every((name) => plan.networks.find((n) => n.name === name)!.internal)).toBe(true);
  });
});
