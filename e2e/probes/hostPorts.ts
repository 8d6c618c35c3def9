/**
 * Only declared ports listen on the host. Two views, each taken before the deploy and after it:
 * the kernel's listening sockets (`ss -ltnu`: TCP LISTEN and bound UDP sockets, any address), and
 * TCP connects on 127.0.0.1 to every port a service listens on in its container, every published
 * port and plaintext MQTT (1883). A port counts as opened by the stack when it is in either view
 * after the deploy and was not before; that set must equal the stack's published ports.
 */
import * as net from "node:net";
import { Topology } from "../../model/types";
import { capture } from "../lib/host";

export interface HostPortSnapshot {
  /** `port/proto` -> processes (as `ss -p` names them). */
  readonly sockets: Record<string, string[]>;
  /** `port/tcp` that accepted a connection on 127.0.0.1. */
  readonly accepting: string[];
}

export function listeningSockets(): Record<string, string[]> {
  const r = capture("ss", ["-H", "-l", "-t", "-u", "-n", "-p"]);
  if (r.status !== 0) throw new Error(`ss failed: ${r.stderr}`);
  const out: Record<string, string[]> = {};
  for (const line of r.stdout.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5) continue;
    const proto = cols[0] === "tcp" ? "tcp" : cols[0] === "udp" ? "udp" : undefined;
    const port = /:(\d+)$/.exec(cols[4])?.[1];
    if (!proto || !port) continue;
    const procs = [...line.matchAll(/\("([^"]+)",pid=(\d+)/g)].map((m) => m[1]);
    const key = `${port}/${proto}`;
    out[key] = [...new Set([...(out[key] ?? []), ...procs])];
  }
  return out;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 2000);
    s.once("connect", () => {
      clearTimeout(timer);
      s.destroy();
      resolve(true);
    });
    s.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/** Every TCP port the stack might expose: container ports, published ports, plaintext MQTT. */
export function candidatePorts(t: Topology): number[] {
  const ports = new Set<number>([1883]);
  for (const s of t.services)
    for (const p of s.ports) {
      if (p.protocol === "tcp") ports.add(p.port);
      if (p.published !== undefined && p.protocol === "tcp") ports.add(p.published);
    }
  return [...ports].sort((a, b) => a - b);
}

export async function snapshotHostPorts(t: Topology): Promise<HostPortSnapshot> {
  const ports = candidatePorts(t);
  const open = await Promise.all(ports.map(accepts));
  return { sockets: listeningSockets(), accepting: ports.filter((_, i) => open[i]).map((p) => `${p}/tcp`) };
}

/** Ports open after the deploy that were not before, with who holds them. */
export function newPorts(
  before: HostPortSnapshot,
  after: HostPortSnapshot,
): { found: string[]; holders: Record<string, string[]> } {
  const found = new Set<string>();
  for (const k of Object.keys(after.sockets)) if (!(k in before.sockets)) found.add(k);
  for (const k of after.accepting) if (!before.accepting.includes(k)) found.add(k);
  const sorted = [...found].sort((a, b) => parseInt(a) - parseInt(b) || a.localeCompare(b));
  return {
    found: sorted,
    holders: Object.fromEntries(
      sorted.map((k) => [k, after.sockets[k] ?? ["(accepted a connection; no listening socket in ss)"]]),
    ),
  };
}
