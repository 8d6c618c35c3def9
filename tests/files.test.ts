/**
 * File wiring derives from the model: what a service runs, whether it is an MQTT client, which flows it
 * declares. Configs the schema accepts wire every file they need and nothing that refers to a certificate
 * or password the stack does not create; renaming services changes nothing but the names.
 */
import { FileSpec, passwordIds, serviceFiles } from "../model/files";
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
  const before = topologyFrom(dev);
  const after = renamed(before, map);

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
