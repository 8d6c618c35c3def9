/**
 * The gateway's start script (model/render/gatewayStart.ts): it probes each backend the way HAProxy's health check
 * does, and it is what the gateway runs. Run under sh against servers of this test, it starts HAProxy only once
 * every backend answered 200, and after its deadline without the ones that did not.
 */
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { serviceFiles } from "../model/files";
import { GATEWAY_START, GATEWAY_START_WAIT_SECONDS, renderGatewayStart } from "../model/render/gatewayStart";
import { GatewayBackend, gatewayBackends, HAPROXY_CONFIG, renderHaproxyConfig } from "../model/render/haproxy";
import { Topology } from "../model/types";
import { topologyFrom } from "./helpers";

const gateway = (t: Topology) => t.services.find((s) => s.app === "haproxy")!;
const startFile = (t: Topology) => serviceFiles(t, gateway(t)).files.find((f) => f.name === "gateway-start.sh")!;

describe("the gateway's start script, as rendered", () => {
  let t: Topology;
  beforeEach(() => {
    t = topologyFrom({ environment: "prod", domain: "energy.example.com" });
  });

  it("probes each backend at the address, port and health path HAProxy checks it on", () => {
    const cfg = renderHaproxyConfig(t);
    const checked = [...cfg.matchAll(/option httpchk GET (\S+)\n.*\n {2}server-template \S+ \d+ (\S+):(\d+) /g)].map(
      (m) => `http://${m[2]}:${m[3]}${m[1]}`,
    );
    const probed = [...startFile(t).template.matchAll(/^ {2}probe '[^']+' '([^']+)'/gm)].map((m) => m[1]);
    expect(checked.length).toBe(t.routes.length);
    expect(probed).toEqual(checked);
  });

  it("follows the routes: a removed route is no longer waited for", () => {
    const cut: Topology = { ...t, routes: t.routes.filter((r) => r.service !== "node-red") };
    expect(startFile(t).template).toContain("tasks.node-red:");
    expect(startFile(cut).template).not.toContain("tasks.node-red:");
    expect(gatewayBackends(cut).map((b) => b.service)).toEqual(cut.routes.map((r) => r.service));
  });

  it("is what the gateway runs, a config file, with a health start period longer than its wait", () => {
    const s = gateway(t);
    expect(s.command).toEqual(["sh", GATEWAY_START]);
    expect(startFile(t)).toMatchObject({ kind: "config", target: GATEWAY_START });
    expect(startFile(t).template).toContain(`exec haproxy -W -db -f '${HAPROXY_CONFIG}'`);
    expect(s.health.startPeriodSeconds).toBeGreaterThan(GATEWAY_START_WAIT_SECONDS);
  });

  it("is valid POSIX sh", () => {
    expect(() => execFileSync("sh", ["-n"], { input: startFile(t).template })).not.toThrow();
  });
});

/** A server answering its path with `status()`; counts the requests. */
async function server(status: () => number): Promise<{ port: number; hits: () => number; close: () => void }> {
  let hits = 0;
  const s = http.createServer((_req, res) => {
    hits++;
    res.writeHead(status()).end();
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return { port: (s.address() as AddressInfo).port, hits: () => hits, close: () => s.close() };
}

/**
 * Runs the script with a `haproxy` on PATH that records its arguments and when it ran. Resolves when the script
 * exits: with the log and the time HAProxy started, or `started: undefined` if it never did.
 */
async function runScript(
  backends: GatewayBackend[],
  waitSeconds: number,
  opts: { withoutWget?: boolean } = {},
): Promise<{ log: string; started?: number; args?: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gateway-start-"));
  // Without wget: a PATH of this directory alone, with the one tool the recording haproxy needs.
  if (opts.withoutWget)
    fs.symlinkSync(execFileSync("sh", ["-c", "command -v date"]).toString().trim(), path.join(dir, "date"));
  const PATH = opts.withoutWget ? dir : `${dir}:${process.env.PATH}`;
  const record = path.join(dir, "ran");
  fs.writeFileSync(path.join(dir, "haproxy"), `#!/bin/sh\necho "$(date +%s%N) $*" > ${record}\n`, { mode: 0o755 });
  const script = renderGatewayStart({ backends, config: "/cfg", waitSeconds, hostOf: () => "127.0.0.1" });
  fs.writeFileSync(path.join(dir, "start.sh"), script);
  const log = await new Promise<string>((resolve) =>
    execFile("/bin/sh", [path.join(dir, "start.sh")], { env: { PATH } }, (_e, _o, err) => resolve(err)),
  );
  const ran = fs.existsSync(record) ? fs.readFileSync(record, "utf8").trim() : undefined;
  fs.rmSync(dir, { recursive: true, force: true });
  if (!ran) return { log };
  const [ns, ...args] = ran.split(" ");
  return { log, started: Number(BigInt(ns) / 1_000_000n), args: args.join(" ") };
}

const backend = (service: string, port: number): GatewayBackend => ({
  name: `${service}_${port}`,
  service,
  port,
  healthPath: "/health",
});

describe("the gateway's start script, run", () => {
  it("starts HAProxy at once when every backend answers", async () => {
    const a = await server(() => 200);
    const b = await server(() => 200);
    try {
      const t0 = Date.now();
      const r = await runScript([backend("grafana", a.port), backend("node-red", b.port)], 10);
      expect(r.args).toBe("-W -db -f /cfg");
      expect(r.started! - t0).toBeLessThan(5000);
      expect(r.log).toMatch(/gateway-start: grafana, node-red answered after \d+ s; starting HAProxy/);
    } finally {
      a.close();
      b.close();
    }
  });

  it("holds HAProxy back until a backend that answered 503 answers 200, probing the others once", async () => {
    let ready = false;
    const a = await server(() => 200);
    const b = await server(() => (ready ? 200 : 503));
    const readyAt = Date.now() + 2500;
    const timer = setTimeout(() => (ready = true), 2500);
    try {
      const r = await runScript([backend("grafana", a.port), backend("node-red", b.port)], 20);
      expect(r.started).toBeGreaterThanOrEqual(readyAt);
      expect(b.hits()).toBeGreaterThan(1);
      expect(a.hits()).toBe(1);
      expect(r.log).toContain("grafana, node-red answered");
    } finally {
      clearTimeout(timer);
      a.close();
      b.close();
    }
  });

  it("starts HAProxy at once in an image without wget, saying so", async () => {
    const b = await server(() => 503);
    try {
      const t0 = Date.now();
      const r = await runScript([backend("grafana", b.port)], 10, { withoutWget: true });
      expect(r.args).toBe("-W -db -f /cfg");
      expect(r.started! - t0).toBeLessThan(5000);
      expect(b.hits()).toBe(0);
      expect(r.log).toContain("gateway-start: no wget in the image: starting HAProxy without waiting");
    } finally {
      b.close();
    }
  });

  it("starts HAProxy after its wait without a backend that never answers, and names it", async () => {
    const a = await server(() => 200);
    const b = await server(() => 503);
    try {
      const t0 = Date.now();
      const r = await runScript([backend("grafana", a.port), backend("influxdb", b.port)], 2);
      expect(r.args).toBe("-W -db -f /cfg");
      expect(r.started! - t0).toBeGreaterThanOrEqual(1000);
      expect(r.log).toContain("gateway-start: no answer from influxdb within 2 s; starting HAProxy without them");
    } finally {
      a.close();
      b.close();
    }
  });
});
