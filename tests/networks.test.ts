import { overlaps, parseCidr } from "../model/cidr";
import { diffReachability, planNetworks } from "../model/networks";
import { topologyFrom } from "./helpers";
import { planWithSuggestedPins, suggestedPins } from "./subnetPins";

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
    // A topology this size needs a wider pool than the default /16; a subnet collision is resolved as a user
    // would: pin the subnets the error suggests and plan again.
    const { plan } = planWithSuggestedPins(
      topologyFrom({ environment: "dev", subnetPool: "10.64.0.0/12", tiers, services, flows }),
    );
    expect(diffReachability(plan.reachability, plan.intent)).toEqual({ extra: [], missing: [] });
  });
});

describe("subnet planning", () => {
  const subnetOf = (t: Parameters<typeof planNetworks>[0], name: string) =>
    planNetworks(t).networks.find((n) => n.name === name)!.subnet;

  it("puts tier and egress networks in the first half of the pool and link networks in the second", () => {
    const plan = planNetworks(topologyFrom({ environment: "dev" }));
    const pool = parseCidr("10.231.0.0/16");
    const secondHalf = { base: pool.base + 2 ** 15, prefix: 17 };
    for (const n of plan.networks) {
      const subnet = parseCidr(n.subnet);
      expect({ network: n.name, inSecondHalf: overlaps(subnet, secondHalf) }).toEqual({
        network: n.name,
        inSecondHalf: n.kind === "link",
      });
      expect(subnet.prefix).toBe(n.kind === "link" ? 26 : 24);
    }
  });

  it("keeps a network's subnet whatever else the plan holds", () => {
    const before = topologyFrom({ environment: "dev" });
    const after = topologyFrom({ environment: "dev", flows: ["grafana -> redis:6379"] });
    for (const n of planNetworks(before).networks) expect(subnetOf(after, n.name)).toBe(n.subnet);
  });

  it("rejects two networks on one subnet, naming both and a free subnet to pin", () => {
    const t = topologyFrom({ environment: "dev" });
    const plan = planNetworks(t);
    const [a, b] = plan.networks.filter((n) => n.kind === "link");
    const pinned = { ...t, subnetPins: { [b.name]: a.subnet } };
    const error = (() => {
      try {
        planNetworks(pinned);
        return "";
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(error).toContain(`iot-swarm-net:subnets.${b.name}`);
    expect(error).toContain("widen subnetPool");
    expect(error).toContain(`networks "${a.name}" and "${b.name}" would both use ${a.subnet}`);
    // The suggestion is for whichever of the two is not pinned already: here a.
    const [[network, free]] = suggestedPins(error);
    expect(network).toBe(a.name);
    const replanned = planNetworks({ ...t, subnetPins: { [b.name]: a.subnet, [a.name]: free } });
    expect(replanned.networks.find((n) => n.name === a.name)!.subnet).toBe(free);
    expect(replanned.networks.find((n) => n.name === b.name)!.subnet).toBe(a.subnet);
  });

  it("suggests pins that avoid every planned subnet, so following them plans at once", () => {
    // In this small pool the first suggestion once fell on the subnet of a network later in name order
    // (iot-mqtt-network), so the pinned plan failed again.
    const tiers = ["x6", "y6", "z6"].map((name) => ({ name, description: "" }));
    const t = topologyFrom({ environment: "dev", subnetPool: "10.231.0.0/18", tiers });
    const { plan, pins } = planWithSuggestedPins(t);
    expect(Object.keys(pins).length).toBeGreaterThan(0);
    const subnets = plan.networks.map((n) => parseCidr(n.subnet));
    subnets.forEach((a, i) => subnets.slice(i + 1).forEach((b) => expect(overlaps(a, b)).toBe(false)));
  });

  it("rejects a pin for a network that is not planned, and one outside the pool", () => {
    const t = topologyFrom({ environment: "dev" });
    expect(() => planNetworks({ ...t, subnetPins: { "iot-nowhere": "10.231.1.0/24" } })).toThrow(
      /iot-swarm-net:subnets\.iot-nowhere: no planned network is named "iot-nowhere"/,
    );
    expect(() => planNetworks({ ...t, subnetPins: { "iot-edge-network": "10.99.0.0/24" } })).toThrow(
      /iot-swarm-net:subnets\.iot-edge-network: 10\.99\.0\.0\/24 is not inside subnetPool 10\.231\.0\.0\/16/,
    );
  });

  it("derives distinct VXLAN ids from the distinct subnets, above Docker's own range", () => {
    const plan = planNetworks(topologyFrom({ environment: "prod" }));
    const ids = plan.networks.map((n) => n.vxlanId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toBeGreaterThanOrEqual(0x800000);
    for (const id of ids) expect(id).toBeLessThan(2 ** 24);
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
