/**
 * The configuration files rendered from the model (model/render/), as the applications read them. Each file of the
 * dev stack is compared whole with its reviewed copy in tests/fixtures/render/ (a change to a renderer shows as a
 * diff there: `UPDATE_RENDER_FIXTURES=1 npx jest tests/renderedConfigs.test.ts` rewrites them), and the lines that
 * follow the model are checked against changed models: ports, routes, flows, identities, fallbacks.
 */
import * as fs from "fs";
import * as path from "path";
import { serviceFiles } from "../model/files";
import { Identity, planIdentities } from "../model/identity";
import { alertRules, CERT_EXPIRY_WARNING_DAYS, renderAlertRules } from "../model/render/alerts";
import { GATEWAY_START_WAIT_SECONDS, renderGatewayStart } from "../model/render/gatewayStart";
import {
  networkDashboardPanels,
  renderDashboardProvider,
  renderGrafanaDatasources,
  renderNetworkDashboard,
} from "../model/render/grafana";
import { GatewayBackend, gatewayBackends, renderHaproxyConfig } from "../model/render/haproxy";
import { influxActions, InfluxUser, renderInfluxStart } from "../model/render/influxdb";
import { renderMosquittoAcl, renderMosquittoConfig } from "../model/render/mosquitto";
import { NATS_CLOSED_USER, renderNatsAuth, renderNatsConfig } from "../model/render/nats";
import {
  LINE_PROTOCOL_FUNCTION,
  renderNodeRedCredentials,
  renderNodeRedFlows,
  renderNodeRedSettings,
  TelemetryFlowInput,
  writeUrl,
} from "../model/render/nodeRed";
import { renderPrometheusConfig } from "../model/render/prometheus";
import { renderRedisAcl, renderRedisConfig } from "../model/render/redis";
import { ServiceSpec, Topology } from "../model/types";
import { topologyFrom } from "./helpers";

/** Named .txt where the file is code (settings.js): tools that rewrite sources (StrykerJS' sandbox) leave them as they are. */
const FIXTURES = path.join(__dirname, "fixtures", "render");

/** `text` is the reviewed file `name`; with UPDATE_RENDER_FIXTURES set, it becomes it. */
function expectFixture(name: string, text: string): void {
  const file = path.join(FIXTURES, name);
  if (process.env.UPDATE_RENDER_FIXTURES) fs.writeFileSync(file, text);
  expect(text).toBe(fs.readFileSync(file, "utf8"));
}

const dev = () => topologyFrom({ environment: "dev" });
const service = (t: Topology, name: string) => t.services.find((s) => s.name === name)!;
const lines = (text: string) => text.split("\n");
/** The lines of `text` starting with `prefix`. */
const starting = (text: string, prefix: string) => lines(text).filter((l) => l.startsWith(prefix));
/** `s` with every port moved by `by`, published ports too. */
const moved = (s: ServiceSpec, by: number): ServiceSpec => ({
  ...s,
  ports: s.ports.map((p) => ({ ...p, port: p.port + by, ...(p.published ? { published: p.published + by } : {}) })),
});
const identitiesOf = (t: Topology, server: string) => planIdentities(t).filter((i) => i.server === server);
/** `t` without the service of application `app` (a renderer's default argument looks it up). */
const without = (t: Topology, app: string): Topology => ({ ...t, services: t.services.filter((s) => s.app !== app) });

describe("the HAProxy gateway configuration", () => {
  it("is the reviewed file for the dev stack", () => {
    expectFixture("haproxy.cfg", renderHaproxyConfig(dev()));
  });

  it("binds the gateway's own ports, and HAProxy's defaults without a gateway service", () => {
    const t = dev();
    const binds = (text: string) => starting(text, "  bind :");
    expect(binds(renderHaproxyConfig(t, moved(service(t, "gateway"), 1)))).toEqual([
      "  bind :8406",
      "  bind :8081",
      "  bind :8444 ssl crt /run/secrets/gateway.pem alpn h2,http/1.1",
    ]);
    const none = renderHaproxyConfig(without(t, "haproxy"));
    expect(binds(none)).toEqual([
      "  bind :8405",
      "  bind :8080",
      "  bind :8443 ssl crt /run/secrets/gateway.pem alpn h2,http/1.1",
    ]);
    expect(none).toContain("\n  http-request redirect scheme https code 301\n");
    const portless = renderHaproxyConfig(t, { ...service(t, "gateway"), ports: [] });
    expect(binds(portless)).toEqual(binds(none));
    expect(starting(portless, "  http-request redirect")).toEqual(["  http-request redirect scheme https code 301"]);
  });

  it("redirects to the published HTTPS port unless it is 443 or unpublished", () => {
    const t = dev();
    const gw = service(t, "gateway");
    const publishing = (published: number | undefined): ServiceSpec => ({
      ...gw,
      ports: gw.ports.map((p) => (p.name === "https" ? { ...p, published } : p)),
    });
    const redirect = (s: ServiceSpec) => starting(renderHaproxyConfig(t, s), "  http-request redirect");
    expect(redirect(publishing(443))).toEqual(["  http-request redirect scheme https code 301"]);
    // The HTTPS port's, wherever it is in the list.
    const https = gw.ports.find((p) => p.name === "https")!;
    const httpFirst = { ...gw, ports: [...gw.ports.filter((p) => p !== https), https] };
    expect(httpFirst.ports[0]).toMatchObject({ name: "http", published: 80 });
    expect(redirect(httpFirst)).toEqual(["  http-request redirect scheme https code 301"]);
    expect(redirect(publishing(undefined))).toEqual(["  http-request redirect scheme https code 301"]);
    expect(redirect(publishing(9443))).toEqual([
      "  http-request redirect location https://%[req.hdr(host),field(1,:)]:9443%[capture.req.uri] code 301",
    ]);
  });

  it("follows the routes: host ACLs, admin denials, backends in route order, one backend per service port", () => {
    const t = dev();
    const grafana = t.routes.find((r) => r.service === "grafana")!;
    const routed: Topology = {
      ...t,
      domain: "iot.example.org",
      adminCidrs: ["10.1.0.0/16", "192.0.2.7/32"],
      routes: [
        { ...grafana, subdomain: "dash-board-1", admin: true },
        ...t.routes.filter((r) => r.service !== "influxdb").map((r) => ({ ...r, admin: !r.admin })),
      ],
    };
    const cfg = renderHaproxyConfig(routed);
    expect(starting(cfg, "  acl ")).toEqual([
      "  acl admin_src src 10.1.0.0/16 192.0.2.7/32",
      "  acl host_dash_board_1 hdr(host),field(1,:) -i dash-board-1.iot.example.org",
      "  acl host_grafana hdr(host),field(1,:) -i grafana.iot.example.org",
      "  acl host_node_red hdr(host),field(1,:) -i node-red.iot.example.org",
    ]);
    expect(starting(cfg, "  http-request deny deny_status 403")).toEqual([
      "  http-request deny deny_status 403 if host_dash_board_1 !admin_src",
      "  http-request deny deny_status 403 if host_grafana !admin_src",
    ]);
    expect(starting(cfg, "  use_backend ")).toEqual([
      "  use_backend grafana_3000 if host_dash_board_1",
      "  use_backend grafana_3000 if host_grafana",
      "  use_backend node_red_1880 if host_node_red",
    ]);
    expect(starting(cfg, "backend ")).toEqual(["backend grafana_3000", "backend node_red_1880", "backend not_found"]);
    expect(gatewayBackends(routed)).toEqual([
      { name: "grafana_3000", service: "grafana", port: 3000, healthPath: "/api/health" },
      { name: "node_red_1880", service: "node-red", port: 1880, healthPath: "/" },
    ]);
  });

  it("names a backend after its service and port, checks a service without an HTTP health path on /", () => {
    const t = dev();
    const cut: Topology = {
      ...t,
      routes: [{ ...t.routes[0], subdomain: "x", service: "my-ws-svc", port: 7000 }],
      services: [...t.services, { ...service(t, "grafana"), name: "my-ws-svc", health: { test: ["CMD", "true"] } }],
    } as Topology;
    expect(gatewayBackends(cut)).toEqual([
      { name: "my_ws_svc_7000", service: "my-ws-svc", port: 7000, healthPath: "/" },
    ]);
    const cfg = renderHaproxyConfig(cut);
    expect(cfg).toContain(
      [
        "backend my_ws_svc_7000",
        "  balance roundrobin",
        "  option httpchk GET /",
        "  http-check expect status 200",
        "  server-template my_ws_svc 10 tasks.my-ws-svc:7000 check resolvers docker init-addr none resolve-prefer ipv4",
        "",
        "backend not_found",
      ].join("\n"),
    );
    const unknown: Topology = { ...cut, services: t.services };
    expect(gatewayBackends(unknown)[0].healthPath).toBe("/");
  });
});

describe("the gateway's start script", () => {
  const backends = (): GatewayBackend[] => [
    { name: "grafana_3000", service: "grafana", port: 3000, healthPath: "/api/health" },
    { name: "grafana_3001", service: "grafana", port: 3001, healthPath: "/it's" },
    { name: "node_red_1880", service: "node-red", port: 1880, healthPath: "/" },
  ];

  it("is the reviewed script: probes at tasks.<service> by default, waits the default time", () => {
    expectFixture("gateway-start.sh", renderGatewayStart({ backends: backends(), config: "/etc/haproxy's.cfg" }));
    expect(GATEWAY_START_WAIT_SECONDS).toBe(60);
  });

  it("probes the host it is given, waits the time it is given, and names each service once", () => {
    const script = renderGatewayStart({
      backends: backends(),
      config: "/cfg",
      waitSeconds: 7,
      hostOf: (b) => `${b.service}.local`,
    });
    expect(starting(script, "  probe ")).toEqual([
      `  probe 'grafana_3000' 'http://grafana.local:3000/api/health' || missing="$missing grafana"`,
      `  probe 'grafana_3001' 'http://grafana.local:3001/it'\\''s' || missing="$missing grafana"`,
      `  probe 'node_red_1880' 'http://node-red.local:1880/' || missing="$missing node-red"`,
    ]);
    expect(starting(script, "deadline=")).toEqual(["deadline=$((start + 7))"]);
    expect(script).toContain(
      '    log "grafana, node-red answered after $(($(date +%s) - start)) s; starting HAProxy"\n',
    );
    expect(script).toContain('    log "no answer from$missing within 7 s; starting HAProxy without them"\n');
  });

  it("says there is nothing to wait for without routes", () => {
    const script = renderGatewayStart({ backends: [], config: "/cfg" });
    expect(starting(script, "  probe ")).toEqual([]);
    expect(script).toContain('    log "no routes to wait for after $(($(date +%s) - start)) s; starting HAProxy"\n');
    expect(starting(script, "deadline=")).toEqual(["deadline=$((start + 60))"]);
  });
});

describe("the Mosquitto configuration and ACL", () => {
  it("are the reviewed files for the dev stack", () => {
    const t = dev();
    expectFixture("mosquitto.conf", renderMosquittoConfig(t));
    expectFixture("mosquitto.acl", renderMosquittoAcl(t));
  });

  it("asks no client certificate when the model requires none", () => {
    const t = dev();
    const text = renderMosquittoConfig({ ...t, mqtt: { ...t.mqtt, requireClientCertificate: false } });
    expect(starting(text, "require_certificate ")).toEqual(["require_certificate false"]);
    expect(starting(text, "use_identity_as_username ")).toEqual(["use_identity_as_username false"]);
  });

  it("groups the ACL's entries by user, in the order users first appear", () => {
    const t = dev();
    const acl = renderMosquittoAcl({
      ...t,
      mqtt: {
        ...t.mqtt,
        acl: [
          { user: "b", access: "read", topic: "x/#" },
          { user: "a", access: "write", topic: "y/+" },
          { user: "b", access: "readwrite", topic: "z" },
        ],
      },
    } as Topology);
    expect(lines(acl).slice(3)).toEqual([
      "user b",
      "topic read x/#",
      "topic readwrite z",
      "",
      "user a",
      "topic write y/+",
      "",
    ]);
  });
});

describe("the Prometheus scrape configuration and alert rules", () => {
  it("are the reviewed files for the dev stack", () => {
    const t = dev();
    expectFixture("prometheus.yml", renderPrometheusConfig(t));
    expectFixture("alerts.yml", renderAlertRules(t));
  });

  it("scrapes a job per flow from the Prometheus service, and only itself without one", () => {
    const t = dev();
    const jobs = (text: string) => starting(text, "  - job_name: ");
    const renamed: Topology = {
      ...t,
      flows: [...t.flows, { from: "grafana", to: "gateway", port: 8405 } as Topology["flows"][number]],
    };
    expect(jobs(renderPrometheusConfig(renamed))).toEqual([
      "  - job_name: prometheus",
      "  - job_name: gateway",
      "  - job_name: influxdb",
      "  - job_name: mqtt-exporter",
    ]);
    expect(renderPrometheusConfig(without(t, "prometheus"))).toBe(
      lines(renderPrometheusConfig(t)).slice(0, 10).join("\n") + "\n",
    );
  });

  it("warns of each planned certificate's expiry", () => {
    const rules = alertRules(dev()).filter((r) => r.alert === "CertificateExpiringSoon");
    expect(CERT_EXPIRY_WARNING_DAYS).toBe(21);
    expect(rules.map((r) => r.labels)).toEqual([
      { certificate: "mosquitto" },
      { certificate: "gateway" },
      { certificate: "mqtt-client-node-red" },
      { certificate: "mqtt-client-mqtt-exporter" },
    ]);
  });
});

describe("the Grafana provisioning", () => {
  it("is the reviewed set of files for the dev stack", () => {
    expectFixture("grafana-datasources.yml", renderGrafanaDatasources(dev()));
    expectFixture("grafana-dashboards.yml", renderDashboardProvider());
    expectFixture("network-dashboard.json", renderNetworkDashboard());
  });

  it("lays the dashboard's panels out two to a row", () => {
    const panels = (JSON.parse(renderNetworkDashboard()) as { panels: { gridPos: object; title: string }[] }).panels;
    expect(panels.map((p) => p.title)).toEqual(networkDashboardPanels.map((p) => p.title));
    expect(panels.slice(0, 3).map((p) => p.gridPos)).toEqual([
      { h: 8, w: 12, x: 0, y: 0 },
      { h: 8, w: 12, x: 12, y: 0 },
      { h: 8, w: 12, x: 0, y: 8 },
    ]);
  });

  it("has a data source for each flow from Grafana, at the flow's port", () => {
    const t = dev();
    const names = (x: Topology) => starting(renderGrafanaDatasources(x), "  - name: ");
    const dropFlow = (to: string): Topology => ({
      ...t,
      flows: t.flows.filter((f) => !(f.from === "grafana" && f.to === to)),
    });
    expect(names(dropFlow("prometheus"))).toEqual(["  - name: InfluxDB"]);
    // Another client's flow to Prometheus is not Grafana's.
    const others = dropFlow("prometheus");
    const fromNodeRed = { ...t.flows.find((f) => f.to === "prometheus")!, from: "node-red" };
    expect(names({ ...others, flows: [fromNodeRed, ...others.flows] })).toEqual(["  - name: InfluxDB"]);
    expect(names(dropFlow("influxdb"))).toEqual(["  - name: Prometheus"]);
    expect(renderGrafanaDatasources(without(t, "grafana"))).toBe(
      "# Generated by iot-swarm-net from the topology model.\napiVersion: 1\ndatasources:\n",
    );
    // A flow to the server's port, not the flow of another client to it.
    const ported: Topology = {
      ...t,
      services: t.services.map((s) => (s.app === "influxdb" || s.app === "prometheus" ? moved(s, 1) : s)),
      flows: t.flows.map((f) => (f.to === "influxdb" || f.to === "prometheus" ? { ...f, port: f.port + 1 } : f)),
    };
    expect(starting(renderGrafanaDatasources(ported), "    url: ")).toEqual([
      "    url: http://prometheus:9091",
      "    url: http://influxdb:8087",
    ]);
    // Without the server running there is no data source for it.
    expect(starting(renderGrafanaDatasources(without(t, "influxdb")), "  - name: ")).toEqual(["  - name: Prometheus"]);
  });

  it("logs in to InfluxDB as Grafana's own identity, with its bucket", () => {
    const t = topologyFrom({
      environment: "dev",
      flows: [{ flow: "grafana -> influxdb:8086", permissions: { bucket: "metrics" } }],
    });
    const text = renderGrafanaDatasources(t);
    const grafana = planIdentities(t).find((i) => i.client === "grafana" && i.server === "influxdb")!;
    expect(starting(text, "    user: ")).toEqual([`    user: ${grafana.username}`]);
    expect(starting(text, "    database: ")).toEqual(["    database: metrics"]);
    expect(starting(text, "      dbName: ")).toEqual(["      dbName: metrics"]);
    expect(starting(text, "      password: ")).toEqual([`      password: $__file{${grafana.file.path}}`]);
  });

  it("picks Grafana's InfluxDB identity among others planned before it", () => {
    const t = topologyFrom({ environment: "dev", flows: [{ flow: "grafana -> redis:6379" }] });
    const first = (f: Topology["flows"][number]) =>
      (f.from === "grafana" && f.to === "redis") || (f.from === "node-red" && f.to === "influxdb");
    const reordered: Topology = { ...t, flows: [...t.flows.filter(first), ...t.flows.filter((f) => !first(f))] };
    expect(
      planIdentities(reordered)
        .slice(0, 3)
        .map((i) => `${i.client} -> ${i.server}`),
    ).toEqual(["node-red -> influxdb", "grafana -> redis", "grafana -> influxdb"]);
    const text = renderGrafanaDatasources(reordered);
    expect(starting(text, "    user: ")).toEqual(["    user: grafana"]);
    expect(starting(text, "      password: ")).toEqual([
      "      password: $__file{/run/secrets/grafana-influxdb-password}",
    ]);
    // Without Grafana's flow to InfluxDB, none of the identities planned is its InfluxDB login.
    const noInflux: Topology = {
      ...reordered,
      flows: reordered.flows.filter((f) => !(f.from === "grafana" && f.to === "influxdb")),
    };
    expect(starting(renderGrafanaDatasources(noInflux), "  - name: ")).toEqual(["  - name: Prometheus"]);
  });

  it("logs in to the InfluxDB it names, not to a second InfluxDB service Grafana reaches too", () => {
    const t = dev();
    const influx = service(t, "influxdb");
    const toInflux = t.flows.find((f) => f.from === "grafana" && f.to === "influxdb")!;
    const two: Topology = {
      ...t,
      services: [...t.services, { ...influx, name: "influx-archive" }],
      flows: [{ ...toInflux, to: "influx-archive" }, ...t.flows],
    };
    expect(
      planIdentities(two)
        .filter((i) => i.client === "grafana")
        .map((i) => i.server),
    ).toEqual(["influx-archive", "influxdb"]);
    const text = renderGrafanaDatasources(two);
    expect(starting(text, "    url: ")).toEqual(["    url: http://prometheus:9090", "    url: http://influxdb:8086"]);
    expect(starting(text, "      password: ")).toEqual([
      "      password: $__file{/run/secrets/grafana-influxdb-password}",
    ]);
  });

  it("has no InfluxDB data source for a flow to a port where InfluxDB takes no password: no user to log in as", () => {
    const t = dev();
    const elsewhere: Topology = {
      ...t,
      flows: t.flows.map((f) => (f.from === "grafana" && f.to === "influxdb" ? { ...f, port: 8088 } : f)),
    };
    expect(planIdentities(elsewhere).filter((i) => i.client === "grafana")).toEqual([]);
    expect(starting(renderGrafanaDatasources(elsewhere), "  - name: ")).toEqual(["  - name: Prometheus"]);
  });
});

describe("where the files land", () => {
  const fileOf = (t: Topology, s: ServiceSpec, name: string) => serviceFiles(t, s).files.find((f) => f.name === name)!;

  it("Redis reads its configuration where its command names it", () => {
    const t = dev();
    const redis = service(t, "redis");
    expect(redis.command).toEqual(["redis-server", fileOf(t, redis, "redis.conf").target]);
  });

  it("the gateway runs its start script from an absolute path, which starts HAProxy with the image's configuration file", () => {
    const t = dev();
    const gw = service(t, "gateway");
    const start = fileOf(t, gw, "gateway-start.sh");
    expect(gw.command).toEqual(["sh", start.target]);
    expect(start.target).toMatch(/^\/.+\.sh$/);
    expect(fileOf(t, gw, "haproxy.cfg").target).toBe("/usr/local/etc/haproxy/haproxy.cfg");
    expect(starting(start.template, "run() ")).toEqual([
      "run() { exec haproxy -W -db -f '/usr/local/etc/haproxy/haproxy.cfg'; }",
    ]);
  });
});

describe("the Redis and NATS configuration and users", () => {
  it("are the reviewed files for the dev stack", () => {
    const t = dev();
    expectFixture("redis.conf", renderRedisConfig(service(t, "redis")));
    expectFixture("redis-users.acl", renderRedisAcl(identitiesOf(t, "redis")));
    expectFixture("nats.conf", renderNatsConfig(service(t, "nats")));
    expectFixture("nats-auth.conf", renderNatsAuth("nats", identitiesOf(t, "nats")));
  });

  it("listen on the service's ports, and the applications' defaults without them", () => {
    const t = dev();
    const redis = service(t, "redis");
    expect(starting(renderRedisConfig(moved(redis, 2)), "port ")).toEqual(["port 6381"]);
    const exporter = {
      ...redis.ports[0],
      name: "metrics",
      port: 9121,
      appProtocol: "http",
    } as ServiceSpec["ports"][number];
    expect(starting(renderRedisConfig({ ...redis, ports: [exporter, ...redis.ports] }), "port ")).toEqual([
      "port 6379",
    ]);
    expect(starting(renderRedisConfig({ ...redis, name: "cache", ports: [] }), "")).toEqual([
      "bind 0.0.0.0",
      "protected-mode yes",
      "port 6379",
      "dir /data",
      "appendonly yes",
      "aclfile /run/secrets/cache-users.acl",
      "",
    ]);
    const nats = service(t, "nats");
    const natsPorts = (s: ServiceSpec) => [
      ...starting(renderNatsConfig(s), "port: "),
      ...starting(renderNatsConfig(s), "http_port: "),
    ];
    expect(natsPorts(moved(nats, 3))).toEqual(["port: 4225", "http_port: 8225"]);
    expect(natsPorts({ ...nats, ports: [] })).toEqual(["port: 4222", "http_port: 8222"]);
  });

  const identity = (username: string, extra: Partial<Identity>): Identity =>
    ({ username, credential: `cred-${username}`, ...extra }) as Identity;

  it("give Redis a user per Redis identity, with its keys and commands", () => {
    const acl = renderRedisAcl([
      identity("b-app", { redis: { keys: ["b:*", "shared:*"], commands: ["+get", "-@dangerous"] } }),
      identity("nats-only", { nats: { publish: ["x"], subscribe: [] } }),
      identity("a-app", { redis: { keys: [], commands: ["+@read"] } }),
    ]);
    expect(lines(acl)).toEqual([
      "user default off",
      "user b-app reset on >{{password.cred-b-app}} ~b:* ~shared:* resetchannels +get -@dangerous",
      "user a-app reset on >{{password.cred-a-app}} resetchannels +@read",
      "",
    ]);
    expect(renderRedisAcl([])).toBe("user default off\n");
  });

  it("give NATS a user per NATS identity, an empty list denying all; without any, a closed user", () => {
    const auth = renderNatsAuth("bus", [
      identity("pub", { nats: { publish: ["a.>", "b"], subscribe: [] } }),
      identity("redis-only", { redis: { keys: [], commands: [] } }),
      identity("sub", { nats: { publish: [], subscribe: ["_INBOX.>"] } }),
    ]);
    expect(lines(auth)).toEqual([
      "authorization {",
      "  users: [",
      '    { user: "pub", password: "{{password.cred-pub}}", permissions: { publish: { allow: ["a.>","b"] }, subscribe: { deny: [">"] } } },',
      '    { user: "sub", password: "{{password.cred-sub}}", permissions: { publish: { deny: [">"] }, subscribe: { allow: ["_INBOX.>"] } } }',
      "  ]",
      "}",
      "",
    ]);
    expect(NATS_CLOSED_USER).toBe("closed");
    expect(lines(renderNatsAuth("bus", [identity("redis-only", { redis: { keys: [], commands: [] } })]))[2]).toBe(
      '    { user: "closed", password: "{{password.bus-closed}}", permissions: { publish: { deny: [">"] }, subscribe: { deny: [">"] } } }',
    );
  });
});

describe("InfluxDB's start script", () => {
  const bucketLines = (script: string) => lines(script).filter((l) => /^bucket_\w+=/.test(l));
  const users = (): InfluxUser[] => [
    { username: "zed", scope: { bucket: "tele-metry.v2", access: "read-write" }, passwordFile: "/run/secrets/zed" },
    { username: "amy", scope: { bucket: "logs", access: "read" }, passwordFile: "/run/secrets/amy's" },
    { username: "max", scope: { bucket: "tele-metry.v2", access: "write" }, passwordFile: "/run/secrets/max" },
  ];
  const input = { port: 9999, org: "my org", adminTokenFile: "/run/secrets/admin", marker: "/run/iot/done" };

  it("is the reviewed script for the dev stack's users", () => {
    const t = dev();
    const influx = identitiesOf(t, "influxdb");
    expectFixture(
      "influxdb-start.sh",
      renderInfluxStart({
        port: 8086,
        org: "iot",
        adminTokenFile: "/run/secrets/influxdb-admin-token",
        marker: "/run/iot/influxdb-reconciled",
        users: influx.map((i) => ({
          username: i.username,
          scope: i.influxdb!,
          passwordFile: `/run/secrets/influxdb-user-${i.client}-password`,
        })),
      }),
    );
  });

  it("sets up each bucket once, in name order, and each user in name order with its actions", () => {
    const script = renderInfluxStart({ ...input, users: users() });
    expect(starting(script, "API=")).toEqual(["API=http://127.0.0.1:9999"]);
    expect(starting(script, "ORG=")).toEqual(["ORG='my org'"]);
    expect(bucketLines(script)).toEqual([
      "bucket_logs=$(bucket_id 'logs') || exit 1",
      "bucket_tele_metry_v2=$(bucket_id 'tele-metry.v2') || exit 1",
    ]);
    const bucket = (action: string, v: string) =>
      `{\\"action\\":\\"${action}\\",\\"resource\\":{\\"type\\":\\"buckets\\",\\"id\\":\\"${v}\\",\\"orgID\\":\\"$org_id\\"}}`;
    expect(starting(script, "user '")).toEqual([
      `user 'amy' "[${bucket("read", "$bucket_logs")}]" "$PREFIX: read:logs=$bucket_logs" '/run/secrets/amy'\\''s'`,
      `user 'max' "[${bucket("write", "$bucket_tele_metry_v2")}]" "$PREFIX: write:tele-metry.v2=$bucket_tele_metry_v2" '/run/secrets/max'`,
      `user 'zed' "[${bucket("read", "$bucket_tele_metry_v2")},${bucket("write", "$bucket_tele_metry_v2")}]" ` +
        `"$PREFIX: read:tele-metry.v2=$bucket_tele_metry_v2,write:tele-metry.v2=$bucket_tele_metry_v2" '/run/secrets/zed'`,
    ]);
    expect(starting(script, "wanted=")).toEqual(["wanted='amy max zed'"]);
    expect(script).toContain(
      'log "3 flow user(s) reconciled: amy (read logs), max (write tele-metry.v2), zed (read-write tele-metry.v2)"\n',
    );
    expect(influxActions({ bucket: "b", access: "read-write" })).toEqual(["read", "write"]);
    expect(influxActions({ bucket: "b", access: "write" })).toEqual(["write"]);
  });

  it("without users, reconciles none and deletes the ones it made", () => {
    const script = renderInfluxStart({ ...input, users: [] });
    expect(bucketLines(script)).toEqual([]);
    expect(starting(script, "user '")).toEqual([]);
    expect(starting(script, "wanted=")).toEqual(["wanted=''"]);
    expect(script).toContain('log "0 flow user(s) reconciled: none"\n');
    // The user function's closing brace and one blank line, then the clean-up of users whose flow is gone.
    expect(script).toContain(
      '  fail "setting the password of user $name failed"\n}\n\n\n# Users this script made earlier',
    );
    const one = renderInfluxStart({ ...input, users: users().slice(1, 2) });
    expect(one).toContain("}\n\nbucket_logs=$(bucket_id 'logs') || exit 1\n\nuser 'amy'");
  });
});

describe("Node-RED's provisioned files", () => {
  const input = (): TelemetryFlowInput => ({
    broker: { host: "broker.lan", port: 18883 },
    tls: { ca: "/certs/ca.crt", cert: "/certs/c.crt", key: "/keys/c.key" },
    influxdb: { host: "tsdb", port: 18086, bucket: "tele metry&x" },
  });

  it("are the reviewed files", () => {
    expectFixture("node-red-flows.json", renderNodeRedFlows(input()));
    expectFixture("node-red-settings.js.txt", renderNodeRedSettings(1881));
    expectFixture("node-red-flows_cred.json", renderNodeRedCredentials("nr", "{{password.x}}"));
  });

  it("write to the bucket, URL-encoded, and leave the client certificate out when there is none", () => {
    expect(writeUrl(input().influxdb)).toBe("http://tsdb:18086/write?db=tele%20metry%26x&rp=autogen&precision=ms");
    const tls = (JSON.parse(renderNodeRedFlows({ ...input(), tls: { ca: "/ca" } })) as Record<string, unknown>[]).find(
      (n) => n.type === "tls-config",
    );
    expect(tls).toMatchObject({ ca: "/ca", cert: "", key: "" });
  });

  it("turns a reading into line protocol, escaping tags, and skips what is no reading", () => {
    const run = (msg: Record<string, unknown>) => {
      const warnings: string[] = [];
      const out = new Function("msg", "node", LINE_PROTOCOL_FUNCTION)(msg, { warn: (w: string) => warnings.push(w) });
      return { out: out as { line?: string } | null, warnings };
    };
    const ok = run({ topic: "devices/a,b=c\\d/telemetry", payload: { id: "r 1", ts: 1.6, "t=x": 2, n: NaN, s: "x" } });
    expect(ok.out!.line).toBe("telemetry,device=a\\,b\\=c\\\\d,reading=r\\ 1 t\\=x=2 2");
    expect(run({ topic: "devices/d/telemetry", payload: { id: "r", ts: 1 } }).warnings).toEqual([
      "reading r has no numeric field",
    ]);
    for (const [topic, payload] of [
      ["devices", { id: "r", ts: 1, v: 1 }],
      [undefined, { id: "r", ts: 1, v: 1 }],
      ["devices/d/telemetry", null],
      ["devices/d/telemetry", { id: 5, ts: 1, v: 1 }],
      ["devices/d/telemetry", { id: "", ts: 1, v: 1 }],
      ["devices/d/telemetry", { id: "r", ts: Infinity, v: 1 }],
    ] as const) {
      const r = run({ topic, payload });
      expect([topic, payload, r.out, r.warnings]).toEqual([
        topic,
        payload,
        null,
        [`not a reading: ${JSON.stringify(payload).slice(0, 200)}`],
      ]);
    }
    const long = { x: "y".repeat(300) };
    expect(run({ topic: "devices/d/telemetry", payload: long }).warnings[0]).toHaveLength(
      "not a reading: ".length + 200,
    );
  });
});
