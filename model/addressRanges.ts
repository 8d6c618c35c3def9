/**
 * Which IPv4 ranges overlay subnets may come from: private ones only. A public range would shadow real hosts
 * on the internet for every container; loopback, link-local and multicast addresses cannot carry an overlay.
 * The shared address space 100.64.0.0/10 (RFC 6598, carrier-grade NAT) counts as private here: it is not
 * routed on the internet, and the benchmark stacks use it to stay clear of site LANs.
 */
import { Cidr, formatCidr, parseCidr, size } from "./cidr";

export const PRIVATE_RANGES: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];

/** Special-purpose ranges (RFC 6890) named in the message when a subnet falls in one. */
const SPECIAL_RANGES: readonly { cidr: string; use: string }[] = [
  { cidr: "0.0.0.0/8", use: '"this network"' },
  { cidr: "127.0.0.0/8", use: "loopback" },
  { cidr: "169.254.0.0/16", use: "link-local" },
  { cidr: "224.0.0.0/4", use: "multicast" },
  { cidr: "240.0.0.0/4", use: "reserved and broadcast" },
];

export function within(inner: Cidr, outer: Cidr): boolean {
  return inner.base >= outer.base && inner.base + size(inner) <= outer.base + size(outer);
}

const overlapsRange = (a: Cidr, b: Cidr) => a.base < b.base + size(b) && b.base < a.base + size(a);

/** Why a subnet may not carry overlays, or undefined when it lies in one private range. */
export function nonPrivateProblem(subnet: Cidr): string | undefined {
  if (PRIVATE_RANGES.some((r) => within(subnet, parseCidr(r)))) return undefined;
  const special = SPECIAL_RANGES.find((r) => overlapsRange(subnet, parseCidr(r.cidr)));
  const what = special ? `overlaps the ${special.use} range ${special.cidr}` : "is not inside one private range";
  return `${formatCidr(subnet)} ${what}; overlay subnets must lie in ${PRIVATE_RANGES.join(", ")}`;
}
