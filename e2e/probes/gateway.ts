/**
 * The gateway as its users meet it, over HTTPS on the published port with the program's CA:
 * every route reaches its backend (admin routes refused from outside the allowlist and served
 * from inside it), requests spread over every replica, and a replica killed mid-stream costs no
 * failed request while the swarm restores it.
 */
import * as crypto from "node:crypto";
import * as https from "node:https";
import * as http from "node:http";
import { serviceFiles } from "../../model/files";
import { RouteSpec } from "../../model/types";
import { serviceTasks } from "../harness";
import { StackContext, Task } from "../lib/context";
import { errorText, ipInCidrs, sleep } from "../lib/util";
import { Check } from "./tls";
import { gwbridgeGateway } from "./egress";

export interface GatewayResponse {
  readonly status: number;
  readonly servedBy?: string;
  readonly location?: string;
  readonly hsts?: string;
  /** SHA-256 of the body, to recognise a backend that does not name itself (see backendBodies). */
  readonly bodySha256?: string;
  readonly ms: number;
  readonly error?: string;
}

const sha256 = (text: string) => crypto.createHash("sha256").update(text).digest("hex");

/** GET through the gateway's published HTTPS port with SNI and Host `host`, trusting only the program's CA. */
export function gatewayGet(
  ctx: StackContext,
  host: string,
  path: string,
  agent?: https.Agent,
  timeoutMs = 10_000,
  servername = host,
): Promise<GatewayResponse> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port: ctx.published("gateway", "https"),
        path,
        method: "GET",
        servername,
        headers: { Host: host },
        ca: ctx.caPem,
        agent,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            servedBy: res.headers["x-served-by"] as string | undefined,
            location: res.headers.location,
            hsts: res.headers["strict-transport-security"] as string | undefined,
            bodySha256: sha256(Buffer.concat(chunks).toString()),
            ms: Date.now() - t0,
          }),
        );
        res.on("error", (e) => resolve({ status: 0, ms: Date.now() - t0, error: e.message }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e) => resolve({ status: 0, ms: Date.now() - t0, error: e.message }));
    req.end();
  });
}

function httpGet(port: number, host: string, path: string): Promise<GatewayResponse> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const req = http.request({ host: "127.0.0.1", port, path, headers: { Host: host }, timeout: 5000 }, (res) => {
      res.resume();
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, location: res.headers.location, ms: Date.now() - t0 }),
      );
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ status: 0, ms: Date.now() - t0, error: e.message }));
    req.end();
  });
}

export const routeHost = (ctx: StackContext, r: RouteSpec) => `${r.subdomain}.${ctx.topology.domain}`;

/** The path a route's backend answers 200 on: its health endpoint when the route targets that port. */
export function routePath(ctx: StackContext, r: RouteSpec): string {
  const s = ctx.spec(r.service);
  const healthPort = s.ports.find((p) => p.name === s.health.portName)?.port;
  return healthPort === r.port && s.health.httpPath ? s.health.httpPath : "/";
}

const backendName = (r: RouteSpec) => `${r.service.replace(/[^a-z0-9]/g, "_")}_${r.port}`;

/** HAProxy's count of servers up in a route's backend, from its Prometheus endpoint inside the gateway task. */
export async function activeServers(ctx: StackContext, r: RouteSpec): Promise<number | undefined> {
  const metricsPort = ctx.spec("gateway").ports.find((p) => p.name === "metrics")?.port ?? 8405;
  const out = await ctx
    .sh(
      "gateway",
      `curl -sS --max-time 3 http://127.0.0.1:${metricsPort}/metrics | grep '^haproxy_backend_active_servers{proxy="${backendName(r)}"}'`,
      { timeoutMs: 8000 },
    )
    .catch(() => undefined);
  const m = out ? / (\d+)\s*$/.exec(out.stdout.trim()) : null;
  return m ? Number(m[1]) : undefined;
}

export async function waitForActiveServers(
  ctx: StackContext,
  r: RouteSpec,
  count: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  let n: number | undefined;
  while (Date.now() < deadline) {
    n = await activeServers(ctx, r);
    if (n === count) return n;
    await sleep(1000);
  }
  return n;
}

export interface RouteResult {
  readonly route: string;
  readonly service: string;
  readonly admin: boolean;
  readonly ok: boolean;
  readonly fromHost: string;
  readonly fromAllowlist?: string;
}

/** A task inside the admin allowlist that shares a network with the gateway and has the CA mounted. */
interface AllowlistedClient {
  readonly service: string;
  readonly task: Task;
  readonly gatewayIp: string;
  readonly sourceIp: string;
  readonly caFile?: string;
}

function allowlistedClient(ctx: StackContext): AllowlistedClient | undefined {
  const candidates = Object.entries(ctx.exports.intendedReachability)
    .filter(([s, peers]) => s !== "gateway" && peers.includes("gateway"))
    .map(([s]) => s);
  const withCa = (s: string) => serviceFiles(ctx.topology, ctx.spec(s)).files.find((f) => f.name === "ca.crt")?.target;
  for (const service of [...candidates].sort((a, b) => Number(Boolean(withCa(b))) - Number(Boolean(withCa(a))))) {
    const task = ctx.tasks[service]?.[0];
    const shared = ctx.sharedNetworks(service, "gateway");
    const source = task?.addrs.find((a) => shared.includes(a.network) && ipInCidrs(a.ip, ctx.topology.adminCidrs));
    const gatewayIp = source ? ctx.ips("gateway", [source.network])[0] : undefined;
    if (task && source && gatewayIp) return { service, task, gatewayIp, sourceIp: source.ip, caFile: withCa(service) };
  }
  return undefined;
}

/**
 * What each task of a route's backend answers on the route's path, asked inside the task itself:
 * a real server names no replica (the stand-ins' X-Served-By), so an answer through the gateway
 * counts as the backend's when its body is the one a backend task serves.
 */
async function backendBodies(ctx: StackContext, r: RouteSpec): Promise<Set<string>> {
  const bodies = new Set<string>();
  for (const task of ctx.tasks[r.service] ?? []) {
    const out = await ctx
      .sh(r.service, `curl -sS --max-time 5 'http://127.0.0.1:${r.port}${routePath(ctx, r)}'`, { task })
      .catch(() => undefined);
    if (out?.exitCode === 0) bodies.add(sha256(out.stdout));
  }
  return bodies;
}

/** Whether an answer came from a route's backend: a stand-in names its replica, a real server is known by its body. */
type FromBackend = (servedBy: string | undefined, bodySha: string | undefined) => boolean;

export async function probeRoutes(ctx: StackContext): Promise<{ results: RouteResult[]; checks: Check[] }> {
  const hostSource = await gwbridgeGateway(ctx);
  const hostAllowed = ipInCidrs(hostSource, ctx.topology.adminCidrs);
  const inside = allowlistedClient(ctx);
  const results: RouteResult[] = [];
  let hsts = true;
  for (const r of ctx.topology.routes) {
    const host = routeHost(ctx, r);
    const path = routePath(ctx, r);
    const backend = new Set((ctx.tasks[r.service] ?? []).map((t) => t.hostname));
    const bodies = await backendBodies(ctx, r);
    const fromBackend: FromBackend = (servedBy, bodySha) =>
      servedBy !== undefined ? backend.has(servedBy) : bodySha !== undefined && bodies.has(bodySha);
    const res = await gatewayGet(ctx, host, path);
    hsts &&= Boolean(res.hsts);
    const servedByBackend = fromBackend(res.servedBy, res.bodySha256);
    const fromHost = `GET https://${host}${path} from this host (${hostSource}) -> ${res.status || res.error}${res.servedBy ? ` served by ${res.servedBy}` : servedByBackend ? " with the backend's own body" : ""}`;
    if (!r.admin || hostAllowed) {
      const ok = res.status === 200 && servedByBackend;
      results.push({ route: host, service: r.service, admin: r.admin, ok, fromHost });
      continue;
    }
    // Admin route: refused from outside the allowlist, served from a task inside it.
    const insideTry = inside
      ? await adminFromInside(ctx, inside, host, path, fromBackend)
      : { ok: false, text: "no task inside adminCidrs shares a network with the gateway" };
    results.push({
      route: host,
      service: r.service,
      admin: true,
      ok: res.status === 403 && insideTry.ok,
      fromHost,
      fromAllowlist: insideTry.text,
    });
  }
  const checks: Check[] = [];
  const redirect = await redirectCheck(ctx);
  if (redirect) checks.push(redirect);
  // TLS for the domain itself (a name of the certificate), then a Host no route claims.
  const unknown = await gatewayGet(ctx, `unknown.${ctx.topology.domain}`, "/", undefined, 10_000, ctx.topology.domain);
  hsts &&= Boolean(unknown.hsts);
  checks.push({
    name: "Gateway answers 404 for a host without a route",
    ok: unknown.status === 404 && !unknown.servedBy,
    detail: `Host unknown.${ctx.topology.domain} -> ${unknown.status || unknown.error}`,
  });
  checks.push({
    name: "Gateway sends Strict-Transport-Security",
    ok: hsts,
    detail: hsts ? "on every answer, its own 403 and 404 included" : "missing on an answer (see details.routes)",
  });
  return { results, checks };
}

/** An admin route requested from a task inside the allowlist, straight to the gateway's HTTPS container port. */
async function adminFromInside(
  ctx: StackContext,
  inside: AllowlistedClient,
  host: string,
  path: string,
  fromBackend: FromBackend,
): Promise<{ ok: boolean; text: string }> {
  const httpsContainerPort = ctx.spec("gateway").ports.find((p) => p.name === "https")!.port;
  const ca = inside.caFile ? `--cacert '${inside.caFile}'` : "-k";
  const out = await ctx.sh(
    inside.service,
    `curl -sS --max-time 5 ${ca} --connect-to ${host}:443:${inside.gatewayIp}:${httpsContainerPort} -D - -w '\ncode=%{http_code}' 'https://${host}${path}'`,
    { task: inside.task },
  );
  // stdout: headers, a blank line, the body, then the status code curl appends.
  const code = /\ncode=(\d+)$/.exec(out.stdout)?.[1];
  const head = out.stdout.indexOf("\r\n\r\n");
  const body = head >= 0 ? out.stdout.slice(head + 4, out.stdout.lastIndexOf("\ncode=")) : undefined;
  const servedBy = /^x-served-by:\s*(\S+)/im.exec(head >= 0 ? out.stdout.slice(0, head) : "")?.[1];
  const served = fromBackend(servedBy, body === undefined ? undefined : sha256(body));
  const text =
    `from ${inside.service}.${inside.task.slot} (${inside.sourceIp}, in ${ctx.topology.adminCidrs.join(",")}) via ${inside.gatewayIp}:${httpsContainerPort} -> ` +
    `${code ?? out.stderr.trim().slice(0, 200)}${servedBy ? ` served by ${servedBy}` : served ? " with the backend's own body" : ""}${inside.caFile ? ", chain verified with the mounted CA" : ", WITHOUT a CA to verify"}`;
  return { ok: code === "200" && served && Boolean(inside.caFile), text };
}

/** Plain HTTP on the published port redirects to the published HTTPS port, and the redirect works. */
async function redirectCheck(ctx: StackContext): Promise<Check | undefined> {
  const first = ctx.topology.routes.find((r) => !r.admin) ?? ctx.topology.routes[0];
  if (!first) return undefined;
  const host = routeHost(ctx, first);
  const path = routePath(ctx, first);
  const httpsPort = ctx.published("gateway", "https");
  const httpPort = ctx.published("gateway", "http");
  const redirect = await httpGet(httpPort, host, path);
  const expected = `https://${host}${httpsPort === 443 ? "" : `:${httpsPort}`}${path}`;
  const followed = redirect.location === expected ? await gatewayGet(ctx, host, path) : undefined;
  return {
    name: "Gateway redirects HTTP to its published HTTPS port",
    ok: redirect.status === 301 && redirect.location === expected && followed?.status === 200,
    detail: `http://${host}:${httpPort}${path} -> ${redirect.status || redirect.error} ${redirect.location ?? ""}${followed ? `, followed -> ${followed.status}` : ""}`,
  };
}

/** The route balancing over the most replicas (load balancing and failover need more than one). */
export function balancedRoute(ctx: StackContext): RouteSpec | undefined {
  return [...ctx.topology.routes]
    .filter((r) => ctx.spec(r.service).replicas > 1)
    .sort((a, b) => ctx.spec(b.service).replicas - ctx.spec(a.service).replicas)[0];
}

export interface LbResult {
  readonly route?: string;
  readonly perReplica: Record<string, number>;
  readonly others: Record<string, number>;
  readonly failed: number;
  readonly requests: number;
  readonly activeServers?: number;
}

export async function probeLoadBalancing(ctx: StackContext, perReplicaRequests = 30): Promise<LbResult> {
  const r = balancedRoute(ctx);
  if (!r) return { perReplica: {}, others: {}, failed: 0, requests: 0 };
  const replicas = ctx.spec(r.service).replicas;
  const active = await waitForActiveServers(ctx, r, replicas, 60_000);
  const tasks = ctx.tasks[r.service] ?? [];
  const label = new Map(tasks.map((t) => [t.hostname, `${r.service}.${t.slot}`]));
  const perReplica: Record<string, number> = Object.fromEntries(tasks.map((t) => [`${r.service}.${t.slot}`, 0]));
  const others: Record<string, number> = {};
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  let failed = 0;
  const n = perReplicaRequests * replicas;
  for (let i = 0; i < n; i++) {
    const res = await gatewayGet(ctx, routeHost(ctx, r), routePath(ctx, r), agent);
    if (res.status !== 200) failed++;
    const key = res.servedBy ? label.get(res.servedBy) : undefined;
    if (key) perReplica[key]++;
    else
      others[res.servedBy ?? `status ${res.status || res.error}`] =
        (others[res.servedBy ?? `status ${res.status || res.error}`] ?? 0) + 1;
  }
  agent.destroy();
  return { route: routeHost(ctx, r), perReplica, others, failed, requests: n, activeServers: active };
}

export interface FailoverDetails {
  readonly route?: string;
  readonly requests: number;
  readonly failedRequests: number;
  readonly recoverySeconds: number | null;
  readonly killed?: string;
  /** Seconds after the kill until HAProxy saw one server fewer, and all servers again. */
  readonly gatewayMarkedDownSeconds?: number | null;
  readonly gatewayRecoverySeconds?: number | null;
  readonly replacementServed: boolean;
  readonly latencyMs: { p50: number; p99: number; max: number };
  readonly failures: string[];
  readonly pauseMs: number;
  readonly error?: string;
}

/**
 * Sends requests one after another (a pause between them) through the gateway; after `killAfter`
 * of them, SIGKILLs one replica's container; counts failed requests and the seconds until the swarm
 * runs every replica healthy again, and keeps sending until HAProxy uses the replacement.
 */
export async function probeFailover(
  ctx: StackContext,
  opts: { minRequests?: number; killAfter?: number; pauseMs?: number; timeoutMs?: number } = {},
): Promise<FailoverDetails> {
  const pauseMs = opts.pauseMs ?? 25;
  const r = balancedRoute(ctx);
  const empty = {
    requests: 0,
    failedRequests: 0,
    recoverySeconds: null,
    replacementServed: false,
    latencyMs: { p50: 0, p99: 0, max: 0 },
    failures: [],
    pauseMs,
  };
  if (!r) return { ...empty, error: "no route balances over more than one replica" };
  const replicas = ctx.spec(r.service).replicas;
  await ctx.refreshTasks();
  const before = ctx.tasks[r.service] ?? [];
  const victim = before[before.length - 1];
  if (!victim || before.length < replicas)
    return {
      ...empty,
      route: routeHost(ctx, r),
      error: `only ${before.length} of ${replicas} replicas running before the kill`,
    };
  await waitForActiveServers(ctx, r, replicas, 60_000);
  const serviceId = (await ctx.service(r.service)).ID as string;
  const run = new FailoverRun(
    ctx,
    r,
    { serviceId, replicas, before, victim },
    {
      minRequests: opts.minRequests ?? 200,
      killAfter: opts.killAfter ?? 40,
      pauseMs,
      timeoutMs: opts.timeoutMs ?? 120_000,
    },
  );
  return run.run();
}

/** One failover run: a sender of requests and a watcher of the swarm and HAProxy, sharing what they saw. */
class FailoverRun {
  private readonly host: string;
  private readonly path: string;
  private readonly agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly records: { t: number; res: GatewayResponse }[] = [];
  private killedAt?: number;
  private recoveredAt?: number;
  private downAt?: number;
  private gatewayBackAt?: number;
  private replacement?: string;
  private stop = false;

  constructor(
    private readonly ctx: StackContext,
    private readonly r: RouteSpec,
    private readonly target: { serviceId: string; replicas: number; before: readonly Task[]; victim: Task },
    private readonly opts: { minRequests: number; killAfter: number; pauseMs: number; timeoutMs: number },
  ) {
    this.host = routeHost(ctx, r);
    this.path = routePath(ctx, r);
  }

  async run(): Promise<FailoverDetails> {
    try {
      await Promise.all([this.sender(), this.watcher()]);
    } finally {
      this.stop = true;
      this.agent.destroy();
    }
    return this.result();
  }

  private deadline(): number {
    return (this.killedAt ?? Date.now()) + this.opts.timeoutMs;
  }

  private replacementServed(): boolean {
    return this.replacement !== undefined && this.records.some((x) => x.res.servedBy === this.replacement);
  }

  private async kill(): Promise<void> {
    const { ctx, target } = this;
    this.killedAt = Date.now();
    ctx.progress.line(
      `  killing ${this.r.service}.${target.victim.slot} (container ${target.victim.containerId.slice(0, 12)}) after ${this.records.length} requests`,
    );
    await ctx.docker
      .getContainer(target.victim.containerId)
      .kill()
      .catch((e) => ctx.progress.line(`  kill failed: ${errorText(e)}`));
  }

  private async sender(): Promise<void> {
    while (!this.stop) {
      const res = await gatewayGet(this.ctx, this.host, this.path, this.agent);
      this.records.push({ t: Date.now(), res });
      if (this.records.length === this.opts.killAfter) await this.kill();
      if (this.records.length >= this.opts.minRequests && this.gatewayBackAt && this.replacementServed())
        this.stop = true;
      if (this.killedAt && Date.now() > this.deadline()) this.stop = true;
      if (!this.stop) await sleep(this.opts.pauseMs);
    }
  }

  private async watcher(): Promise<void> {
    while (!this.stop) {
      if (this.killedAt) {
        if (!this.recoveredAt) await this.checkSwarmRecovered(this.killedAt);
        await this.checkGateway(this.killedAt);
      }
      await sleep(250);
    }
  }

  /** The swarm runs every replica healthy again, one of them a new container: the replacement. */
  private async checkSwarmRecovered(killedAt: number): Promise<void> {
    const { ctx, target } = this;
    const tasks = await serviceTasks(ctx.docker, target.serviceId);
    const healthy = tasks.filter(
      (t) =>
        t.desiredState === "running" &&
        t.state === "running" &&
        (t.health === undefined || t.health === "healthy") &&
        t.containerId !== target.victim.containerId,
    );
    if (healthy.length < target.replicas) return;
    this.recoveredAt = Date.now();
    const fresh = healthy.find((t) => !target.before.some((b) => b.containerId === t.containerId));
    if (fresh?.containerId) {
      const info = await ctx.docker
        .getContainer(fresh.containerId)
        .inspect()
        .catch(() => undefined);
      this.replacement = info?.Config?.Hostname ?? fresh.containerId.slice(0, 12);
    }
    ctx.progress.line(
      `  swarm runs ${target.replicas} healthy replicas again after ${((this.recoveredAt - killedAt) / 1000).toFixed(1)} s (replacement ${this.replacement ?? "?"})`,
    );
  }

  /** HAProxy marks the killed server down, then uses every server again once the swarm has recovered. */
  private async checkGateway(killedAt: number): Promise<void> {
    const { replicas } = this.target;
    const active = await activeServers(this.ctx, this.r);
    if (active !== undefined && active < replicas && !this.downAt) this.downAt = Date.now();
    if (this.recoveredAt && !this.gatewayBackAt && active === replicas) {
      this.gatewayBackAt = Date.now();
      this.ctx.progress.line(
        `  gateway routes to ${replicas} servers again after ${((this.gatewayBackAt - killedAt) / 1000).toFixed(1)} s`,
      );
    }
  }

  private result(): FailoverDetails {
    const { records, killedAt, target } = this;
    const ms = records.map((x) => x.res.ms).sort((a, b) => a - b);
    const pct = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? 0;
    const failed = records.filter((x) => x.res.status !== 200);
    const since = (t?: number) => (t && killedAt ? Math.round((t - killedAt) / 100) / 10 : null);
    return {
      route: this.host,
      requests: records.length,
      failedRequests: failed.length,
      recoverySeconds: since(this.recoveredAt),
      killed: `${this.r.service}.${target.victim.slot} (${target.victim.hostname})`,
      gatewayMarkedDownSeconds: since(this.downAt),
      gatewayRecoverySeconds: since(this.gatewayBackAt),
      replacementServed: this.replacementServed(),
      latencyMs: { p50: pct(0.5), p99: pct(0.99), max: ms[ms.length - 1] ?? 0 },
      failures: failed.slice(0, 10).map((x) => `${since(x.t) ?? "before kill"} s: ${x.res.status || x.res.error}`),
      pauseMs: this.opts.pauseMs,
    };
  }
}
