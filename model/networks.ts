/**
 * Network planning: which overlay networks exist and who joins them, so that the pairs of services
 * sharing a network (= able to reach each other) equal the declared intent exactly:
 * same tier, or a declared flow. Nothing more.
 */
import { Cidr, formatCidr, gatewayOf, parseCidr, subnetAt, subnetCount } from "./cidr";
import { Topology } from "./types";

export type NetworkKind = "tier" | "link" | "egress";

export interface PlannedNetwork {
  /** Docker network name. */
  readonly name: string;
  readonly kind: NetworkKind;
  /** Tier name for tier networks; the two services for link networks; the service for egress networks. */
  readonly owner: string;
  /** Services attached, members first, in a stable order. */
  readonly services: readonly string[];
  /** No route out of the swarm: everything but a service's own egress network. */
  readonly internal: boolean;
  readonly attachable: boolean;
  readonly encrypted: boolean;
  readonly subnet: string;
  readonly gateway: string;
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

export function planNetworks(topology: Topology): NetworkPlan {
  const allowed = declaredPairs(topology);
  const drafts = draftNetworks(topology, allowed);
  const subnets = allocateSubnets(
    drafts.map((d) => d.name),
    topology.subnetPool,
    topology.subnetPrefixLength,
  );
  const networks: PlannedNetwork[] = drafts.map((d) => ({
    name: d.name,
    kind: d.kind,
    owner: d.owner,
    services: d.services,
    internal: d.kind !== "egress",
    attachable: d.attachable,
    encrypted: topology.encryptOverlays,
    subnet: formatCidr(subnets.get(d.name)!),
    gateway: gatewayOf(subnets.get(d.name)!),
    description: d.description,
  }));
  return { networks, ...matrices(topology, networks, allowed) };
}

/** A planned network before it has a subnet. */
interface Draft {
  readonly name: string;
  readonly kind: NetworkKind;
  readonly owner: string;
  readonly services: string[];
  readonly attachable: boolean;
  readonly description: string;
}

/** Tier networks, widened or linked for each flow, then one egress network per service that leaves the swarm. */
function draftNetworks(topology: Topology, allowed: ReadonlySet<string>): Draft[] {
  const isAllowed = (a: string, b: string) => a === b || allowed.has(pairKey(a, b));
  const drafts: Draft[] = topology.tiers.map((tier) => ({
    name: tier.network,
    kind: "tier" as const,
    owner: tier.name,
    services: topology.services.filter((s) => s.tiers.includes(tier.name)).map((s) => s.name),
    attachable: tier.attachable,
    description: tier.description,
  }));
  const tierNetwork = new Map(drafts.map((d) => [d.owner, d]));
  const shareNetwork = (a: string, b: string) => drafts.some((d) => d.services.includes(a) && d.services.includes(b));

  // Each flow is carried by a tier network of the server that the client can join without gaining an
  // undeclared peer; failing that, by a two-member link network.
  const serverTiers = new Map(topology.services.map((s) => [s.name, s.tiers]));
  for (const flow of topology.flows) {
    if (shareNetwork(flow.from, flow.to)) continue;
    const host = (serverTiers.get(flow.to) ?? [])
      .map((t) => tierNetwork.get(t))
      .find((d) => d !== undefined && d.services.every((peer) => isAllowed(flow.from, peer)));
    if (host) {
      host.services.push(flow.from);
    } else {
      const [a, b] = [flow.from, flow.to].sort();
      drafts.push({
        name: `iot-link-${a}-${b}`,
        kind: "link",
        owner: `${a},${b}`,
        services: [a, b],
        attachable: false,
        description: `Link for ${flow.from} -> ${flow.to}:${flow.port}`,
      });
    }
  }
  // Services that must leave the swarm (published ports, external endpoints) get a network of their own:
  // Docker only routes out through docker_gwbridge for non-internal networks, and one member shares nothing.
  for (const s of topology.services.filter((x) => x.egress)) {
    drafts.push({
      name: `iot-${s.name}-egress`,
      kind: "egress",
      owner: s.name,
      services: [s.name],
      attachable: false,
      description: `Egress and published ports of ${s.name}`,
    });
  }
  return drafts;
}

/** Who joins which network, who can therefore reach whom, and who may by declaration. */
function matrices(
  topology: Topology,
  networks: readonly PlannedNetwork[],
  allowed: ReadonlySet<string>,
): Omit<NetworkPlan, "networks"> {
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
  return { attachments, reachability: reach, intent };
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
 * Stable subnets: each network hashes to a slot in the pool and probes forward on collision, so adding
 * or removing a network does not renumber the others (a subnet change replaces a Docker network).
 */
export function allocateSubnets(names: readonly string[], pool: string, prefixLength: number): Map<string, Cidr> {
  const poolCidr = parseCidr(pool);
  const slots = subnetCount(poolCidr, prefixLength);
  if (names.length > slots) {
    throw new Error(
      `subnetPool ${pool} holds ${slots} /${prefixLength} subnets, but ${names.length} networks are planned; widen subnetPool or raise subnetPrefixLength`,
    );
  }
  const used = new Set<number>();
  const result = new Map<string, Cidr>();
  for (const name of [...names].sort()) {
    let slot = fnv1a(name) % slots;
    while (used.has(slot)) slot = (slot + 1) % slots;
    used.add(slot);
    result.set(name, subnetAt(poolCidr, prefixLength, slot));
  }
  return result;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
