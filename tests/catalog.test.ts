/**
 * The reference catalog (model/catalog.ts) keeps the promises the rest of the program builds on: the rules a
 * stack's own services, flows and routes must pass, the hardening the policy pack demands, health checks that
 * can pass, and commands and data paths that meet the files and volumes the program gives each service.
 * Nothing here copies the catalog's values; each test checks a value against what depends on it.
 */
import { readFileSync } from "fs";
import { join } from "path";
import { APPS } from "../model/apps";
import { referenceFlows, referenceRoutes, referenceServices, referenceTiers } from "../model/catalog";
import { endpoints } from "../model/discovery";
import { serviceFiles } from "../model/files";
import { parseImageRef } from "../model/imageRef";
import { serviceRunning } from "../model/lookup";
import { unbuildableService } from "../model/merge";
import { MAX_SWARM_NAME } from "../model/naming";
import { planNetworks } from "../model/networks";
import { MOSQUITTO_PATHS, renderMosquittoAcl, renderMosquittoConfig } from "../model/render/mosquitto";
import { renderNatsConfig } from "../model/render/nats";
import { renderRedisConfig } from "../model/render/redis";
import { AppName, ServiceSpec, Topology } from "../model/types";
import { ADMIN_UI_APPS } from "../model/validateRoutes";
import { INFLUXDB_RECONCILED, INFLUXDB_START } from "../model/wiring/paths";
import { configError, topologyFrom } from "./helpers";

// Resolved inside each test, not on load: a catalog that no longer resolves fails the tests, not the suite's load.
let resolved: Topology | undefined;
const dev = () => (resolved ??= topologyFrom({ environment: "dev" }));
const running = (app: AppName) => serviceRunning(dev(), app)!;
const portOf = (s: ServiceSpec, name: string | undefined) => s.ports.find((p) => p.name === name);
const filesOf = (s: ServiceSpec) => serviceFiles(dev(), s).files;
const fileTarget = (s: ServiceSpec, name: string) => filesOf(s).find((f) => f.name === name)?.target;
const volumeTargets = (s: ServiceSpec) => s.volumes.map((v) => v.target);
/** Path-like arguments: absolute paths, alone or as the value of `--flag=`. */
const pathsIn = (args: readonly string[]) => args.flatMap((a) => /^(?:--[a-z.-]+=)?(\/\S+)$/.exec(a)?.[1] ?? []);
/** The argument after a command-line option. */
const optionValue = (args: readonly string[], option: string) => args[args.indexOf(option) + 1];
const policyConfig = (env: string) =>
  JSON.parse(readFileSync(join(__dirname, "..", "policies", "config", `${env}.json`), "utf8")) as Record<
    string,
    Record<string, string[]>
  >;
const SWARM_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/;
const APP_PROTOCOLS = new Set(["http", "https", "mqtt", "mqtts", "redis", "nats", "metrics"]);

describe("the reference tiers", () => {
  it("are each joined by some reference service, and every service joins reference tiers only", () => {
    const tierNames = referenceTiers.map((t) => t.name);
    for (const s of referenceServices) {
      expect({ service: s.name, joinsSome: s.tiers.length > 0 }).toEqual({ service: s.name, joinsSome: true });
      for (const tier of s.tiers) expect(tierNames).toContain(tier);
    }
    for (const tier of tierNames) {
      expect(referenceServices.filter((s) => s.tiers.includes(tier)).map((s) => s.name)).not.toEqual([]);
    }
  });

  it("each get a network of their own, with a Swarm network name that says which tier it is", () => {
    const networks = referenceTiers.map((t) => t.network);
    expect(new Set(networks).size).toBe(networks.length);
    for (const t of referenceTiers) {
      expect(t.network).toMatch(SWARM_NAME);
      expect(t.network.length).toBeLessThanOrEqual(MAX_SWARM_NAME);
      expect(t.network).toContain(t.name);
      expect(t.description.trim()).not.toBe("");
    }
    const planned = planNetworks(dev()).networks.filter((n) => n.kind === "tier");
    expect(planned.map((n) => n.name).sort()).toEqual([...networks].sort());
  });

  it("let no container outside the stack attach (restrict-attachable-networks allows none by default)", () => {
    expect(referenceTiers.filter((t) => t.attachable)).toEqual([]);
    expect(planNetworks(dev()).networks.filter((n) => n.attachable)).toEqual([]);
  });
});

describe("the reference services", () => {
  it("have names a stack may use, one per application the program knows", () => {
    const names = referenceServices.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(unbuildableService(name, {}, true)).toBeUndefined();
    for (const app of Object.keys(APPS) as AppName[]) {
      expect({ app, services: referenceServices.filter((s) => s.app === app).length }).toEqual({ app, services: 1 });
    }
  });

  it("each carry a role label of their own, for policies that allow by role", () => {
    const roles = referenceServices.map((s) => s.role);
    for (const role of roles) expect(role).toMatch(DNS_LABEL);
    expect(new Set(roles).size).toBe(roles.length);
  });

  it("pin each image to a version tag", () => {
    for (const s of referenceServices) {
      const ref = parseImageRef(s.image);
      if (typeof ref === "string") throw new Error(`${s.name}: ${ref}`);
      expect(ref.tag).toMatch(/\d+\.\d+/);
    }
  });

  it("name each port uniquely, with a protocol Swarm publishes, an application protocol and a purpose", () => {
    for (const s of referenceServices) {
      const names = s.ports.map((p) => p.name);
      expect(new Set(names).size).toBe(names.length);
      for (const p of s.ports) {
        expect(p.name).toMatch(DNS_LABEL);
        expect(["tcp", "udp"]).toContain(p.protocol);
        expect(APP_PROTOCOLS.has(p.appProtocol)).toBe(true);
        expect(p.purpose.trim()).not.toBe("");
      }
    }
  });

  it("run as a non-root user, with every capability dropped and none added", () => {
    for (const s of referenceServices) {
      expect(s.uid).toBeGreaterThan(0);
      expect(Number.isInteger(s.gid)).toBe(true);
      expect(s.capDrop).toEqual(["ALL"]);
      expect(s.capAdd).toEqual([]);
    }
  });

  it("keep a read-only root filesystem except where the policy pack allows a writable one, and only there", () => {
    for (const env of ["dev", "prod"]) {
      const allowed = policyConfig(env)["require-read-only-root-filesystem"].writableAllowed;
      const writable = referenceServices.filter((s) => !s.readOnlyRootFilesystem);
      for (const s of writable) expect(allowed.includes(s.name) || allowed.includes(s.role)).toBe(true);
      // An exemption no service needs is one the policy should not grant.
      for (const entry of allowed) expect(writable.some((s) => s.name === entry || s.role === entry)).toBe(true);
    }
  });

  it("reserve no more than their limits, and something of each", () => {
    for (const { name, resources: r } of referenceServices) {
      expect({ name, cpus: r.cpus > 0, memory: r.memoryMb > 0 }).toEqual({ name, cpus: true, memory: true });
      expect(r.reservedCpus).toBeGreaterThan(0);
      expect(r.reservedMemoryMb).toBeGreaterThan(0);
      expect(r.reservedCpus).toBeLessThanOrEqual(r.cpus);
      expect(r.reservedMemoryMb).toBeLessThanOrEqual(r.memoryMb);
    }
  });

  it("keep state in volumes of stack-unique names at absolute paths, and scratch space in absolute tmpfs paths", () => {
    const volumes = referenceServices.flatMap((s) => s.volumes.map((v) => v.name));
    expect(new Set(volumes).size).toBe(volumes.length);
    for (const s of referenceServices) {
      for (const v of s.volumes) {
        expect(v.name).toMatch(SWARM_NAME);
        expect(v.target).toMatch(/^\/\S/);
      }
      for (const path of s.tmpfs) expect(path).toMatch(/^\/\S/);
    }
  });

  it("publish only from the entry points the prod policy allows: the gateway on 443 and 80, the broker's TLS port", () => {
    const allowed = policyConfig("prod")["restrict-port-publishers"].allowedPublishers;
    for (const s of referenceServices.filter((x) => x.ports.some((p) => p.published !== undefined))) {
      expect(allowed.includes(s.name) || allowed.includes(s.role)).toBe(true);
    }
    const gateway = running("haproxy");
    expect(gateway.ports.find((p) => p.appProtocol === "https")?.published).toBe(443);
    expect(gateway.ports.find((p) => p.appProtocol === "http")?.published).toBe(80);
    expect(
      running("mosquitto")
        .ports.filter((p) => p.published !== undefined)
        .map((p) => p.appProtocol),
    ).toEqual(["mqtts"]);
    // What operators are told to use from outside: the dashboards' host on 443, the broker's TLS host and port.
    const broker = running("mosquitto");
    const mqtts = broker.ports.find((p) => p.appProtocol === "mqtts")!;
    const outside = endpoints(dev());
    expect(outside[gateway.name].external).toContain(`https://${dev().domain}/`);
    expect(outside[broker.name].external).toEqual([`mqtts://${dev().tls.mqttHostname}:${mqtts.published}`]);
  });
});

describe("the reference health checks", () => {
  it("use Docker's exec or shell form, with no empty argument, and give up before the next check starts", () => {
    for (const { name, health: h } of referenceServices) {
      expect({ name, form: h.test[0] }).toEqual({ name, form: expect.stringMatching(/^CMD(-SHELL)?$/) });
      expect(h.test.length).toBeGreaterThan(1);
      for (const arg of h.test) expect({ name, arg: arg.trim() === "" }).toEqual({ name, arg: false });
      expect(h.timeoutSeconds).toBeGreaterThan(0);
      expect(h.timeoutSeconds).toBeLessThan(h.intervalSeconds);
      expect(h.retries).toBeGreaterThanOrEqual(1);
      expect(h.startPeriodSeconds).toBeGreaterThanOrEqual(h.intervalSeconds);
    }
  });

  it("of HTTP endpoints name the port they are served on, and the check fetches that port and path on loopback", () => {
    const http = referenceServices.filter((s) => s.health.httpPath !== undefined || s.health.portName !== undefined);
    expect(http.length).toBeGreaterThan(0);
    for (const s of http) {
      const port = portOf(s, s.health.portName);
      expect({ service: s.name, port: port?.name }).toEqual({ service: s.name, port: s.health.portName });
      expect(["http", "metrics"]).toContain(port!.appProtocol);
      expect(s.health.httpPath).toMatch(/^\//);
      expect(s.health.test.join(" ")).toContain(`http://127.0.0.1:${port!.port}${s.health.httpPath}`);
      expect(endpoints(dev())[s.name].health).toBe(`http://${s.name}:${port!.port}${s.health.httpPath}`);
    }
    // Every routed service has one, so the gateway's active check asks the endpoint meant for it.
    for (const r of referenceRoutes) expect(http.map((s) => s.name)).toContain(r.service);
  });

  it("of the broker subscribe on the loopback listener its configuration opens, to a topic anonymous clients may read", () => {
    const broker = running("mosquitto");
    const args = broker.health.test;
    const config = renderMosquittoConfig(dev());
    expect(config).toContain(`listener ${optionValue(args, "-p")} ${optionValue(args, "-h")}`);
    expect(optionValue(args, "-h")).toBe("127.0.0.1");
    const topic = optionValue(args, "-t");
    const readable = /^topic read (\S+)#$/m.exec(renderMosquittoAcl(dev()))![1];
    expect(topic.startsWith(readable)).toBe(true);
    // One message is enough, and mosquitto_sub gives up on its own before Docker's timeout kills it.
    expect(Number(optionValue(args, "-C"))).toBeGreaterThanOrEqual(1);
    expect(Number(optionValue(args, "-W"))).toBeLessThan(broker.health.timeoutSeconds);
  });

  it("of InfluxDB wait for its start script's mark, which lives on a tmpfs so a restarted task reconciles again", () => {
    const influxdb = running("influxdb");
    expect(influxdb.health.test.join(" ")).toContain(`test -f ${INFLUXDB_RECONCILED}`);
    expect(influxdb.tmpfs.some((dir) => INFLUXDB_RECONCILED.startsWith(`${dir}/`))).toBe(true);
  });
});

describe("the reference commands and data paths", () => {
  it("refer only to files the service gets and to its volumes and tmpfs", () => {
    for (const s of dev().services.filter((x) => x.command !== undefined)) {
      expect(s.command!.length).toBeGreaterThan(0);
      for (const arg of s.command!) expect(arg).not.toBe("");
      const mounted = [...filesOf(s).map((f) => f.target), ...volumeTargets(s), ...s.tmpfs];
      for (const path of pathsIn(s.command!)) expect(mounted).toContain(path);
    }
  });

  it("start InfluxDB under its start script, and Redis, NATS and Prometheus with the configuration rendered for them", () => {
    const influxdb = running("influxdb");
    expect(influxdb.command).toContain(fileTarget(influxdb, "influxdb-start.sh"));
    expect(fileTarget(influxdb, "influxdb-start.sh")).toBe(INFLUXDB_START);
    const redis = running("redis");
    expect(redis.command).toContain(fileTarget(redis, "redis.conf"));
    const nats = running("nats");
    expect(optionValue(nats.command!, "-c")).toBe(fileTarget(nats, "nats.conf"));
    const prometheus = running("prometheus");
    expect(prometheus.command).toContain(`--config.file=${fileTarget(prometheus, "prometheus.yml")}`);
    // Its time series live on its volume, which pins it to the state node.
    expect(volumeTargets(prometheus).map((t) => `--storage.tsdb.path=${t}`)).toContain(
      prometheus.command!.find((a) => a.startsWith("--storage.tsdb.path=")),
    );
  });

  it("keep the broker's sessions and Redis's append-only file on their volumes", () => {
    const broker = running("mosquitto");
    const persistence = /^persistence_location (\S+?)\/?$/m.exec(renderMosquittoConfig(dev()))![1];
    expect(volumeTargets(broker)).toContain(persistence);
    expect(renderMosquittoConfig(dev())).toContain(`acl_file ${MOSQUITTO_PATHS.acl}`);
    const redis = running("redis");
    expect(volumeTargets(redis)).toContain(/^dir (\S+)$/m.exec(renderRedisConfig(redis))![1]);
  });

  it("run NATS as a singleton, since its configuration has no cluster block to share subscriptions", () => {
    const nats = running("nats");
    expect(renderNatsConfig(nats)).not.toMatch(/^\s*cluster\b/m);
    expect(nats.singleton).toBe(true);
  });
});

describe("the reference flows and routes", () => {
  it("pass the checks a stack's own flows and routes must pass", () => {
    expect(
      configError({
        environment: "dev",
        flows: referenceFlows.map((f) => `${f.from} -> ${f.to}:${f.port}`),
        routes: referenceRoutes,
      }),
    ).toBe("");
  });

  it("are declared once each, with a purpose for the docs", () => {
    const keys = referenceFlows.map((f) => `${f.from}->${f.to}:${f.port}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const f of referenceFlows) expect(f.purpose.trim()).not.toBe("");
    for (const r of referenceRoutes) expect(r.purpose.trim()).not.toBe("");
  });

  it("let Prometheus scrape only ports that serve metrics over HTTP", () => {
    const prometheus = running("prometheus");
    const scrapes = referenceFlows.filter((f) => f.from === prometheus.name);
    expect(scrapes.length).toBeGreaterThan(0);
    for (const f of scrapes) {
      const target = referenceServices.find((s) => s.name === f.to)!.ports.find((p) => p.port === f.port)!;
      expect(["metrics", "http"]).toContain(target.appProtocol);
    }
  });

  it("serve each route on a subdomain of its own, behind the admin allowlist exactly when its UI administers the stack", () => {
    const subdomains = referenceRoutes.map((r) => r.subdomain);
    expect(new Set(subdomains).size).toBe(subdomains.length);
    for (const r of referenceRoutes) {
      expect(r.subdomain).toMatch(DNS_LABEL);
      const app = referenceServices.find((s) => s.name === r.service)!.app!;
      expect({ route: r.subdomain, admin: r.admin }).toEqual({ route: r.subdomain, admin: ADMIN_UI_APPS.has(app) });
    }
  });
});
