/**
 * What the hosts already use: ports Swarm (and a CapRover beside it) keep, and the address ranges
 * Docker takes on every node. Validation rejects a stack that collides with them; the docs list them.
 */

/** Ports Swarm itself uses on every node: cluster management, gossip, VXLAN. */
export const SWARM_RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
  [2377, "Swarm cluster management"],
  [7946, "Swarm node gossip"],
  [4789, "Swarm overlay VXLAN"],
]);
/** Ports a CapRover host keeps for its own nginx and dashboard. */
export const CAPROVER_RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
  [80, "CapRover HTTP"],
  [443, "CapRover HTTPS"],
  [3000, "CapRover dashboard"],
]);
/** Address ranges Docker already uses on a default Swarm node. */
export const DOCKER_RESERVED_SUBNETS: readonly { cidr: string; use: string }[] = [
  { cidr: "10.0.0.0/24", use: "the Swarm ingress network" },
  { cidr: "172.17.0.0/16", use: "the docker0 bridge" },
  { cidr: "172.18.0.0/16", use: "docker_gwbridge" },
];

export function reservedPorts(caproverCoexistence: boolean): Map<number, string> {
  return new Map([...SWARM_RESERVED_PORTS, ...(caproverCoexistence ? CAPROVER_RESERVED_PORTS : [])]);
}

/** The nearest free host port above `wanted` (unprivileged range when `wanted` is privileged). */
export function suggestFreePort(
  wanted: number,
  used: ReadonlySet<number>,
  reserved: ReadonlyMap<number, string>,
): number {
  const start = wanted < 1024 ? 8000 + wanted : wanted + 1;
  for (let candidate = start; candidate <= 65535; candidate++) {
    if (!used.has(candidate) && !reserved.has(candidate)) return candidate;
  }
  for (let candidate = 1024; candidate < start; candidate++) {
    if (!used.has(candidate) && !reserved.has(candidate)) return candidate;
  }
  throw new Error("no free host port left");
}
