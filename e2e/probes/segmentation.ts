/**
 * Segmentation: every declared flow connects at the application level from inside the client's
 * task, and every ordered pair of services outside the intended reachability is blocked: from
 * inside a task of the first, no name of the second resolves and no address of any of its tasks
 * (on any network) accepts a TCP connection on any of its ports.
 */
import { planIdentities } from "../../model/identity";
import { FlowSpec } from "../../model/types";
import { StackContext, Task } from "../lib/context";
import { mapLimit, shellQuote as q } from "../lib/util";
import { Pair, serviceNames } from "./intent";
import { mqttExchange } from "./mqtt";

export interface FlowResult {
  readonly flow: string;
  readonly protocol: string;
  readonly ok: boolean;
  readonly evidence: string[];
  /** The server address that answered, where the protocol tells (HTTP). */
  readonly serverIp?: string;
}

/** The client task a flow is probed from: the first of the service's, or the one given. */
type From = { task?: Task };

/** The user and password id the flow's client logs in with (model/identity.ts), when the server authenticates it. */
function flowLogin(ctx: StackContext, f: FlowSpec): { user: string; id: string } | undefined {
  const identity = planIdentities(ctx.topology).find(
    (i) => i.client === f.from && i.server === f.to && i.flow.port === f.port && i.kind === "password",
  );
  return identity && { user: identity.username, id: identity.credential };
}

async function httpFlow(ctx: StackContext, f: FlowSpec, from: From): Promise<FlowResult> {
  const server = ctx.spec(f.to);
  const healthPort = server.ports.find((p) => p.name === server.health.portName)?.port;
  // Prometheus scrapes /metrics (its rendered config); other clients call the server's health endpoint.
  const path =
    f.from === "prometheus"
      ? "/metrics"
      : healthPort === f.port && server.health.httpPath
        ? server.health.httpPath
        : "/";
  const url = `http://${f.to}:${f.port}${path}`;
  const r = await ctx.sh(f.from, `curl -sS -o /dev/null --max-time 5 -w '%{http_code} %{remote_ip}' ${q(url)}`, from);
  const [code, ip] = r.stdout.trim().split(" ");
  const ok = r.exitCode === 0 && code === "200" && ctx.ips(f.to).includes(ip);
  return {
    flow: flowName(f),
    protocol: "http",
    ok,
    evidence: [`GET ${url} -> ${code || r.stderr.trim().slice(0, 200)} from ${ip ?? "?"}`],
    serverIp: ip,
  };
}

async function redisFlow(ctx: StackContext, f: FlowSpec, from: From): Promise<FlowResult> {
  const login = flowLogin(ctx, f);
  const noAuth = await ctx.sh(f.from, `timeout 5 redis-cli -h ${q(f.to)} -p ${f.port} PING 2>&1`, from);
  const evidence = [`PING without password -> ${noAuth.stdout.trim().slice(0, 120)}`];
  let ok = /NOAUTH/.test(noAuth.stdout);
  if (login) {
    const auth = await ctx.sh(
      f.from,
      `REDISCLI_AUTH=${q(ctx.password(login.id))} timeout 5 redis-cli --no-auth-warning --user ${q(login.user)} -h ${q(f.to)} -p ${f.port} PING 2>&1`,
      from,
    );
    evidence.push(`PING as ${login.user} with its own password -> ${auth.stdout.trim().slice(0, 120)}`);
    ok &&= auth.stdout.trim() === "PONG";
  }
  return { flow: flowName(f), protocol: "redis", ok, evidence };
}

async function natsFlow(ctx: StackContext, f: FlowSpec, from: From): Promise<FlowResult> {
  const login = flowLogin(ctx, f);
  const talk = (connect: object) =>
    ctx.sh(
      f.from,
      `printf '%s\\r\\nPING\\r\\n' ${q(`CONNECT ${JSON.stringify(connect)}`)} | timeout 8 nc -q 2 -w 4 ${q(f.to)} ${f.port}`,
      from,
    );
  const anon = await talk({ verbose: true, pedantic: false });
  const info = /^INFO \{.*"server_id"/m.test(anon.stdout);
  const refused = /Authorization Violation/.test(anon.stdout);
  const evidence = [
    `server greeting: ${info ? "INFO line" : JSON.stringify(anon.stdout.slice(0, 80))}`,
    `CONNECT without credentials -> ${refused ? "-ERR 'Authorization Violation'" : JSON.stringify(anon.stdout.slice(-80))}`,
  ];
  let ok = info;
  if (login) {
    const authed = await talk({ verbose: true, pedantic: false, user: login.user, pass: ctx.password(login.id) });
    const accepted = /\+OK/.test(authed.stdout) && /PONG/.test(authed.stdout);
    evidence.push(
      `CONNECT as ${login.user} with its own password -> ${accepted ? "+OK, PONG" : JSON.stringify(authed.stdout.slice(-120))}`,
    );
    ok &&= refused && accepted;
  }
  return { flow: flowName(f), protocol: "nats", ok, evidence };
}

async function tcpFlow(ctx: StackContext, f: FlowSpec, from: From): Promise<FlowResult> {
  const r = await ctx.netprobe(f.from, { dns: [f.to], timeout: 3 }, from);
  const ips = r.dns[f.to]?.addrs ?? [];
  const c = ips.length
    ? await ctx.netprobe(f.from, { tcp: ips.map((ip) => [ip, f.port] as [string, number]) }, from)
    : undefined;
  const results = Object.entries(c?.tcp ?? {}).map(([k, v]) => `${k} ${v.result}`);
  const ok = ips.length > 0 && Object.values(c?.tcp ?? {}).every((v) => v.result === "open");
  return {
    flow: flowName(f),
    protocol: "tcp",
    ok,
    evidence: [`${f.to} -> ${ips.join(",") || "unresolved"}; ${results.join("; ")}`],
  };
}

export const flowName = (f: FlowSpec) => `${f.from} -> ${f.to}:${f.port}`;

/** A declared flow at the application level, from a task of its client (the first, or the one given). */
export async function probeFlow(ctx: StackContext, f: FlowSpec, from: From = {}): Promise<FlowResult> {
  const port = ctx.spec(f.to).ports.find((p) => p.port === f.port);
  switch (port?.appProtocol) {
    case "http":
    case "metrics":
      return httpFlow(ctx, f, from);
    case "mqtts": {
      const r = await mqttExchange(ctx, f.from, f.to, f.port, from);
      return { flow: flowName(f), protocol: "mqtts", ok: r.ok, evidence: r.evidence };
    }
    case "redis":
      return redisFlow(ctx, f, from);
    case "nats":
      return natsFlow(ctx, f, from);
    default:
      return tcpFlow(ctx, f, from);
  }
}

/**
 * Prometheus' own view of the declared scrape flows: every job's targets up (as many as the
 * service has tasks). Waits for the first scrapes, which come every scrape interval.
 */
export async function prometheusTargets(
  ctx: StackContext,
  jobs: string[],
  timeoutMs = 60_000,
): Promise<Record<string, { up: number; total: number; expected: number; errors: string[] }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await ctx.sh("prometheus", "curl -sS --max-time 5 http://127.0.0.1:9090/api/v1/targets?state=active");
    const view: Record<string, { up: number; total: number; expected: number; errors: string[] }> = {};
    for (const job of jobs) view[job] = { up: 0, total: 0, expected: (ctx.tasks[job] ?? []).length, errors: [] };
    try {
      for (const t of JSON.parse(r.stdout).data.activeTargets as any[]) {
        const v = view[t.labels?.job];
        if (!v) continue;
        v.total++;
        if (t.health === "up") v.up++;
        else if (t.lastError) v.errors.push(`${t.labels.instance}: ${t.lastError}`);
      }
    } catch {
      // Not answering yet.
    }
    if (Object.values(view).every((v) => v.up === v.expected && v.total === v.expected && v.expected > 0)) return view;
    if (Date.now() >= deadline) return view;
    await new Promise((res) => setTimeout(res, 2000));
  }
}

export interface PairResult {
  readonly from: string;
  /** The task of `from` the probe ran in. */
  readonly fromTask?: Task;
  readonly to: string;
  readonly blocked: boolean;
  /** Names of `to` and what the lookup from `from` got (status, addresses). */
  readonly dns: Record<string, string>;
  /** `ip:port` of `to`'s tasks and how the connect from `from` ended. */
  readonly tcp: Record<string, string>;
  /** Kernel route from `from`'s task to each of `to`'s addresses. */
  readonly routes: Record<string, string>;
}

/**
 * Probes every forbidden pair, one netprobe per client service (lookups and connects in parallel
 * inside it); with `everyTask`, one per task of the client, so on a multi-node swarm the pairs are
 * tried from every node the client runs on.
 */
export async function probeForbidden(
  ctx: StackContext,
  pairs: readonly Pair[],
  onClient?: (client: string, results: PairResult[]) => void,
  opts: { everyTask?: boolean } = {},
): Promise<PairResult[]> {
  const byClient = new Map<string, string[]>();
  for (const p of pairs) byClient.set(p.from, [...(byClient.get(p.from) ?? []), p.to]);
  const units = [...byClient.entries()].flatMap(([client, targets]) =>
    opts.everyTask
      ? (ctx.tasks[client] ?? []).map((task) => ({ client, targets, task: task as Task | undefined }))
      : [{ client, targets, task: undefined as Task | undefined }],
  );
  const all = await mapLimit(units, 3, async ({ client, targets, task }) => {
    const names = targets.flatMap((to) => serviceNames(ctx.exports, to));
    const tcp: [string, number][] = targets.flatMap((to) =>
      ctx.ips(to).flatMap((ip) =>
        ctx
          .spec(to)
          .ports.filter((p) => p.protocol === "tcp")
          .map((p) => [ip, p.port] as [string, number]),
      ),
    );
    const routes = [...new Set(targets.flatMap((to) => ctx.ips(to)))];
    const r = await ctx.netprobe(client, { dns: names, tcp, routes, timeout: 3, parallel: 12 }, { task });
    const results = targets.map((to): PairResult => {
      const dns = Object.fromEntries(
        serviceNames(ctx.exports, to).map((n) => {
          const d = r.dns[n];
          return [n, d ? `${d.status}${d.addrs.length ? ` ${d.addrs.join(",")}` : ""}` : "not asked"];
        }),
      );
      const ips = ctx.ips(to);
      const tcpOut = Object.fromEntries(
        Object.entries(r.tcp)
          .filter(([k]) => ips.includes(k.split(":")[0]))
          .map(([k, v]) => [k, v.result]),
      );
      const routeOut = Object.fromEntries(ips.map((ip) => [ip, r.routes[ip] ?? "not asked"]));
      const resolved = serviceNames(ctx.exports, to).some((n) => (r.dns[n]?.addrs.length ?? 0) > 0);
      const open = Object.values(tcpOut).some((v) => v === "open");
      const probed = ips.length > 0 && Object.keys(tcpOut).length > 0;
      return {
        from: client,
        fromTask: task,
        to,
        blocked: !resolved && !open && probed,
        dns,
        tcp: tcpOut,
        routes: routeOut,
      };
    });
    onClient?.(client, results);
    return results;
  });
  return all.flat();
}

/** One line on why a pair counts as blocked or not (for the log and the report's details). */
export function describePair(p: PairResult): string {
  const tally = (values: string[]) => {
    const counts = new Map<string, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    return [...counts].map(([k, n]) => `${k}${n > 1 ? `×${n}` : ""}`).join(", ");
  };
  const routes = tally(
    Object.values(p.routes).map((r) =>
      /unreachable/i.test(r) ? "no route" : / via (\S+)/.test(r) ? `via ${/ via (\S+)/.exec(r)![1]}` : r,
    ),
  );
  return `names: ${tally(Object.values(p.dns).map((d) => d.split(" ")[0]))}; connects: ${tally(Object.values(p.tcp))}; routes: ${routes}`;
}
