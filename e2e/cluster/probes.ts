/**
 * The single-node probes (e2e/probes) run across the cluster: every declared flow from every
 * task of its client, plus a TCP connect from each of those tasks to every task of the server
 * on the flow's port; every undeclared pair from every task of the first service; every name
 * from every task. A connect or a pair counts as cross-node when the two tasks run on different
 * nodes, which on a swarm means the traffic went over the overlay's VXLAN between two machines.
 */
import { FlowSpec } from "../../model/types";
import { StackContext, Task } from "../lib/context";
import { mapLimit } from "../lib/util";
import { probeDns } from "../probes/dns";
import { DnsExpectation, Pair } from "../probes/intent";
import { describePair, flowName, probeFlow, probeForbidden, prometheusTargets } from "../probes/segmentation";
import { ClusterReport } from "./report";

export interface FlowAcrossNodes {
  readonly flow: string;
  readonly from: string;
  readonly fromNode: string;
  readonly ok: boolean;
  readonly evidence: string[];
  /** `ip:port` of each server task -> its node and how the connect ended. */
  readonly connects: Record<string, { node: string; result: string; crossNode: boolean }>;
}

export async function allowedAcrossNodes(
  ctx: StackContext,
  flows: readonly FlowSpec[],
  nodeName: (id: string) => string,
): Promise<{ summary: ClusterReport["allowed"]; results: FlowAcrossNodes[] }> {
  const units = flows.flatMap((f) => (ctx.tasks[f.from] ?? []).map((task) => ({ f, task })));
  const results = await mapLimit(units, 3, async ({ f, task }): Promise<FlowAcrossNodes> => {
    const app = await probeFlow(ctx, f, { task });
    const shared = ctx.sharedNetworks(f.from, f.to);
    const servers = (ctx.tasks[f.to] ?? []).flatMap((t) =>
      t.addrs.filter((a) => shared.includes(a.network)).map((a) => ({ t, ip: a.ip })),
    );
    const r = await ctx.netprobe(f.from, { tcp: servers.map((s) => [s.ip, f.port] as [string, number]) }, { task });
    const connects = Object.fromEntries(
      servers.map((s) => [
        `${s.ip}:${f.port}`,
        {
          node: nodeName(s.t.node),
          result: r.tcp[`${s.ip}:${f.port}`]?.result ?? "not probed",
          crossNode: s.t.node !== task.node,
        },
      ]),
    );
    const allOpen = servers.length > 0 && Object.values(connects).every((c) => c.result === "open");
    return {
      flow: flowName(f),
      from: `${f.from}.${task.slot}`,
      fromNode: nodeName(task.node),
      ok: app.ok && allOpen,
      evidence: [
        ...app.evidence,
        `TCP to every ${f.to} task: ${Object.entries(connects)
          .map(([k, c]) => `${k}@${c.node} ${c.result}`)
          .join(", ")}`,
      ],
      connects,
    };
  });
  // Prometheus' own view of its scrape flows, every target of every job (they run on other nodes).
  const jobs = [...new Set(flows.filter((f) => f.from === "prometheus").map((f) => f.to))];
  const targets = jobs.length ? await prometheusTargets(ctx, jobs) : {};
  const final = results.map((r) => {
    const job = r.flow.startsWith("prometheus ->") ? r.flow.split(" -> ")[1].split(":")[0] : undefined;
    const t = job ? targets[job] : undefined;
    if (!t) return r;
    const up = t.up === t.expected && t.total === t.expected && t.expected > 0;
    return {
      ...r,
      ok: r.ok && up,
      evidence: [...r.evidence, `Prometheus target job ${job}: ${t.up}/${t.expected} up`],
    };
  });
  const cross = final.flatMap((r) => Object.values(r.connects).filter((c) => c.crossNode));
  return {
    summary: {
      ok: final.filter((r) => r.ok).length,
      total: final.length,
      crossNode: { ok: cross.filter((c) => c.result === "open").length, total: cross.length },
    },
    results: final,
  };
}

export async function forbiddenAcrossNodes(
  ctx: StackContext,
  pairs: readonly Pair[],
  nodeName: (id: string) => string,
  onClient: (line: string) => void,
): Promise<{ summary: ClusterReport["forbidden"]; results: Record<string, unknown>[] }> {
  const results = await probeForbidden(
    ctx,
    pairs,
    (client, rs) => {
      const task = rs[0]?.fromTask;
      const blocked = rs.filter((r) => r.blocked).length;
      onClient(
        `${blocked === rs.length ? "ok  " : "FAIL"} from ${`${client}.${task?.slot ?? "?"}@${task ? nodeName(task.node) : "?"}`.padEnd(34)} ${blocked}/${rs.length} blocked`,
      );
      for (const r of rs.filter((x) => !x.blocked))
        onClient(`       ${client} -> ${r.to} NOT blocked: ${describePair(r)}`);
    },
    { everyTask: true },
  );
  const crossNode = (from: Task | undefined, to: string) =>
    from !== undefined && (ctx.tasks[to] ?? []).some((t) => t.node !== from.node);
  const cross = results.filter((r) => crossNode(r.fromTask, r.to));
  return {
    summary: {
      blocked: results.filter((r) => r.blocked).length,
      total: results.length,
      crossNode: { blocked: cross.filter((r) => r.blocked).length, total: cross.length },
    },
    results: results.map(({ fromTask, ...r }) => ({
      ...r,
      from: `${r.from}.${fromTask?.slot ?? "?"}`,
      fromNode: fromTask ? nodeName(fromTask.node) : undefined,
      summary: describePair({ ...r, fromTask }),
    })),
  };
}

export async function dnsFromEveryNode(
  ctx: StackContext,
  expectations: readonly DnsExpectation[],
  nodeName: (id: string) => string,
): Promise<{ summary: ClusterReport["dns"]; results: Record<string, unknown>[] }> {
  const results = await probeDns(ctx, expectations, { everyTask: true });
  const nodes: Record<string, { ok: number; total: number }> = {};
  for (const r of results) {
    const n = r.fromTask ? nodeName(r.fromTask.node) : "?";
    nodes[n] ??= { ok: 0, total: 0 };
    nodes[n].total++;
    if (r.ok) nodes[n].ok++;
  }
  return {
    summary: { ok: results.filter((r) => r.ok).length, total: results.length, nodes },
    results: results.map(({ fromTask, ...r }) => ({
      ...r,
      from: `${r.from}.${fromTask?.slot ?? "?"}`,
      fromNode: fromTask ? nodeName(fromTask.node) : undefined,
    })),
  };
}
