/** IPv4 CIDR arithmetic for subnet planning: parse, overlap, and carving a pool into fixed-size subnets. */

export interface Cidr {
  readonly base: number; // network address as an unsigned 32-bit integer
  readonly prefix: number;
}

export function parseCidr(text: string): Cidr {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) throw new Error(`"${text}" is not an IPv4 CIDR`);
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) throw new Error(`"${text}" is not an IPv4 CIDR`);
  const address = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const base = (address & mask(prefix)) >>> 0;
  if (base !== address) throw new Error(`"${text}" has host bits set; the network is ${formatCidr({ base, prefix })}`);
  return { base, prefix };
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

/** The `index`-th subnet of `prefix` bits inside `pool`. */
export function subnetAt(pool: Cidr, prefix: number, index: number): Cidr {
  return { base: (pool.base + index * 2 ** (32 - prefix)) >>> 0, prefix };
}

export function subnetCount(pool: Cidr, prefix: number): number {
  return prefix < pool.prefix ? 0 : 2 ** (prefix - pool.prefix);
}

/** First usable address: Docker's conventional gateway for a subnet. */
export function gatewayOf(c: Cidr): string {
  return formatIp(c.base + 1);
}
