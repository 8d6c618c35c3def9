/**
 * The shape of each planned network (tier, link, egress), the declared pairs the plan is held to, and the subnet
 * planner's errors and suggestions in small pools where collisions and full regions are certain.
 */
import { StackConfigError } from "../model/config";
import { overlaps, parseCidr } from "../model/cidr";
import { declaredPairs, diffReachability, planNetworks, planSubnets, SubnetRequest } from "../model/networks";
import { egressNetworkName, linkNetworkName } from "../model/naming";
import { Topology } from "../model/types";
import { topologyFrom } from "./helpers";
import { suggestedPins } from "./subnetPins";

const messageOf = (run: () => unknown): string => {
  try {
    run();
    return "";
  } catch (e) {
    if (!(e instanceof StackConfigError)) throw e;
    return e.message;
  }
};

describe("planned networks", () => {
  it("gives a pair of services in no common tier one link network for all its flows, named and described by them", () => {
    // Declared in the order the description does not list them.
    const t = topologyFrom({ environment: "dev", flows: ["redis -> grafana:3000", "grafana -> redis:6379"] });
    const links = planNetworks(t).networks.filter(
      (n) => n.services.includes("redis") && n.services.includes("grafana"),
    );
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({
      name: linkNetworkName("grafana", "redis"),
      kind: "link",
      owner: "grafana,redis",
      attachable: false,
      internal: true,
      description: "Link for grafana -> redis:6379, redis -> grafana:3000",
    });
  });

  it("lists a link's members in the services' order, whichever end the flow starts from", () => {
    // Redis comes before NATS among the services, after it among the names.
    const t = topologyFrom({ environment: "dev", flows: ["nats -> redis:6379"] });
    const link = planNetworks(t).networks.find((n) => n.name === linkNetworkName("nats", "redis"));
    expect(link).toMatchObject({ owner: "redis,nats", services: ["redis", "nats"] });
  });

  it("lists link networks in the order of their member pairs", () => {
    const t = topologyFrom({ environment: "dev", flows: ["redis -> nats:4222", "redis -> grafana:3000"] });
    const keys = planNetworks(t)
      .networks.filter((n) => n.kind === "link")
      .map((n) => [...n.services].sort().join("|"));
    expect(keys.length).toBeGreaterThan(2);
    expect(keys).toEqual([...keys].sort());
  });

  it("adds no link network for a flow between services that share any one of their tiers", () => {
    // InfluxDB is in frontend and backend, Grafana only in frontend.
    const t = topologyFrom({ environment: "dev", flows: ["influxdb -> grafana:3000"] });
    const plan = planNetworks(t);
    const tiersOf = new Map(t.services.map((s) => [s.name, s.tiers]));
    for (const link of plan.networks.filter((n) => n.kind === "link")) {
      const [a, b] = link.services;
      expect({ link: link.name, shared: tiersOf.get(a)!.filter((x) => tiersOf.get(b)!.includes(x)) }).toEqual({
        link: link.name,
        shared: [],
      });
    }
  });

  it("gives tier networks their tier and egress networks one member, attachable by nothing", () => {
    const t = topologyFrom({ environment: "dev" });
    const plan = planNetworks(t);
    for (const tier of t.tiers) {
      expect(plan.networks.find((n) => n.name === tier.network)).toMatchObject({ kind: "tier", owner: tier.name });
    }
    const gateway = plan.networks.find((n) => n.name === egressNetworkName("gateway"));
    expect(gateway).toMatchObject({
      kind: "egress",
      owner: "gateway",
      services: ["gateway"],
      attachable: false,
      internal: false,
      description: "Egress and published ports of gateway",
    });
  });

  it("never pairs a service with itself, in the declared pairs or in its intent", () => {
    const t = topologyFrom({ environment: "dev" });
    const self: Topology = { ...t, flows: [...t.flows, { ...t.flows[0], to: t.flows[0].from }] };
    for (const key of declaredPairs(self)) expect(key.split("|")[0]).not.toBe(key.split("|")[1]);
    const plan = planNetworks(self);
    for (const [service, peers] of Object.entries(plan.intent)) expect(peers).not.toContain(service);
    expect(plan.intent.grafana).not.toContain("mosquitto");
  });

  it("reports pairs the swarm lacks as missing", () => {
    expect(diffReachability({ a: ["b"], b: ["a"] }, { a: ["b", "c"], b: ["a"], c: ["a"] })).toEqual({
      extra: [],
      missing: ["a <-> c"],
    });
    expect(diffReachability({ a: [], d: [] }, { a: ["d", "c"], c: ["a"], d: ["a"] }).missing).toEqual([
      "a <-> c",
      "a <-> d",
    ]);
  });
});

describe("subnet planning in small pools", () => {
  const base = topologyFrom({ environment: "dev" });
  /** Tier networks only, in a /24 pool whose first half holds `slots` subnets. */
  const pool = (slots: number, pins: Record<string, string> = {}): Topology => ({
    ...base,
    subnetPool: "10.231.0.0/24",
    subnetPrefixLength: 25 + Math.log2(slots),
    subnetPins: pins,
  });
  const tiers = (...names: string[]): SubnetRequest[] => names.map((name) => ({ name, kind: "tier" }));
  const names = Array.from({ length: 24 }, (_, i) => `net-${i}`);
  /** Two names that land on one subnet in a region of `slots`. */
  const collidingPair = (slots: number): { a: string; b: string } => {
    const landed = new Map<number, string>();
    for (const name of names) {
      const at = planSubnets(tiers(name), pool(slots)).get(name)!.base;
      const other = landed.get(at);
      if (other) return { a: other, b: name };
      landed.set(at, name);
    }
    throw new Error("no colliding pair among the names");
  };

  it("rejects a prefix length that leaves no subnet in its half of the pool, naming the key", () => {
    const t = { ...base, subnetPool: "10.231.0.0/16", subnetPrefixLength: 16, linkSubnetPrefixLength: 17 };
    expect(messageOf(() => planSubnets(tiers("net-0"), t))).toContain(
      "iot-swarm-net:subnetPrefixLength: must be longer than /17 (half of subnetPool 10.231.0.0/16 holds the tier and " +
        "egress networks), but 16 was provided",
    );
    const links = { ...t, subnetPrefixLength: 24, linkSubnetPrefixLength: 16 };
    expect(messageOf(() => planSubnets([{ name: "net-0", kind: "link" }], links))).toContain(
      "iot-swarm-net:linkSubnetPrefixLength: must be longer than /17 (half of subnetPool 10.231.0.0/16 holds the link " +
        "networks), but 16 was provided",
    );
  });

  it("takes a pin of the whole pool as inside it", () => {
    expect(planSubnets(tiers("net-0"), pool(4, { "net-0": "10.231.0.0/24" })).get("net-0")!.prefix).toBe(24);
  });

  it("rejects a pin wider than the pool", () => {
    const t = { ...base, subnetPins: { "iot-edge-network": "10.0.0.0/8" } };
    expect(messageOf(() => planNetworks(t))).toContain(
      "iot-swarm-net:subnets.iot-edge-network: 10.0.0.0/8 is not inside subnetPool 10.231.0.0/16",
    );
  });

  it("names every planned network when a pin names none of them", () => {
    const message = messageOf(() => planSubnets(tiers("net-1", "net-0"), pool(4, { "net-9": "10.231.0.0/27" })));
    expect(message).toContain('no planned network is named "net-9"; planned: net-1, net-0');
  });

  it("suggests nothing when the region is full, not even a subnet of the other half", () => {
    const message = messageOf(() => planSubnets(tiers("net-0", "net-1"), pool(1)));
    expect(message).toContain('networks "net-0" and "net-1" would both use 10.231.0.0/25');
    expect(message).toContain("pin another subnet or widen subnetPool");
    expect(suggestedPins(message)).toEqual([]);
  });

  it("suggests a free subnet for either of two unpinned networks, naming them in name order", () => {
    const { a, b } = collidingPair(4);
    const message = messageOf(() => planSubnets(tiers(b, a), pool(4)));
    const [first, second] = [a, b].sort();
    expect(message).toContain(`networks "${first}" and "${second}" would both use`);
    expect(message).toContain(`iot-swarm-net:subnets.${second}:`);
    const suggestions = suggestedPins(message);
    expect(suggestions.map(([n]) => n)).toEqual([second, first]);
    expect(message).toMatch(/\(subnets: \{ [^}]+ \} or subnets: \{ [^}]+ \}\), or widen subnetPool/);
    for (const [network, cidr] of suggestions) {
      const planned = planSubnets(tiers(a, b), pool(4, { [network]: cidr }));
      expect(overlaps(planned.get(a)!, planned.get(b)!)).toBe(false);
    }
  });

  it("suggests a different free subnet for each network it names, across collisions", () => {
    // Two collisions on two subnets of eight: each of the four networks gets its own suggestion.
    const first = collidingPair(8);
    const rest = names.filter((n) => n !== first.a && n !== first.b);
    const at = (n: string) => planSubnets(tiers(n), pool(8)).get(n)!.base;
    const second = rest
      .flatMap((a, i) => rest.slice(i + 1).map((b) => ({ a, b })))
      .find(({ a, b }) => at(a) === at(b) && at(a) !== at(first.a))!;
    const message = messageOf(() => planSubnets(tiers(first.a, first.b, second.a, second.b), pool(8)));
    const cidrs = suggestedPins(message).map(([, cidr]) => cidr);
    expect(cidrs).toHaveLength(4);
    expect(new Set(cidrs).size).toBe(4);
  });

  it("never suggests a subnet a pinned network holds", () => {
    const { a, b } = collidingPair(4);
    // A pinned network on a free subnet, one its name alone would not land on.
    const taken = new Set([a, b].map((n) => planSubnets(tiers(n), pool(4)).get(n)!.base));
    const free = [0, 32, 64, 96].map((o) => `10.231.0.${o}/27`).find((c) => !taken.has(parseCidr(c).base))!;
    const pinnedName = names.find(
      (n) => n !== a && n !== b && planSubnets(tiers(n), pool(4)).get(n)!.base !== parseCidr(free).base,
    )!;
    const message = messageOf(() => planSubnets(tiers(a, b, pinnedName), pool(4, { [pinnedName]: free })));
    const suggestions = suggestedPins(message);
    expect(suggestions.length).toBeGreaterThan(0);
    for (const [, cidr] of suggestions) expect(overlaps(parseCidr(cidr), parseCidr(free))).toBe(false);
  });

  it("suggests a link network's free subnet in the link half, at the link length", () => {
    const t = topologyFrom({ environment: "dev" });
    const [a, b] = planNetworks(t).networks.filter((n) => n.kind === "link");
    const message = messageOf(() => planNetworks({ ...t, subnetPins: { [b.name]: a.subnet } }));
    const [[network, cidr]] = suggestedPins(message);
    expect(network).toBe(a.name);
    const secondHalf = { base: parseCidr("10.231.128.0/17").base, prefix: 17 };
    expect(overlaps(parseCidr(cidr), secondHalf)).toBe(true);
    expect(parseCidr(cidr).prefix).toBe(26);
  });
});
