/**
 * File wiring derives from the model: what a service runs, whether it is an MQTT client, which flows it
 * declares. Configs the schema accepts wire every file they need and nothing that refers to a certificate
 * or password the stack does not create; renaming services changes nothing but the names.
 */
import {
  configFile,
  FILE_SOURCES,
  FileSource,
  FileSpec,
  fillPlaceholders,
  passwordIds,
  placeholders,
  requiresSecret,
  ServiceFiles,
  serviceFiles,
} from "../model/files";
import { posix } from "path";
import { planIdentities } from "../model/identity";
import { GATEWAY_START } from "../model/render/gatewayStart";
import { HAPROXY_CONFIG, HAPROXY_PEM } from "../model/render/haproxy";
import { MOSQUITTO_PATHS } from "../model/render/mosquitto";
import { NODE_RED_PATHS } from "../model/render/nodeRed";
import { REDIS_CONFIG } from "../model/render/redis";
import {
  INFLUXDB_ADMIN_TOKEN,
  INFLUXDB_RECONCILED,
  INFLUXDB_START,
  influxUserPasswordPath,
  NATS_AUTH,
  NATS_CONFIG,
  redisAclPath,
} from "../model/wiring/paths";
import { planCertificates } from "../model/pki";
import { ServiceSpec, Topology } from "../model/types";
import { topologyFrom } from "./helpers";

const dev = { environment: "dev" };
const files = (t: Topology, name: string) =>
  serviceFiles(
    t,
    t.services.find((s) => s.name === name)!,
  );
const names = (fs: readonly FileSpec[]) => fs.map((f) => f.name);

/** Placeholders naming a certificate or password the stack does not create (what crashed the program). */
function unresolved(t: Topology): string[] {
  const leaves = new Set(planCertificates(t).map((l) => l.name));
  const passwords = new Set(passwordIds(t));
  return t.services.flatMap((s) =>
    serviceFiles(t, s).files.flatMap((f) =>
      [...f.template.matchAll(/\{\{(cert|key|expiry|password)\.([a-z0-9-]+)\}\}/g)]
        .filter(([, kind, name]) => !(kind === "password" ? passwords : leaves).has(name))
        .map(([ref]) => `${s.name}/${f.name}: ${ref}`),
    ),
  );
}

const nodeRedOnlyAcl = [{ user: "node-red", access: "read", topic: "devices/#" }];

describe("file wiring for configs the schema accepts", () => {
  it.each([
    ["the reference dev stack", dev],
    ["the reference prod stack", { environment: "prod" }],
    [
      "MQTT clients without the exporter, client certificates off",
      { ...dev, tls: { mqttClients: ["node-red"] }, mqtt: { requireClientCertificate: false, acl: nodeRedOnlyAcl } },
    ],
    [
      "no MQTT client certificates at all",
      { ...dev, tls: { mqttClients: [] }, mqtt: { requireClientCertificate: false, acl: [] } },
    ],
    ["client certificates off", { ...dev, mqtt: { requireClientCertificate: false } }],
    [
      "the broker listed as an MQTT client",
      { ...dev, tls: { mqttClients: ["node-red", "mqtt-exporter", "mosquitto"] } },
    ],
  ])("refers only to certificates and passwords the stack creates: %s", (_label, raw) => {
    const t = topologyFrom(raw);
    expect(t.services.length).toBeGreaterThan(0);
    expect(unresolved(t)).toEqual([]);
  });

  it("gives an MQTT client without a certificate the CA to verify the broker, and no client certificate", () => {
    const t = topologyFrom({
      ...dev,
      tls: { mqttClients: ["node-red"] },
      mqtt: { requireClientCertificate: false, acl: nodeRedOnlyAcl },
    });
    const exporter = files(t, "mqtt-exporter");
    expect(names(exporter.files)).toEqual(["ca.crt"]);
    expect(exporter.env).toEqual({ BROKER_ENDPOINT: "ssl://mosquitto:8883", SSL_CERT_FILE: "/etc/iot/certs/ca.crt" });
    expect(names(files(t, "node-red").files)).toEqual([
      "settings.js",
      "flows.json",
      "flows_cred.json",
      "ca.crt",
      "mqtt-client.crt",
      "mqtt-client.key",
      "redis-password",
      "nats-password",
    ]);
  });

  it("gives a certified client its own certificate and key, the key as an owner-only secret", () => {
    const exporter = files(topologyFrom(dev), "mqtt-exporter");
    expect(exporter.files.map((f) => [f.name, f.kind, f.mode, f.target, f.template])).toEqual([
      ["ca.crt", "config", 0o444, "/etc/iot/certs/ca.crt", "{{ca.cert}}"],
      ["mqtt-client.crt", "config", 0o444, "/etc/iot/certs/mqtt-client.crt", "{{cert.mqtt-client-mqtt-exporter}}"],
      [
        "mqtt-client.key",
        "secret",
        0o400,
        "/run/secrets/mqtt-exporter-mqtt-client.key",
        "{{key.mqtt-client-mqtt-exporter}}",
      ],
    ]);
    expect(exporter.env).toEqual({
      BROKER_ENDPOINT: "ssl://mosquitto:8883",
      MQTT_CERT: "/etc/iot/certs/mqtt-client.crt",
      MQTT_KEY: "/run/secrets/mqtt-exporter-mqtt-client.key",
      SSL_CERT_FILE: "/etc/iot/certs/ca.crt",
    });
  });

  it("keeps the broker's own files when it is listed as a client", () => {
    const t = topologyFrom({ ...dev, tls: { mqttClients: ["node-red", "mqtt-exporter", "mosquitto"] } });
    expect(names(files(t, "mosquitto").files)).toEqual(names(files(topologyFrom(dev), "mosquitto").files));
  });

  it("wires a service added in stack config as an MQTT client because of its flow and certificate", () => {
    const t = topologyFrom({
      ...dev,
      services: {
        "meter-bridge": {
          image: "ghcr.io/acme/meter-bridge:2.0.1",
          tiers: ["backend"],
          role: "bridge",
          ports: [{ name: "http", port: 8000, appProtocol: "http", purpose: "Status" }],
          health: { test: ["CMD", "true"] },
        },
      },
      flows: ["meter-bridge -> mosquitto:8883"],
      tls: { mqttClients: ["node-red", "mqtt-exporter", "meter-bridge"] },
    });
    const bridge = files(t, "meter-bridge");
    expect(bridge.files.map((f) => f.template)).toEqual([
      "{{ca.cert}}",
      "{{cert.mqtt-client-meter-bridge}}",
      "{{key.mqtt-client-meter-bridge}}",
    ]);
    expect(bridge.env).toEqual({
      MQTT_BROKER_URL: "mqtts://mosquitto:8883",
      MQTT_CA_FILE: "/etc/iot/certs/ca.crt",
      MQTT_CERT_FILE: "/etc/iot/certs/mqtt-client.crt",
      MQTT_KEY_FILE: "/run/secrets/meter-bridge-mqtt-client.key",
    });
    expect(unresolved(t)).toEqual([]);
  });

  it("gives a service added in stack config with no MQTT flow and no certificate no files", () => {
    const t = topologyFrom({
      ...dev,
      services: {
        api: {
          image: "ghcr.io/acme/api:1.0.0",
          tiers: ["backend"],
          role: "api",
          ports: [{ name: "http", port: 8000, appProtocol: "http", purpose: "API" }],
          health: { test: ["CMD", "true"] },
        },
      },
    });
    expect(files(t, "api")).toEqual({ files: [], env: {} });
  });
});

describe("credentials over declared flows", () => {
  it("gives Grafana its own InfluxDB password, as a secret its data source reads, and no admin token", () => {
    const grafana = files(topologyFrom(dev), "grafana");
    const password = grafana.files.find((f) => f.name === "influxdb-password")!;
    expect(password).toMatchObject({ kind: "secret", template: "{{password.influxdb-grafana}}" });
    const datasources = grafana.files.find((f) => f.name === "datasources.yaml")!.template;
    expect(datasources).toContain(`password: $__file{${password.target}}`);
    expect(datasources).toContain("user: grafana");
    // InfluxQL over the v1 API, on the database its identity's bucket maps to.
    expect(datasources).toContain("version: InfluxQL");
    expect(datasources).toContain("database: telemetry");
    expect(datasources).not.toMatch(/version: Flux|token/);
    expect(grafana.files.some((f) => f.template.includes("influxdb-token"))).toBe(false);
  });

  it("gives Grafana no password and no InfluxDB data source without a grafana -> influxdb flow", () => {
    const t = topologyFrom(dev);
    const cut = { ...t, flows: t.flows.filter((f) => !(f.from === "grafana" && f.to === "influxdb")) };
    const grafana = files(cut, "grafana");
    expect(names(grafana.files)).not.toContain("influxdb-password");
    expect(grafana.files.find((f) => f.name === "datasources.yaml")!.template).not.toContain("InfluxDB");
    // InfluxDB no longer creates its user either.
    expect(names(files(cut, "influxdb").files)).not.toContain("user-grafana-password");
  });

  it("keeps the admin token with InfluxDB alone", () => {
    const t = topologyFrom(dev);
    const holders = t.services.filter((s) =>
      serviceFiles(t, s).files.some((f) => f.template.includes("{{password.influxdb-token}}")),
    );
    expect(holders.map((s) => s.name)).toEqual(["influxdb"]);
  });

  it("gives each InfluxDB flow password to its client and to InfluxDB only", () => {
    const t = topologyFrom(dev);
    for (const id of ["influxdb-grafana", "influxdb-node-red"]) {
      const holders = t.services.filter((s) =>
        serviceFiles(t, s).files.some((f) => f.template.includes(`{{password.${id}}}`)),
      );
      expect([id, holders.map((s) => s.name).sort()]).toEqual([id, ["influxdb", id.replace("influxdb-", "")].sort()]);
    }
  });
});

/** The topology with services renamed everywhere a name appears: flows, routes, client certificates and ACLs. */
function renamed(t: Topology, map: Readonly<Record<string, string>>): Topology {
  const n = (name: string) => map[name] ?? name;
  return {
    ...t,
    services: t.services.map((s): ServiceSpec => ({ ...s, name: n(s.name) })),
    flows: t.flows.map((f) => ({ ...f, from: n(f.from), to: n(f.to) })),
    routes: t.routes.map((r) => ({ ...r, service: n(r.service) })),
    tls: { ...t.tls, mqttClients: t.tls.mqttClients.map(n) },
    mqtt: { ...t.mqtt, acl: t.mqtt.acl.map((a) => ({ ...a, user: n(a.user) })) },
  };
}

describe("renamed services", () => {
  const map = {
    gateway: "edge-proxy",
    mosquitto: "broker-1",
    grafana: "dash",
    influxdb: "tsdb-1",
    "node-red": "flows-1",
    prometheus: "metrics-1",
    "mqtt-exporter": "broker-stats",
  };
  // Built in each test, not once per file: a fixture built at load time runs the model outside any test.
  let before: Topology;
  let after: Topology;
  beforeEach(() => {
    before = topologyFrom(dev);
    after = renamed(before, map);
  });

  it("get the same files as before, by application", () => {
    for (const s of before.services) {
      expect({
        service: s.name,
        files: names(
          serviceFiles(
            after,
            after.services.find((x) => x.app === s.app)!,
          ).files,
        ),
      }).toEqual({
        service: s.name,
        files: names(serviceFiles(before, s).files).map((f) =>
          f
            .replace(/^influxdb-password$/, "tsdb-1-password")
            .replace(
              /^user-(grafana|node-red)-password$/,
              (_m, c: string) => `user-${map[c as keyof typeof map]}-password`,
            ),
        ),
      });
    }
    expect(unresolved(after)).toEqual([]);
  });

  it("point clients at the renamed servers", () => {
    expect(files(after, "flows-1").env.MQTT_BROKER_URL).toBe("mqtts://broker-1:8883");
    expect(files(after, "flows-1").files.map((f) => f.template)).toContain("{{key.mqtt-client-flows-1}}");
    const datasources = files(after, "dash").files.find((f) => f.name === "datasources.yaml")!.template;
    expect(datasources).toContain("url: http://tsdb-1:8086");
    expect(datasources).toContain("url: http://metrics-1:9090");
    expect(datasources).toContain("password: $__file{/run/secrets/dash-tsdb-1-password}");
    expect(datasources).toContain("user: dash");
    const scrape = files(after, "metrics-1").files.find((f) => f.name === "prometheus.yml")!.template;
    expect(scrape).toContain("names: ['tasks.edge-proxy']");
    expect(planCertificates(after).map((l) => l.name)).toEqual(expect.arrayContaining(["broker-1", "edge-proxy"]));
  });
});

/** The topology with service `name` changed by `change` (the rest of the model as it was). */
function withService(t: Topology, name: string, change: (s: ServiceSpec) => ServiceSpec): Topology {
  return { ...t, services: t.services.map((s) => (s.name === name ? change(s) : s)) };
}
/** Every port of `name` changed alike (moved to another number, or its application protocol renamed). */
const withPorts = (t: Topology, name: string, change: Partial<ServiceSpec["ports"][number]>): Topology =>
  withService(t, name, (s) => ({ ...s, ports: s.ports.map((p) => ({ ...p, ...change })) }));
const withoutFlow = (t: Topology, from: string, to: string): Topology => ({
  ...t,
  flows: t.flows.filter((f) => !(f.from === from && f.to === to)),
});
const file = (t: Topology, service: string, name: string): FileSpec => {
  const f = files(t, service).files.find((x) => x.name === name);
  if (!f) throw new Error(`${service} has no ${name}`);
  return f;
};
/** A service the catalog does not know, declared in stack config. */
const bridge = (mqttClients: string[], flows: string[]) =>
  topologyFrom({
    ...dev,
    // Client certificates required only when the bridge holds one.
    ...(mqttClients.includes("meter-bridge") ? {} : { mqtt: { requireClientCertificate: false } }),
    services: {
      "meter-bridge": {
        image: "ghcr.io/acme/meter-bridge:2.0.1",
        tiers: ["backend"],
        role: "bridge",
        ports: [{ name: "http", port: 8000, appProtocol: "http", purpose: "Status" }],
        health: { test: ["CMD", "true"] },
      },
    },
    flows,
    tls: { mqttClients },
  });

describe("every service's files", () => {
  let stacks: Topology[];
  beforeEach(() => {
    stacks = [topologyFrom(dev), topologyFrom({ environment: "prod" })];
  });

  it("carry keys and passwords only in owner-only secrets, and everything else in world-readable configs", () => {
    for (const t of stacks) {
      for (const s of t.services) {
        for (const f of serviceFiles(t, s).files) {
          const refs = placeholders(f.template).map((p) => p.kind);
          const label = `${s.name}/${f.name}`;
          if (refs.includes("key") || refs.includes("password")) expect([label, f.kind]).toEqual([label, "secret"]);
          expect([label, f.mode]).toEqual([label, f.kind === "secret" ? 0o400 : 0o444]);
          expect([label, requiresSecret(f.template)]).toEqual([
            label,
            refs.includes("key") || refs.includes("password"),
          ]);
        }
      }
    }
  });

  it("have names and targets unique within the service", () => {
    for (const t of stacks) {
      for (const s of t.services) {
        const fs = serviceFiles(t, s).files;
        expect(new Set(fs.map((f) => f.name)).size).toBe(fs.length);
        expect(new Set(fs.map((f) => f.target)).size).toBe(fs.length);
      }
    }
  });

  it("point each *_FILE variable at a file the service gets", () => {
    for (const t of stacks) {
      for (const s of t.services) {
        const given = serviceFiles(t, s);
        const targets = given.files.map((f) => f.target);
        for (const [key, value] of Object.entries(given.env).filter(([k]) => /_FILE$/.test(k))) {
          expect([s.name, key, targets.includes(value)]).toEqual([s.name, key, true]);
        }
      }
    }
  });

  it("list each generated password once, sorted, exactly those some file refers to", () => {
    const t = topologyFrom(dev);
    const referred = t.services.flatMap((s) =>
      serviceFiles(t, s).files.flatMap((f) => placeholders(f.template).filter((p) => p.kind === "password")),
    );
    const ids = passwordIds(t);
    expect(ids).toEqual([...new Set(referred.map((p) => p.name))].sort());
    expect(referred.length).toBeGreaterThan(ids.length); // some are held by a client and its server
    expect(ids).toEqual([
      "grafana-admin",
      "influxdb-admin",
      "influxdb-grafana",
      "influxdb-node-red",
      "influxdb-token",
      "nats-node-red",
      "redis-node-red",
    ]);
    // A flow removed: its password goes with it.
    expect(passwordIds(withoutFlow(t, "node-red", "redis"))).not.toContain("redis-node-red");
  });
});

describe("placeholders", () => {
  it("name what they refer to, and leave other {{ }} text alone", () => {
    expect(
      placeholders("{{ca.cert}} {{ cert.gw }} {{key.mqtt-client-a1}} {{password.x}} {{expiry.gw}} {{ $labels.x }}"),
    ).toEqual([
      { kind: "ca", name: "cert" },
      { kind: "cert", name: "gw" },
      { kind: "key", name: "mqtt-client-a1" },
      { kind: "password", name: "x" },
      { kind: "expiry", name: "gw" },
    ]);
    expect(placeholders("{{ca}}")).toEqual([{ kind: "ca", name: "" }]);
    expect(placeholders("{{token.x}} {{Password.x}}")).toEqual([]);
  });

  it("fill in order, each with its own value, and keep other template text", () => {
    const filled = fillPlaceholders("a={{password.a}} {{ .Value }} b={{key.b}}", (i) => `<${i}>`);
    expect(filled).toBe("a=<0> {{ .Value }} b=<1>");
  });

  it("make a file a secret only when it holds a key or a password", () => {
    expect(requiresSecret("{{key.gw}}")).toBe(true);
    expect(requiresSecret("{{password.x}}")).toBe(true);
    expect(requiresSecret("{{ca.cert}}\n{{cert.gw}}\n{{expiry.gw}}")).toBe(false);
    expect(requiresSecret("plain")).toBe(false);
  });
});

describe("each application's own files", () => {
  let t: Topology;
  beforeEach(() => {
    t = topologyFrom(dev);
  });

  it("Mosquitto: its configuration and ACL, the CA, and its own certificate and key (the key a secret)", () => {
    const broker = files(t, "mosquitto");
    expect(broker.files.map((f) => [f.name, f.kind, f.target])).toEqual([
      ["mosquitto.conf", "config", MOSQUITTO_PATHS.config],
      ["acl", "config", MOSQUITTO_PATHS.acl],
      ["ca.crt", "config", MOSQUITTO_PATHS.ca],
      ["server.crt", "config", MOSQUITTO_PATHS.cert],
      ["server.key", "secret", MOSQUITTO_PATHS.key],
    ]);
    expect(file(t, "mosquitto", "ca.crt").template).toBe("{{ca.cert}}");
    expect(file(t, "mosquitto", "server.crt").template).toBe("{{cert.mosquitto}}");
    expect(file(t, "mosquitto", "server.key").template).toBe("{{key.mosquitto}}");
    expect(file(t, "mosquitto", "mosquitto.conf").template).toContain("8883");
    expect(file(t, "mosquitto", "acl").template).toContain("node-red");
    expect(broker.env).toEqual({});
    // Listed as an MQTT client, the broker still gets no client files or environment.
    const listed = topologyFrom({ ...dev, tls: { mqttClients: ["node-red", "mqtt-exporter", "mosquitto"] } });
    expect(files(listed, "mosquitto")).toEqual(broker);
  });

  it("HAProxy: configuration, start script, and one PEM of its certificate, the CA and its key, as a secret", () => {
    const gw = files(t, "gateway");
    expect(gw.files.map((f) => [f.name, f.kind, f.target])).toEqual([
      ["haproxy.cfg", "config", HAPROXY_CONFIG],
      ["gateway-start.sh", "config", GATEWAY_START],
      ["gateway.pem", "secret", HAPROXY_PEM],
    ]);
    expect(file(t, "gateway", "gateway.pem").template).toBe("{{cert.gateway}}\n{{ca.cert}}\n{{key.gateway}}\n");
    expect(file(t, "gateway", "haproxy.cfg").template).toContain("grafana");
    expect(file(t, "gateway", "gateway-start.sh").template).toContain(HAPROXY_CONFIG);
    expect(gw.env).toEqual({});
  });

  it("Grafana: its admin password as a secret the environment points at, provisioning, and its public URL", () => {
    const g = files(t, "grafana");
    const admin = file(t, "grafana", "admin-password");
    expect(admin).toMatchObject({
      kind: "secret",
      target: "/run/secrets/grafana-admin-password",
      template: "{{password.grafana-admin}}",
    });
    expect(g.files.filter((f) => f.kind === "config").map((f) => [f.name, f.target])).toEqual([
      ["datasources.yaml", "/etc/grafana/provisioning/datasources/iot.yaml"],
      ["dashboards.yaml", "/etc/grafana/provisioning/dashboards/iot.yaml"],
      ["network-dashboard.json", "/etc/grafana/dashboards/network.json"],
    ]);
    expect(file(t, "grafana", "dashboards.yaml").template).toContain("/etc/grafana/dashboards");
    expect(JSON.parse(file(t, "grafana", "network-dashboard.json").template)).toBeInstanceOf(Object);
    expect(g.env).toEqual({
      GF_SECURITY_ADMIN_PASSWORD__FILE: admin.target,
      GF_SERVER_ROOT_URL: "https://grafana.localhost/",
      GF_ANALYTICS_REPORTING_ENABLED: "false",
      GF_USERS_ALLOW_SIGN_UP: "false",
    });
  });

  it("Grafana: its public URL follows its route's subdomain and the domain, or its name without a route", () => {
    const routed = {
      ...t,
      domain: "energy.example.com",
      routes: t.routes.map((r) => (r.service === "grafana" ? { ...r, subdomain: "dash" } : r)),
    };
    expect(files(routed, "grafana").env.GF_SERVER_ROOT_URL).toBe("https://dash.energy.example.com/");
    const unrouted = { ...t, routes: t.routes.filter((r) => r.service !== "grafana") };
    expect(files(unrouted, "grafana").env.GF_SERVER_ROOT_URL).toBe("https://grafana.localhost/");
  });

  it("InfluxDB: set up from its admin password and token, each a secret the environment points at", () => {
    const i = files(t, "influxdb");
    expect(file(t, "influxdb", "admin-password")).toMatchObject({
      kind: "secret",
      target: "/run/secrets/influxdb-admin-password",
      template: "{{password.influxdb-admin}}",
    });
    expect(file(t, "influxdb", "admin-token")).toMatchObject({
      kind: "secret",
      target: INFLUXDB_ADMIN_TOKEN("influxdb"),
      template: "{{password.influxdb-token}}",
    });
    expect(i.env).toEqual({
      DOCKER_INFLUXDB_INIT_MODE: "setup",
      DOCKER_INFLUXDB_INIT_USERNAME: "admin",
      DOCKER_INFLUXDB_INIT_ORG: "iot",
      DOCKER_INFLUXDB_INIT_BUCKET: "telemetry",
      DOCKER_INFLUXDB_INIT_PASSWORD_FILE: "/run/secrets/influxdb-admin-password",
      DOCKER_INFLUXDB_INIT_ADMIN_TOKEN_FILE: INFLUXDB_ADMIN_TOKEN("influxdb"),
    });
  });

  it("InfluxDB: a start script that creates one user per client flow, each password a secret of its own", () => {
    expect(file(t, "influxdb", "influxdb-start.sh")).toMatchObject({ kind: "config", target: INFLUXDB_START });
    const start = file(t, "influxdb", "influxdb-start.sh").template;
    expect(start).toContain("http://127.0.0.1:8086");
    expect(start).toContain(INFLUXDB_ADMIN_TOKEN("influxdb"));
    expect(start).toContain(INFLUXDB_RECONCILED);
    for (const client of ["grafana", "node-red"]) {
      expect(file(t, "influxdb", `user-${client}-password`)).toMatchObject({
        kind: "secret",
        target: influxUserPasswordPath("influxdb", client),
        template: `{{password.influxdb-${client}}}`,
      });
      expect(start).toContain(influxUserPasswordPath("influxdb", client));
    }
    // The API port the script talks to is the service's HTTP port, 8086 when it names none.
    const moved = withPorts(t, "influxdb", { port: 8087 });
    expect(file(moved, "influxdb", "influxdb-start.sh").template).toContain("http://127.0.0.1:8087");
    const unnamed = withPorts(t, "influxdb", { port: 9999, appProtocol: "metrics" });
    expect(file(unnamed, "influxdb", "influxdb-start.sh").template).toContain("http://127.0.0.1:8086");
  });

  it("Redis: a configuration loading its ACL file, and the ACL a secret with a user per client flow", () => {
    const r = files(t, "redis");
    expect(r.files.map((f) => [f.name, f.kind, f.target])).toEqual([
      ["redis.conf", "config", REDIS_CONFIG],
      ["users.acl", "secret", redisAclPath("redis")],
    ]);
    expect(file(t, "redis", "redis.conf").template).toContain(`aclfile ${redisAclPath("redis")}`);
    expect(file(t, "redis", "users.acl").template).toContain("user node-red ");
    expect(file(t, "redis", "users.acl").template).toContain("{{password.redis-node-red}}");
    const cut = withoutFlow(t, "node-red", "redis");
    expect(file(cut, "redis", "users.acl").template).not.toContain("node-red");
    expect(names(files(cut, "node-red").files)).not.toContain("redis-password");
    expect(files(cut, "node-red").env).not.toHaveProperty("REDIS_PASSWORD_FILE");
  });

  it("NATS: its configuration including the users file beside it, a secret with a user per client flow", () => {
    const n = files(t, "nats");
    expect(n.files.map((f) => [f.name, f.kind, f.target])).toEqual([
      ["nats.conf", "config", NATS_CONFIG],
      ["auth.conf", "secret", NATS_AUTH],
    ]);
    expect(file(t, "nats", "nats.conf").template).toContain("include ./auth.conf");
    expect(file(t, "nats", "auth.conf").template).toContain("{{password.nats-node-red}}");
    const cut = withoutFlow(t, "node-red", "nats");
    expect(file(cut, "nats", "auth.conf").template).not.toContain("node-red");
    expect(names(files(cut, "node-red").files)).not.toContain("nats-password");
  });

  it("Prometheus: its scrape configuration and alert rules", () => {
    const p = files(t, "prometheus");
    expect(p.files.map((f) => [f.name, f.kind, f.target])).toEqual([
      ["prometheus.yml", "config", "/etc/prometheus/prometheus.yml"],
      ["alerts.yml", "config", "/etc/prometheus/rules/iot-network.yml"],
    ]);
    expect(file(t, "prometheus", "prometheus.yml").template).toContain("tasks.gateway");
    expect(file(t, "prometheus", "alerts.yml").template).toContain("groups:");
    expect(p.env).toEqual({});
  });

  it("Node-RED: settings on its UI port, the telemetry flow, and its InfluxDB credentials as a secret", () => {
    expect(
      files(t, "node-red")
        .files.slice(0, 3)
        .map((f) => [f.name, f.kind, f.target]),
    ).toEqual([
      ["settings.js", "config", NODE_RED_PATHS.settings],
      ["flows.json", "config", NODE_RED_PATHS.flows],
      ["flows_cred.json", "secret", NODE_RED_PATHS.credentials],
    ]);
    expect(file(t, "node-red", "settings.js").template).toContain("1880");
    expect(file(t, "node-red", "flows_cred.json").template).toContain("{{password.influxdb-node-red}}");
    expect(files(t, "node-red").env.FLOWS).toBe(NODE_RED_PATHS.flows);
    const moved = withPorts(t, "node-red", { port: 1990 });
    expect(file(moved, "node-red", "settings.js").template).toContain("1990");
    const unnamed = withPorts(t, "node-red", { port: 1990, appProtocol: "metrics" });
    expect(file(unnamed, "node-red", "settings.js").template).toContain("1880");
  });

  it("Node-RED: no telemetry flow when its broker flow is not to the TLS port", () => {
    const plain = {
      ...withService(t, "mosquitto", (s) => ({
        ...s,
        ports: [...s.ports, { ...s.ports[0], name: "mqtt", port: 1883, appProtocol: "mqtt" }],
      })),
      flows: t.flows.map((f) => (f.from === "node-red" && f.to === "mosquitto" ? { ...f, port: 1883 } : f)),
    };
    const nr = files(plain, "node-red");
    expect(names(nr.files)).not.toContain("flows.json");
    expect(nr.env).not.toHaveProperty("FLOWS");
    // Still a certified client: its certificate, but no broker to point at.
    expect(names(nr.files)).toContain("mqtt-client.key");
    expect(nr.env).not.toHaveProperty("MQTT_BROKER_URL");
  });

  it("Node-RED: no telemetry flow when its InfluxDB flow carries no identity it can write with", () => {
    const other = withService(t, "influxdb", (s) => ({ ...s, app: "prometheus" }));
    expect(names(files(other, "node-red").files)).not.toContain("flows.json");
  });

  it("the exporter: none of its own, and the client environment its image reads", () => {
    const e = files(t, "mqtt-exporter");
    expect(names(e.files)).toEqual(["ca.crt", "mqtt-client.crt", "mqtt-client.key"]);
    const noFlow = files(withoutFlow(t, "mqtt-exporter", "mosquitto"), "mqtt-exporter");
    expect(noFlow.env).toEqual({
      MQTT_CERT: "/etc/iot/certs/mqtt-client.crt",
      MQTT_KEY: "/run/secrets/mqtt-exporter-mqtt-client.key",
      SSL_CERT_FILE: "/etc/iot/certs/ca.crt",
    });
  });
});

describe("MQTT client files", () => {
  it("give a client with a TLS flow and no certificate the CA and the broker, nothing else", () => {
    const b = files(bridge(["node-red", "mqtt-exporter"], ["meter-bridge -> mosquitto:8883"]), "meter-bridge");
    expect(b.files.map((f) => [f.name, f.kind, f.target, f.template])).toEqual([
      ["ca.crt", "config", "/etc/iot/certs/ca.crt", "{{ca.cert}}"],
    ]);
    expect(b.env).toEqual({ MQTT_BROKER_URL: "mqtts://mosquitto:8883", MQTT_CA_FILE: "/etc/iot/certs/ca.crt" });
  });

  it("give a certified service without a flow its certificate and key, and no broker to reach", () => {
    const b = files(bridge(["node-red", "mqtt-exporter", "meter-bridge"], []), "meter-bridge");
    expect(names(b.files)).toEqual(["ca.crt", "mqtt-client.crt", "mqtt-client.key"]);
    expect(b.env).toEqual({
      MQTT_CA_FILE: "/etc/iot/certs/ca.crt",
      MQTT_CERT_FILE: "/etc/iot/certs/mqtt-client.crt",
      MQTT_KEY_FILE: "/run/secrets/meter-bridge-mqtt-client.key",
    });
  });

  it("give nothing for a flow to the broker on a port that is not its TLS port", () => {
    const t = bridge(["node-red", "mqtt-exporter"], ["meter-bridge -> mosquitto:8883"]);
    const plain = {
      ...withService(t, "mosquitto", (s) => ({
        ...s,
        ports: [...s.ports, { ...s.ports[0], name: "mqtt", port: 1883, appProtocol: "mqtt" }],
      })),
      flows: t.flows.map((f) => (f.from === "meter-bridge" ? { ...f, port: 1883 } : f)),
    };
    expect(files(plain, "meter-bridge")).toEqual({ files: [], env: {} });
  });

  it("give nothing without a broker in the stack, even to a listed client", () => {
    const t = topologyFrom(dev);
    const noBroker = { ...t, services: t.services.filter((s) => s.app !== "mosquitto") };
    for (const client of ["node-red", "mqtt-exporter"]) {
      const given = files(noBroker, client);
      expect([client, names(given.files).filter((n) => n.startsWith("mqtt-client") || n === "ca.crt")]).toEqual([
        client,
        [],
      ]);
      expect(Object.keys(given.env).filter((k) => k.startsWith("MQTT") || k === "SSL_CERT_FILE")).toEqual([]);
    }
  });
});

describe("credentials over declared flows (client half)", () => {
  it("give a client a secret file per password identity, and the environment pointing at it", () => {
    const t = topologyFrom(dev);
    const nr = files(t, "node-red");
    for (const server of ["redis", "nats"]) {
      const f = file(t, "node-red", `${server}-password`);
      expect(f).toMatchObject({ kind: "secret", template: `{{password.${server}-node-red}}` });
      expect(f.target).toMatch(/^\/run\/secrets\//);
      expect(nr.env[`${server.toUpperCase()}_PASSWORD_FILE`]).toBe(f.target);
      expect(nr.env[`${server.toUpperCase()}_USERNAME`]).toBe("node-red");
    }
  });

  it("give no users file to a server that authenticates no one by password", () => {
    const t = topologyFrom(dev);
    for (const s of ["grafana", "prometheus", "gateway", "mosquitto"]) {
      expect([s, names(files(t, s).files).filter((n) => /users|auth\.conf|user-/.test(n))]).toEqual([s, []]);
    }
  });
});

describe("two file sources giving one file or variable", () => {
  /** Runs `check` with one more file source, which gives the broker `extra`. */
  function withSource(extra: ServiceFiles, check: (t: Topology, broker: ServiceSpec) => void): void {
    const t = topologyFrom(dev);
    const sources = FILE_SOURCES as FileSource[];
    sources.push((_t, s) => (s.app === "mosquitto" ? extra : { files: [], env: {} }));
    try {
      check(
        t,
        t.services.find((s) => s.app === "mosquitto")!,
      );
    } finally {
      sources.pop();
    }
  }

  it("is an error naming the service and the file, whether the name or the target repeats", () => {
    withSource({ files: [configFile("acl", "/elsewhere/acl", "x")], env: {} }, (t, broker) =>
      expect(() => serviceFiles(t, broker)).toThrow(
        `two file sources give service "mosquitto" acl (${MOSQUITTO_PATHS.acl})`,
      ),
    );
    withSource({ files: [configFile("other", MOSQUITTO_PATHS.cert, "x")], env: {} }, (t, broker) =>
      expect(() => serviceFiles(t, broker)).toThrow(
        `two file sources give service "mosquitto" server.crt (${MOSQUITTO_PATHS.cert})`,
      ),
    );
    withSource({ files: [configFile("other", "/elsewhere/other", "x")], env: {} }, (t, broker) =>
      expect(names(serviceFiles(t, broker).files)).toContain("other"),
    );
  });

  it("is an error naming the variable and the service when two sources set one variable", () => {
    withSource({ files: [], env: { A: "1", B: "2" } }, (t, broker) => {
      const sources = FILE_SOURCES as FileSource[];
      sources.push((_t, s): ServiceFiles =>
        s.app === "mosquitto" ? { files: [], env: { B: "3" } } : { files: [], env: {} },
      );
      try {
        expect(() => serviceFiles(t, broker)).toThrow(`two file sources set B on service "mosquitto"`);
      } finally {
        sources.pop();
      }
    });
    withSource({ files: [], env: { A: "1" } }, (t, broker) => expect(serviceFiles(t, broker).env).toEqual({ A: "1" }));
  });
});

describe("file targets", () => {
  it("are absolute paths naming a file, secrets directly under /run/secrets or beside the file that includes them", () => {
    for (const t of [topologyFrom(dev), topologyFrom({ environment: "prod" })]) {
      for (const s of t.services) {
        for (const f of serviceFiles(t, s).files) {
          const label = `${s.name}/${f.name}: ${f.target}`;
          expect([label, typeof f.target === "string" && f.target.startsWith("/") && !f.target.endsWith("/")]).toEqual([
            label,
            true,
          ]);
          expect([label, posix.normalize(f.target)]).toEqual([label, f.target]);
        }
      }
    }
    const t = topologyFrom(dev);
    const redis = files(t, "redis").files.find((f) => f.name === "users.acl")!;
    expect(posix.dirname(redis.target)).toBe("/run/secrets");
    // NATS resolves `include ./auth.conf` relative to its main file.
    const nats = files(t, "nats").files;
    const main = nats.find((f) => f.name === "nats.conf")!;
    const auth = nats.find((f) => f.name === "auth.conf")!;
    expect(posix.dirname(auth.target)).toBe(posix.dirname(main.target));
    expect(main.template).toContain(`include ./${posix.basename(auth.target)}`);
  });

  it("put InfluxDB's reconciled mark on a tmpfs of its task, where a restarted task starts without it", () => {
    const t = topologyFrom(dev);
    const influxdb = t.services.find((s) => s.name === "influxdb")!;
    expect(influxdb.tmpfs).toContain(posix.dirname(INFLUXDB_RECONCILED));
    expect(file(t, "influxdb", "influxdb-start.sh").template).toContain(INFLUXDB_RECONCILED);
  });
});

describe("Node-RED's telemetry flow follows its declared flows", () => {
  const flowsJson = (t: Topology) => file(t, "node-red", "flows.json").template;

  it("points at the broker and InfluxDB it has flows to, with the TLS files it holds and its bucket", () => {
    const t = topologyFrom(dev);
    const text = flowsJson(t);
    expect(text).toContain(`"broker": "mosquitto"`);
    expect(text).toContain(`"port": "8883"`);
    expect(text).toContain("/etc/iot/certs/ca.crt");
    expect(text).toContain("/etc/iot/certs/mqtt-client.crt");
    expect(text).toContain("/run/secrets/node-red-mqtt-client.key");
    expect(text).toContain("http://influxdb:8086/write?db=telemetry");
  });

  it("finds InfluxDB and the broker whatever order the flows are declared in", () => {
    const t = topologyFrom(dev);
    const reversed = { ...t, flows: [...t.flows].reverse() };
    expect(flowsJson(reversed)).toContain("http://influxdb:8086/write?");
    expect(flowsJson(reversed)).toContain(`"broker": "mosquitto"`);
  });

  it("writes to the InfluxDB its flow reaches when the stack runs two", () => {
    const t = topologyFrom(dev);
    const first = t.services.find((s) => s.name === "influxdb")!;
    const two: Topology = {
      ...t,
      services: [...t.services, { ...first, name: "tsdb-2", aliases: [] }],
      flows: t.flows.map((f) => (f.from === "node-red" && f.to === "influxdb" ? { ...f, to: "tsdb-2" } : f)),
    };
    expect(flowsJson(two)).toContain("http://tsdb-2:8086/write?");
    expect(file(two, "node-red", "flows_cred.json").template).toContain("{{password.tsdb-2-node-red}}");
  });
});

describe("MQTT client files need a flow to the broker itself", () => {
  it("give nothing for a flow on the broker's TLS port number to another service", () => {
    const t = topologyFrom(dev);
    const other = { ...t, flows: [...t.flows, { from: "grafana", to: "prometheus", port: 8883, purpose: "x" }] };
    expect(names(files(other, "grafana").files)).not.toContain("ca.crt");
    expect(files(other, "grafana").env).not.toHaveProperty("MQTT_CA_FILE");
  });
});

describe("credentials an application keeps in a file of its own", () => {
  it("are in a file the client gets, under the name and at the path the identity plan gives", () => {
    const t = topologyFrom(dev);
    const inApp = planIdentities(t).filter((i) => i.inAppFile);
    expect(inApp.map((i) => i.client)).toEqual(["node-red"]);
    for (const i of inApp) {
      const held = files(t, i.client).files.find((f) => f.name === i.file.name);
      expect(held).toMatchObject({ target: i.file.path, kind: "secret" });
      expect(held!.template).toContain(`{{password.${i.credential}}}`);
    }
  });
});
