/**
 * Planner stability over random topologies: the plan is a function of sets (reordering tiers, services or
 * flows in stack config changes nothing), and adding one flow adds at most one network and re-members only
 * the flow's two services, leaving every other network's name, subnet, VXLAN id and members as they were.
 */
import fc from "fast-check";
import { NetworkPlan } from "../model/networks";
import { referenceServices, referenceTiers } from "../model/catalog";
import { topologyFrom } from "./helpers";
import { planWithSuggestedPins } from "./subnetPins";

interface RawTopology {
  tiers: { name: string; description: string }[];
  services: Record<string, unknown>;
  flows: string[];
}

const reserved = new Set([...referenceServices.map((s) => s.name), ...referenceTiers.map((t) => t.name)]);
const serviceName = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/).filter((n) => !reserved.has(n));
const tierName = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/).filter((n) => !reserved.has(n));

/** Random services in random tiers, with flows between them (each to a port the server listens on). */
const topology: fc.Arbitrary<RawTopology> = fc
  .record({
    tiers: fc.uniqueArray(tierName, { minLength: 2, maxLength: 6 }),
    names: fc.uniqueArray(serviceName, { minLength: 3, maxLength: 14 }),
  })
  .chain(({ tiers, names }) =>
    fc.record({
      tiers: fc.constant(tiers.map((name) => ({ name, description: `tier ${name}` }))),
      memberships: fc.array(fc.subarray(tiers, { minLength: 1, maxLength: 2 }), {
        minLength: names.length,
        maxLength: names.length,
      }),
      ports: fc.array(fc.integer({ min: 1024, max: 9999 }), { minLength: names.length, maxLength: names.length }),
      flows: fc.uniqueArray(
        fc
          .tuple(fc.nat(names.length - 1), fc.nat(names.length - 1))
          .filter(([a, b]) => a !== b)
          .map(([a, b]) => `${a},${b}`),
        { maxLength: 25 },
      ),
      names: fc.constant(names),
    }),
  )
  .map(({ tiers, memberships, ports, flows, names }) => ({
    tiers,
    services: Object.fromEntries(
      names.map((name, i) => [
        name,
        {
          image: "ghcr.io/acme/app:1.0.0",
          tiers: memberships[i],
          role: "app",
          ports: [{ name: "http", port: ports[i], appProtocol: "http", purpose: "app" }],
          health: { test: ["CMD", "true"] },
        },
      ]),
    ),
    flows: flows.map((pair) => {
      const [a, b] = pair.split(",").map(Number);
      return `${names[a]} -> ${names[b]}:${ports[b]}`;
    }),
  }));

const plan = (raw: RawTopology, pins: Record<string, string> = {}, prefer?: (network: string) => boolean) =>
  planWithSuggestedPins(
    { ...topologyFrom({ environment: "dev", subnetPool: "10.64.0.0/12", ...raw }), subnetPins: pins },
    prefer,
  );

/** A plan as the resources it becomes: per network its subnet, VXLAN id and member set; per service its networks. */
function shape(p: NetworkPlan) {
  return {
    networks: Object.fromEntries(
      p.networks.map((n) => [
        n.name,
        { kind: n.kind, subnet: n.subnet, vxlanId: n.vxlanId, members: [...n.services].sort() },
      ]),
    ),
    attachments: Object.fromEntries(Object.entries(p.attachments).map(([s, nets]) => [s, [...nets].sort()])),
  };
}

const shuffled = <T>(items: readonly T[], seed: number) =>
  items
    .map((item, i) => ({ item, key: Math.sin(seed * 9301 + i * 49297) }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.item);

describe("network plan stability over random topologies", () => {
  it("does not change when tiers, services or flows are listed in another order", () => {
    fc.assert(
      fc.property(topology, fc.integer(), (raw, seed) => {
        const first = plan(raw);
        const reordered: RawTopology = {
          tiers: shuffled(raw.tiers, seed),
          services: Object.fromEntries(shuffled(Object.entries(raw.services), seed + 1)),
          flows: shuffled(raw.flows, seed + 2),
        };
        expect(shape(plan(reordered, first.pins).plan)).toEqual(shape(first.plan));
      }),
      { numRuns: 100 },
    );
  });

  it("adds at most one network and re-members only the two services when one flow is added", () => {
    fc.assert(
      fc.property(topology, fc.nat(), fc.nat(), (raw, i, j) => {
        const names = Object.keys(raw.services);
        const [from, to] = [names[i % names.length], names[(i + 1 + (j % (names.length - 1))) % names.length]];
        const port = (raw.services[to] as { ports: { port: number }[] }).ports[0].port;
        const flow = `${from} -> ${to}:${port}`;
        fc.pre(!raw.flows.includes(flow));
        const before = plan(raw);
        // A collision with the new network is resolved by pinning the new one, as its message suggests.
        const after = plan(
          { ...raw, flows: [...raw.flows, flow] },
          before.pins,
          (n) => !(n in shape(before.plan).networks),
        );
        const [b, a] = [shape(before.plan), shape(after.plan)];
        const added = Object.keys(a.networks).filter((n) => !(n in b.networks));
        expect(Object.keys(b.networks).filter((n) => !(n in a.networks))).toEqual([]);
        expect(added.length).toBeLessThanOrEqual(1);
        for (const name of Object.keys(b.networks))
          expect({ name, ...a.networks[name] }).toEqual({ name, ...b.networks[name] });
        const moved = Object.keys(a.attachments).filter(
          (s) => JSON.stringify(a.attachments[s]) !== JSON.stringify(b.attachments[s]),
        );
        for (const s of moved) expect([from, to]).toContain(s);
      }),
      { numRuns: 100 },
    );
  });

  it("makes reachability equal the declared intent, with no link network beside another shared network", () => {
    fc.assert(
      fc.property(topology, (raw) => {
        const { plan: p } = plan(raw);
        expect(p.reachability).toEqual(p.intent);
        for (const link of p.networks.filter((n) => n.kind === "link")) {
          const [x, y] = link.services;
          const shared = p.networks.filter((n) => n.services.includes(x) && n.services.includes(y));
          expect(shared.map((n) => n.name)).toEqual([link.name]);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe("the reference stacks' plans", () => {
  it.each(["dev", "prod"])("carry no redundant link network (%s)", (environment) => {
    const { plan: p, pins } = planWithSuggestedPins(topologyFrom({ environment }));
    expect(pins).toEqual({});
    for (const link of p.networks.filter((n) => n.kind === "link")) {
      const [x, y] = link.services;
      expect(p.networks.filter((n) => n.services.includes(x) && n.services.includes(y)).map((n) => n.name)).toEqual([
        link.name,
      ]);
    }
  });
});
