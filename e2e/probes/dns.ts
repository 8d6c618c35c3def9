/**
 * Service discovery: from inside a task of each service, every name of every peer it may reach
 * (service name, aliases, tasks.<service>) resolves to addresses of that peer's running tasks on
 * the networks they share, and covers every task (dnsrr; tasks.<service> always). A VIP name must
 * answer with the service's virtual IP on a shared network instead.
 */
import { StackContext, Task } from "../lib/context";
import { mapLimit } from "../lib/util";
import { DnsExpectation } from "./intent";

export interface DnsResult {
  readonly from: string;
  /** The task of `from` that asked. */
  readonly fromTask?: Task;
  readonly service: string;
  readonly name: string;
  readonly ok: boolean;
  readonly answer: string;
  readonly expected: string;
}

/** With `everyTask`, every task of each client asks (on a multi-node swarm: from every node it runs on). */
export async function probeDns(
  ctx: StackContext,
  expectations: readonly DnsExpectation[],
  opts: { everyTask?: boolean } = {},
): Promise<DnsResult[]> {
  const byClient = new Map<string, DnsExpectation[]>();
  for (const e of expectations) byClient.set(e.from, [...(byClient.get(e.from) ?? []), e]);
  const vips = new Map<string, string[]>();
  for (const s of ctx.topology.services.filter((x) => x.endpointMode === "vip")) {
    const info = await ctx.service(s.name);
    const idToName = new Map(Object.entries(ctx.exports.networks).map(([name, id]) => [id, name]));
    vips.set(
      s.name,
      ((info.Endpoint?.VirtualIPs ?? []) as any[]).map(
        (v) => `${idToName.get(v.NetworkID) ?? v.NetworkID}=${String(v.Addr).split("/")[0]}`,
      ),
    );
  }
  const units = [...byClient.entries()].flatMap(([client, exps]) =>
    opts.everyTask
      ? (ctx.tasks[client] ?? []).map((task) => ({ client, exps, task: task as Task | undefined }))
      : [{ client, exps, task: undefined as Task | undefined }],
  );
  const all = await mapLimit(units, 3, async ({ client, exps, task }) => {
    const names = [...new Set(exps.flatMap((e) => e.names))];
    const r = await ctx.netprobe(client, { dns: names, timeout: 3 }, { task });
    return exps.flatMap((e) => {
      const shared = ctx.sharedNetworks(client, e.service);
      const tasks = ctx.tasks[e.service] ?? [];
      return e.names.map((name): DnsResult => {
        const d = r.dns[name];
        const addrs = d?.addrs ?? [];
        const answer = `${d?.status ?? "not asked"}${addrs.length ? ` ${addrs.join(",")}` : ""}`;
        const isVip = ctx.spec(e.service).endpointMode === "vip" && !name.startsWith("tasks.");
        if (isVip) {
          const allowed = (vips.get(e.service) ?? [])
            .filter((v) => shared.includes(v.split("=")[0]))
            .map((v) => v.split("=")[1]);
          const ok = addrs.length > 0 && addrs.every((a) => allowed.includes(a));
          return {
            from: client,
            fromTask: task,
            service: e.service,
            name,
            ok,
            answer,
            expected: `VIP on ${shared.join(",")}: ${allowed.join(",")}`,
          };
        }
        const onShared = ctx.ips(e.service, shared);
        const covered = tasks.filter((t) => t.addrs.some((a) => addrs.includes(a.ip)));
        const ok =
          addrs.length > 0 &&
          addrs.every((a) => onShared.includes(a)) &&
          covered.length === tasks.length &&
          tasks.length > 0;
        return {
          from: client,
          fromTask: task,
          service: e.service,
          name,
          ok,
          answer,
          expected: `${tasks.length} task(s) of ${e.service} on ${shared.join(",")} (${onShared.join(",")})`,
        };
      });
    });
  });
  return all.flat();
}
