/**
 * Network planning: which overlay networks exist and who joins them, so that the pairs of services
 * sharing a network (= able to reach each other) equal the declared intent exactly:
 * same tier, or a declared flow. Nothing more.
 *
 * The plan is a function of sets, never of list order, and each network depends only on what it carries:
 * a tier network holds the tier's members; the declared flows between two services that share no tier ride
 * a network of just those two; a service that leaves the swarm gets a network of its own. Adding a flow
 * therefore adds at most one network and re-members only its two services, and no subnet ever moves
 * because another network appeared (see `planSubnets`).
 */
import { createHash } from "crypto";
import { Cidr, formatCidr, gatewayOf, overlaps, parseCidr, size, subnetAt, subnetCount } from "./cidr";
import { ConfigProblem, configKey, StackConfigError } from "./config";
import { egressNetworkName, linkNetworkName } from "./naming";
import { Topology } from "./types";

export type NetworkKind = "tier" | "link" | "egress";

export interface PlannedNetwork {
  /** Docker network name. */
  readonly name: string;
  readonly kind: NetworkKind;
  /** Tier name for tier networks; the two services for link networks; the service for egress networks. */
  readonly owner: string;
  /** Services attached, in the topology's service order. */
  readonly services: readonly string[];
  /** No route out of the swarm: everything but a service's own egress network. */
  readonly internal: boolean;
  readonly attachable: boolean;
  readonly encrypted: boolean;
  readonly subnet: string;
  readonly gateway: string;
  /** VXLAN id, derived from the subnet (unique because subnets never overlap); see `vxlanId`. */
  readonly vxlanId: number;
  readonly description: string;
}

export type ReachabilityMatrix = Readonly<Record<string, readonly string[]>>;

export interface NetworkPlan {
  readonly networks: readonly PlannedNetwork[];
  /** service -> networks it joins. */
  readonly attachments: Readonly<Record<string, readonly string[]>>;
  /** service -> peers it shares a network with (what the swarm allows). */
  readonly reachability: ReachabilityMatrix;
  /** service -> peers it may reach by declaration (same tier or a flow either way). */
  readonly intent: ReachabilityMatrix;
}

const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

/** Pairs allowed by declaration: services sharing a tier, and both ends of each flow. */
export function declaredPairs(topology: Topology): Set<string> {
  const allowed = new Set<string>();
  for (const tier of topology.tiers) {
    const members = topology.services.filter((s) => s.tiers.includes(tier.name)).map((s) => s.name);
    for (const a of members) for (const b of members) if (a !== b) allowed.add(pairKey(a, b));
  }
  for (const f of topology.flows) if (f.from !== f.to) allowed.add(pairKey(f.from, f.to));
  return allowed;
}

interface Draft {
  readonly name: string;
  readonly kind: NetworkKind;
  readonly owner: string;
  readonly services: readonly string[];
  readonly attachable: boolean;
  readonly description: string;
}

function draftNetworks(topology: Topology): Draft[] {
  const order = new Map(topology.services.map((s, i) => [s.name, i]));
  const inOrder = (names: Iterable<string>) => [...names].sort((a, b) => order.get(a)! - order.get(b)!);
  const drafts: Draft[] = topology.tiers.map((tier) => ({
    name: tier.network,
    kind: "tier",
    owner: tier.name,
    services: topology.services.filter((s) => s.tiers.includes(tier.name)).map((s) => s.name),
    attachable: tier.attachable,
    description: tier.description,
  }));

  const tiersOf = new Map(topology.services.map((s) => [s.name, new Set(s.tiers)]));
  const shareTier = (a: string, b: string) => [...(tiersOf.get(a) ?? [])].some((t) => tiersOf.get(b)?.has(t));
  const links = new Map<string, { a: string; b: string; flows: string[] }>();
  for (const f of topology.flows) {
    if (f.from === f.to || shareTier(f.from, f.to)) continue;
    const [a, b] = inOrder([f.from, f.to]);
    const link = links.get(pairKey(a, b)) ?? { a, b, flows: [] };
    link.flows.push(`${f.from} -> ${f.to}:${f.port}`);
    links.set(pairKey(a, b), link);
  }
  for (const { a, b, flows } of [...links.values()].sort((x, y) =>
    pairKey(x.a, x.b).localeCompare(pairKey(y.a, y.b)),
  )) {
    drafts.push({
      name: linkNetworkName(a, b),
      kind: "link",
      owner: `${a},${b}`,
      services: [a, b],
      attachable: false,
      description: `Link for ${flows.sort().join(", ")}`,
    });
  }
  // Services that must leave the swarm (published ports, external endpoints) get a network of their own:
  // Docker only routes out through docker_gwbridge for non-internal networks, and one member shares nothing.
  for (const s of topology.services.filter((x) => x.egress)) {
    drafts.push({
      name: egressNetworkName(s.name),
      kind: "egress",
      owner: s.name,
      services: [s.name],
      attachable: false,
      description: `Egress and published ports of ${s.name}`,
    });
  }
  return drafts;
}

/** Plans the stack's networks; throws StackConfigError when two networks would need the same subnet. */
export function planNetworks(topology: Topology): NetworkPlan {
  const allowed = declaredPairs(topology);
  const drafts = draftNetworks(topology);
  const subnets = planSubnets(
    drafts.map((d) => ({ name: d.name, kind: d.kind })),
    topology,
  );
  const networks: PlannedNetwork[] = drafts.map((d) => {
    const subnet = subnets.get(d.name)!;
    return {
      ...d,
      internal: d.kind !== "egress",
      encrypted: topology.encryptOverlays,
      subnet: formatCidr(subnet),
      gateway: gatewayOf(subnet),
      vxlanId: vxlanId(subnet),
    };
  });

  const attachments: Record<string, string[]> = {};
  const reachability: Record<string, Set<string>> = {};
  const intent: Record<string, string[]> = {};
  for (const s of topology.services) {
    attachments[s.name] = networks.filter((n) => n.services.includes(s.name)).map((n) => n.name);
    reachability[s.name] = new Set();
  }
  for (const n of networks) for (const a of n.services) for (const b of n.services) if (a !== b) reachability[a].add(b);
  for (const a of topology.services) {
    intent[a.name] = topology.services
      .filter((b) => b.name !== a.name && allowed.has(pairKey(a.name, b.name)))
      .map((b) => b.name)
      .sort();
  }
  const reach = Object.fromEntries(Object.entries(reachability).map(([k, v]) => [k, [...v].sort()]));
  return { networks, attachments, reachability: reach, intent };
}

/**
 * Reachability as the swarm grants it: two services reach each other iff they are attached to a network of the
 * same id. Given the network ids each service's task spec names (as registered), never planner names, so two
 * planned networks that end up as one Docker network show up as the extra pairs they allow.
 */
export function reachabilityFromNetworkIds(attached: Readonly<Record<string, readonly string[]>>): ReachabilityMatrix {
  const ids = Object.fromEntries(Object.entries(attached).map(([s, list]) => [s, new Set(list)]));
  return Object.fromEntries(
    Object.keys(ids).map((a) => [
      a,
      Object.keys(ids)
        .filter((b) => b !== a && [...ids[a]].some((id) => ids[b].has(id)))
        .sort(),
    ]),
  );
}

/** Pairs present in one matrix and not the other, as `a <-> b` strings; empty when they are equal. */
export function diffReachability(
  actual: ReachabilityMatrix,
  intended: ReachabilityMatrix,
): { extra: string[]; missing: string[] } {
  const pairs = (m: ReachabilityMatrix) =>
    new Set(Object.entries(m).flatMap(([a, peers]) => peers.map((b) => pairKey(a, b))));
  const a = pairs(actual);
  const i = pairs(intended);
  const show = (k: string) => k.replace("|", " <-> ");
  return {
    extra: [...a]
      .filter((k) => !i.has(k))
      .map(show)
      .sort(),
    missing: [...i]
      .filter((k) => !a.has(k))
      .map(show)
      .sort(),
  };
}

/**
 * Docker's VXLAN id for a network. Docker allocates ids from 4096 upwards unless the network's options name
 * one, and reads them back into `options`; sending the id makes what the provider reads back equal what the
 * program sends. Derived from the subnet's base address at /28 granularity (the smallest subnet allowed), so
 * non-overlapping subnets of one pool get distinct ids, far above Docker's own sequential range.
 */
export function vxlanId(subnet: Cidr): number {
  return 0x800000 + ((subnet.base >>> 4) & 0x7fffff);
}

export interface SubnetRequest {
  readonly name: string;
  readonly kind: NetworkKind;
}

/**
 * Subnets as a pure function of each network's name, never of the other networks: the first half of the
 * pool holds tier and egress networks (subnetPrefixLength), the second half link networks
 * (linkSubnetPrefixLength). A subnet change replaces a Docker network and every service on it, so nothing
 * probes past a collision (probing would move a deployed network when a new one lands on its slot): two
 * networks on one slot are a config error naming both, with a free subnet to pin in `subnets`.
 */
export function planSubnets(requests: readonly SubnetRequest[], topology: Topology): Map<string, Cidr> {
  const problems: ConfigProblem[] = [];
  const pool = parseCidr(topology.subnetPool);
  const half = pool.prefix + 1;
  const regions = {
    base: { base: pool.base, prefix: half, length: topology.subnetPrefixLength },
    link: {
      base: (pool.base + size({ base: 0, prefix: half })) >>> 0,
      prefix: half,
      length: topology.linkSubnetPrefixLength,
    },
  };
  const regionOf = (kind: NetworkKind) => (kind === "link" ? regions.link : regions.base);
  const result = new Map<string, Cidr>();
  const owners: { name: string; subnet: Cidr; pinned: boolean }[] = [];
  const suggested: Cidr[] = [];
  const kinds = new Map(requests.map((r) => [r.name, r.kind]));
  const pins = topology.subnetPins;
  problems.push(...unknownPins(requests, pins));
  // Where each network lands before any clash is judged: a suggested pin must avoid all of them, not only the
  // networks earlier in name order, or following it would move the clash onto a network planned later.
  const landing = new Map<string, Cidr>();
  for (const r of requests) {
    const region = regionOf(r.kind);
    const slots = subnetCount(region, region.length);
    if (pins[r.name] !== undefined) landing.set(r.name, parseCidr(pins[r.name]));
    else if (slots > 0) landing.set(r.name, subnetAt(region, region.length, slotHash(r.name) % slots));
  }
  for (const r of [...requests].sort((a, b) => a.name.localeCompare(b.name))) {
    const region = regionOf(r.kind);
    let subnet: Cidr;
    const pinned = pins[r.name] !== undefined;
    if (pinned) {
      subnet = parseCidr(pins[r.name]);
      if (!overlaps(subnet, pool) || subnet.prefix < pool.prefix) {
        problems.push({
          key: configKey(["subnets", r.name]),
          message: `${pins[r.name]} is not inside subnetPool ${topology.subnetPool}`,
        });
      }
    } else {
      const slots = subnetCount(region, region.length);
      if (slots === 0) {
        const key = r.kind === "link" ? "linkSubnetPrefixLength" : "subnetPrefixLength";
        problems.push({
          key: configKey([key]),
          message: `must be longer than /${region.prefix} (half of subnetPool ${topology.subnetPool} holds the ${r.kind === "link" ? "link" : "tier and egress"} networks), but ${region.length} was provided`,
        });
        break;
      }
      subnet = subnetAt(region, region.length, slotHash(r.name) % slots);
    }
    const clash = owners.find((o) => overlaps(o.subnet, subnet));
    if (clash) {
      // Either network may be the one already deployed, so both get a suggestion; suggestions avoid every
      // planned subnet and every earlier suggestion, so any choice of them applies at once.
      const taken = () => [...landing.values(), ...suggested];
      const freeForNew = freeSubnet(regionOf(r.kind), taken());
      if (freeForNew) suggested.push(freeForNew);
      const freeForOld = clash.pinned ? undefined : freeSubnet(regionOf(kinds.get(clash.name)!), taken());
      if (freeForOld) suggested.push(freeForOld);
      const pinsText = [
        ...(freeForNew && !pinned ? [`subnets: { ${r.name}: ${formatCidr(freeForNew)} }`] : []),
        ...(freeForOld ? [`subnets: { ${clash.name}: ${formatCidr(freeForOld)} }`] : []),
      ];
      problems.push({
        key: configKey(["subnets", pinned ? r.name : clash.pinned ? clash.name : r.name]),
        message:
          `networks "${clash.name}" and "${r.name}" would both use ${formatCidr(subnet)}; ` +
          (pinsText.length > 0
            ? `pin the one not deployed yet to a free subnet (${pinsText.join(" or ")}), or widen subnetPool`
            : "pin another subnet or widen subnetPool"),
      });
    }
    owners.push({ name: r.name, subnet, pinned });
    result.set(r.name, subnet);
  }
  if (problems.length > 0) throw new StackConfigError(problems);
  return result;
}

/** A pin (`subnets.<name>`) for a network the plan does not have: a typo, or a network that no longer exists. */
function unknownPins(requests: readonly SubnetRequest[], pins: Readonly<Record<string, string>>): ConfigProblem[] {
  return Object.keys(pins)
    .filter((name) => !requests.some((r) => r.name === name))
    .map((name) => ({
      key: configKey(["subnets", name]),
      message: `no planned network is named "${name}"; planned: ${requests.map((r) => r.name).join(", ")}`,
    }));
}

function slotHash(name: string): number {
  // sha256 rather than a short hash: slots must spread evenly for names that differ in one character.
  return createHash("sha256").update(`subnet:${name}`).digest().readUInt32BE(0);
}

/** The first subnet of the region's size that overlaps none of `taken`. */
function freeSubnet(
  region: { base: number; prefix: number; length: number },
  taken: readonly Cidr[],
): Cidr | undefined {
  const slots = subnetCount(region, region.length);
  for (let i = 0; i < slots; i++) {
    const candidate = subnetAt(region, region.length, i);
    if (!taken.some((t) => overlaps(t, candidate))) return candidate;
  }
  return undefined;
}
