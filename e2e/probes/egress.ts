/**
 * Internal networks have no egress: a TCP listener of the run's own on this host, bound to the
 * docker_gwbridge gateway address (the way out of the swarm for a task on a non-internal
 * network), must be unreachable from every task attached only to internal networks, while a task
 * with an egress network reaches it (the control: it proves the listener can be reached at all).
 */
import * as net from "node:net";
import { StackContext } from "../lib/context";
import { mapLimit } from "../lib/util";

export interface EgressResult {
  readonly service: string;
  /** What the model and the engine say about the service's networks. */
  readonly internalOnly: boolean;
  readonly networks: Record<string, boolean>;
  readonly connect: string;
  readonly route: string;
  /** Source address the listener saw, for a control that connected. */
  readonly seenFrom?: string;
  readonly ok: boolean;
}

export interface EgressReport {
  readonly listener: string;
  readonly results: EgressResult[];
  readonly blocked: boolean;
  readonly controls: number;
}

export async function gwbridgeGateway(ctx: StackContext): Promise<string> {
  const info = await ctx.docker.getNetwork("docker_gwbridge").inspect();
  const gw = info.IPAM?.Config?.[0]?.Gateway as string | undefined;
  if (!gw) throw new Error("docker_gwbridge has no gateway address");
  return gw;
}

export async function probeEgress(ctx: StackContext): Promise<EgressReport> {
  const address = await gwbridgeGateway(ctx);
  const seen: string[] = [];
  const server = net.createServer((sock) => {
    seen.push(String(sock.remoteAddress).replace(/^::ffff:/, ""));
    // The probe closes as soon as it connected: a reset here is expected, not an error.
    sock.on("error", () => undefined);
    sock.end("iot-e2e egress listener\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  ctx.progress.detail(`egress listener on ${address}:${port}`);
  try {
    // The engine's view of each network, not the model's: that is what the kernel enforces.
    const internal = new Map<string, boolean>();
    for (const n of await ctx.docker.listNetworks({ filters: { driver: ["overlay"] } }))
      internal.set(n.Name, Boolean(n.Internal));
    const results = await mapLimit(
      ctx.topology.services.map((s) => s.name),
      3,
      async (service): Promise<EgressResult> => {
        const nets = [...new Set((ctx.tasks[service] ?? []).flatMap((t) => t.addrs.map((a) => a.network)))];
        const networks = Object.fromEntries(nets.map((n) => [n, internal.get(n) ?? false]));
        const planned = ctx.plan.attachments[service].every(
          (n) => ctx.plan.networks.find((x) => x.name === n)?.internal,
        );
        const actual = nets.length > 0 && nets.every((n) => internal.get(n) === true);
        const r = await ctx.netprobe(service, { tcp: [[address, port]], routes: [address], timeout: 3 });
        const connect = r.tcp[`${address}:${port}`]?.result ?? "not probed";
        const route = r.routes[address] ?? "";
        const src = / src (\S+)/.exec(route)?.[1];
        const seenFrom = src ? seen.find((a) => a === src) : undefined;
        // Internal-only: the connect must fail. Egress-capable: the control must arrive from the task's own address.
        const ok =
          planned !== actual
            ? false
            : actual
              ? connect !== "open"
              : connect === "open" && seenFrom !== undefined && seenFrom === src;
        return { service, internalOnly: actual, networks, connect, route, seenFrom, ok };
      },
    );
    const controls = results.filter((r) => !r.internalOnly);
    const blocked = results.every((r) => r.ok) && controls.length > 0 && results.some((r) => r.internalOnly);
    return { listener: `${address}:${port}`, results, blocked, controls: controls.length };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
