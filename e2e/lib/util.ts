/** Small helpers shared by the e2e run. */
import { parseCidr, overlaps } from "../../model/cidr";

/** Maps with at most `limit` calls in flight, keeping the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function ipInCidrs(ip: string, cidrs: readonly string[]): boolean {
  const host = parseCidr(`${ip}/32`);
  return cidrs.some((c) => overlaps(host, parseCidr(c)));
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `s` single-quoted for a POSIX shell command line. */
export const shellQuote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** A command's answer on one line, at most `max` characters, quoted: evidence in a probe's report. */
export const excerpt = (s: string, max = 100) => JSON.stringify(s.trim().replace(/\s+/g, " ").slice(0, max));
