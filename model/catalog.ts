/**
 * The reference topology: the seeds' tiers, the stack's services and their declared flows.
 * Stack config overrides and extends it (see config.ts); this file holds the safe defaults.
 */
import { FlowSpec, HealthCheckSpec, RouteSpec, ServiceSpec, TierSpec } from "./types";
import { GATEWAY_START, GATEWAY_START_WAIT_SECONDS } from "./render/gatewayStart";
import { INFLUXDB_RECONCILED, INFLUXDB_RUN_DIR, INFLUXDB_START } from "./wiring/paths";

export const referenceTiers: readonly TierSpec[] = [
  {
    name: "edge",
    network: "iot-edge-network",
    description: "API gateway: TLS termination and routing",
    attachable: false,
  },
  {
    name: "frontend",
    network: "iot-frontend-network",
    description: "Dashboards: Grafana and InfluxDB's admin UI",
    attachable: false,
  },
  {
    name: "backend",
    network: "iot-backend-network",
    description: "Flows and storage: Node-RED and InfluxDB",
    attachable: false,
  },
  { name: "mqtt", network: "iot-mqtt-network", description: "Message broker: Mosquitto", attachable: false },
  { name: "cache", network: "iot-cache-network", description: "Redis cache", attachable: false },
  { name: "messaging", network: "iot-messaging-network", description: "NATS event bus", attachable: false },
  { name: "monitoring", network: "iot-monitoring-network", description: "Prometheus metrics", attachable: false },
];

const httpHealth = (port: number, path: string, tool: "wget" | "curl" = "wget"): HealthCheckSpec => ({
  test:
    tool === "curl"
      ? ["CMD", "curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${port}${path}`]
      : ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${port}${path}`],
  intervalSeconds: 10,
  timeoutSeconds: 5,
  retries: 3,
  startPeriodSeconds: 20,
  httpPath: path,
});

const base = {
  aliases: [],
  endpointMode: "dnsrr",
  singleton: false,
  egress: false,
  readOnlyRootFilesystem: true,
  capDrop: ["ALL"],
  capAdd: [],
  placement: [],
  env: {},
  externalEndpoints: [],
  replicas: 1,
  volumes: [],
  tmpfs: [],
} as const;

export const referenceServices: readonly ServiceSpec[] = [
  {
    ...base,
    name: "gateway",
    app: "haproxy",
    image: "haproxy:2.8.14-alpine",
    tiers: ["edge"],
    role: "gateway",
    ports: [
      {
        name: "https",
        port: 8443,
        protocol: "tcp",
        appProtocol: "https",
        purpose: "HTTPS entry point for dashboards and APIs",
        published: 443,
      },
      { name: "http", port: 8080, protocol: "tcp", appProtocol: "http", purpose: "Redirects to HTTPS", published: 80 },
      {
        name: "metrics",
        port: 8405,
        protocol: "tcp",
        appProtocol: "metrics",
        purpose: "Health (/healthz) and Prometheus metrics (/metrics)",
      },
    ],
    // HAProxy starts, and /healthz answers, once the routed services answer or the start script's wait ran out.
    health: {
      ...httpHealth(8405, "/healthz"),
      portName: "metrics",
      startPeriodSeconds: GATEWAY_START_WAIT_SECONDS + 10,
    },
    command: ["sh", GATEWAY_START],
    aliases: ["gateway-internal"],
    endpointMode: "vip",
    egress: true,
    uid: 99,
    gid: 99,
    resources: { cpus: 0.5, memoryMb: 256, reservedCpus: 0.1, reservedMemoryMb: 64 },
  },
  {
    ...base,
    name: "mosquitto",
    app: "mosquitto",
    image: "eclipse-mosquitto:2.0.20",
    tiers: ["mqtt"],
    role: "broker",
    ports: [
      {
        name: "mqtts",
        port: 8883,
        protocol: "tcp",
        appProtocol: "mqtts",
        purpose: "MQTT over TLS with client certificates",
        published: 8883,
      },
    ],
    // Plaintext 1883 listens on the container's loopback only, for this health check.
    health: {
      test: ["CMD", "mosquitto_sub", "-h", "127.0.0.1", "-p", "1883", "-t", "$SYS/broker/uptime", "-C", "1", "-W", "3"],
      intervalSeconds: 10,
      timeoutSeconds: 5,
      retries: 3,
      startPeriodSeconds: 10,
    },
    aliases: ["mqtt", "broker"],
    endpointMode: "vip",
    singleton: true,
    egress: true,
    uid: 1883,
    gid: 1883,
    volumes: [{ name: "mosquitto-data", target: "/mosquitto/data" }],
    resources: { cpus: 0.5, memoryMb: 128, reservedCpus: 0.1, reservedMemoryMb: 32 },
  },
  {
    ...base,
    name: "influxdb",
    app: "influxdb",
    image: "influxdb:2.7.11",
    tiers: ["frontend", "backend"],
    role: "database",
    ports: [
      {
        name: "http",
        port: 8086,
        protocol: "tcp",
        appProtocol: "http",
        purpose: "InfluxDB API, admin UI and /metrics",
      },
    ],
    // Healthy once InfluxDB answers and its start script reconciled the flows' users (model/render/influxdb.ts).
    health: {
      ...httpHealth(8086, "/health", "curl"),
      test: ["CMD-SHELL", `curl -fsS -o /dev/null http://127.0.0.1:8086/health && test -f ${INFLUXDB_RECONCILED}`],
      portName: "http",
      startPeriodSeconds: 30,
    },
    // The image's entrypoint runs under the start script, which gives each flow its own v1 user.
    command: ["bash", INFLUXDB_START],
    aliases: ["tsdb"],
    singleton: true,
    readOnlyRootFilesystem: false,
    tmpfs: [INFLUXDB_RUN_DIR],
    uid: 1000,
    gid: 1000,
    volumes: [
      { name: "influxdb-data", target: "/var/lib/influxdb2" },
      { name: "influxdb-config", target: "/etc/influxdb2" },
    ],
    resources: { cpus: 1, memoryMb: 1024, reservedCpus: 0.25, reservedMemoryMb: 256 },
  },
  {
    ...base,
    name: "grafana",
    app: "grafana",
    image: "grafana/grafana:11.3.1",
    tiers: ["frontend"],
    role: "dashboard",
    ports: [{ name: "http", port: 3000, protocol: "tcp", appProtocol: "http", purpose: "Grafana UI and API" }],
    health: { ...httpHealth(3000, "/api/health"), portName: "http" },
    aliases: ["dashboards"],
    singleton: true,
    uid: 472,
    gid: 0,
    volumes: [{ name: "grafana-data", target: "/var/lib/grafana" }],
    tmpfs: ["/tmp"],
    resources: { cpus: 0.5, memoryMb: 512, reservedCpus: 0.1, reservedMemoryMb: 128 },
  },
  {
    ...base,
    name: "node-red",
    app: "node-red",
    image: "nodered/node-red:4.0.8",
    tiers: ["backend"],
    role: "flows",
    ports: [
      { name: "http", port: 1880, protocol: "tcp", appProtocol: "http", purpose: "Node-RED editor and HTTP endpoints" },
    ],
    health: { ...httpHealth(1880, "/"), portName: "http", startPeriodSeconds: 30 },
    aliases: ["flows"],
    singleton: true,
    readOnlyRootFilesystem: false,
    uid: 1000,
    gid: 1000,
    volumes: [{ name: "node-red-data", target: "/data" }],
    resources: { cpus: 0.5, memoryMb: 512, reservedCpus: 0.1, reservedMemoryMb: 128 },
  },
  {
    ...base,
    name: "redis",
    app: "redis",
    image: "redis:7.4.1-alpine",
    tiers: ["cache"],
    role: "cache",
    ports: [
      {
        name: "redis",
        port: 6379,
        protocol: "tcp",
        appProtocol: "redis",
        purpose: "Redis with a user per declared flow (ACL file)",
      },
    ],
    // NOAUTH proves the server answers without putting the password on a command line.
    health: {
      test: ["CMD-SHELL", "redis-cli -h 127.0.0.1 ping | grep -qE 'PONG|NOAUTH'"],
      intervalSeconds: 10,
      timeoutSeconds: 5,
      retries: 3,
      startPeriodSeconds: 10,
    },
    aliases: ["cache"],
    singleton: true,
    uid: 999,
    gid: 1000,
    command: ["redis-server", "/usr/local/etc/redis/redis.conf"],
    volumes: [{ name: "redis-data", target: "/data" }],
    resources: { cpus: 0.25, memoryMb: 256, reservedCpus: 0.05, reservedMemoryMb: 64 },
  },
  {
    ...base,
    name: "nats",
    app: "nats",
    image: "nats:2.10.22-alpine",
    tiers: ["messaging"],
    role: "messaging",
    ports: [
      {
        name: "client",
        port: 4222,
        protocol: "tcp",
        appProtocol: "nats",
        purpose: "NATS clients (a user per declared flow)",
      },
      {
        name: "monitor",
        port: 8222,
        protocol: "tcp",
        appProtocol: "metrics",
        purpose: "Monitoring endpoints (/healthz, /varz)",
      },
    ],
    health: { ...httpHealth(8222, "/healthz"), portName: "monitor", startPeriodSeconds: 10 },
    aliases: ["events"],
    // NATS servers without a cluster block do not share subscriptions.
    singleton: true,
    uid: 65534,
    gid: 65534,
    command: ["nats-server", "-c", "/etc/nats/nats.conf"],
    resources: { cpus: 0.25, memoryMb: 128, reservedCpus: 0.05, reservedMemoryMb: 32 },
  },
  {
    ...base,
    name: "prometheus",
    app: "prometheus",
    image: "prom/prometheus:v2.55.1",
    tiers: ["monitoring"],
    role: "monitoring",
    ports: [
      { name: "http", port: 9090, protocol: "tcp", appProtocol: "http", purpose: "Prometheus UI, API and /metrics" },
    ],
    health: { ...httpHealth(9090, "/-/healthy"), portName: "http" },
    aliases: ["metrics"],
    singleton: true,
    uid: 65534,
    gid: 65534,
    command: ["prometheus", "--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
    volumes: [{ name: "prometheus-data", target: "/prometheus" }],
    resources: { cpus: 0.5, memoryMb: 1024, reservedCpus: 0.1, reservedMemoryMb: 256 },
  },
  {
    ...base,
    name: "mqtt-exporter",
    app: "mosquitto-exporter",
    image: "sapcc/mosquitto-exporter:0.8.0",
    tiers: ["monitoring"],
    role: "exporter",
    ports: [
      {
        name: "metrics",
        port: 9234,
        protocol: "tcp",
        appProtocol: "metrics",
        purpose: "Broker metrics from $SYS topics (/metrics)",
      },
    ],
    health: { ...httpHealth(9234, "/metrics"), portName: "metrics", startPeriodSeconds: 10 },
    aliases: [],
    // One subscriber per broker is enough; two would double-count nothing but waste a client slot.
    singleton: true,
    uid: 65534,
    gid: 65534,
    resources: { cpus: 0.1, memoryMb: 64, reservedCpus: 0.02, reservedMemoryMb: 16 },
  },
];

export const referenceFlows: readonly FlowSpec[] = [
  { from: "gateway", to: "grafana", port: 3000, purpose: "Dashboards route" },
  { from: "gateway", to: "node-red", port: 1880, purpose: "Node-RED editor route (admin CIDRs only)" },
  { from: "gateway", to: "influxdb", port: 8086, purpose: "InfluxDB admin UI and API route (admin CIDRs only)" },
  { from: "grafana", to: "influxdb", port: 8086, purpose: "Dashboards query time series" },
  { from: "grafana", to: "prometheus", port: 9090, purpose: "Network dashboard queries metrics" },
  { from: "node-red", to: "influxdb", port: 8086, purpose: "Flows write measurements" },
  { from: "node-red", to: "mosquitto", port: 8883, purpose: "Flows subscribe to device telemetry over mTLS" },
  { from: "node-red", to: "redis", port: 6379, purpose: "Flows cache device state" },
  { from: "node-red", to: "nats", port: 4222, purpose: "Flows publish events" },
  { from: "prometheus", to: "gateway", port: 8405, purpose: "Scrape gateway metrics" },
  { from: "prometheus", to: "influxdb", port: 8086, purpose: "Scrape InfluxDB /metrics" },
  { from: "prometheus", to: "mqtt-exporter", port: 9234, purpose: "Scrape broker metrics" },
  { from: "mqtt-exporter", to: "mosquitto", port: 8883, purpose: "Read $SYS broker statistics over mTLS" },
];

/** Gateway routes by host name; each needs a declared gateway flow to its backend. */
export const referenceRoutes: readonly RouteSpec[] = [
  { subdomain: "grafana", service: "grafana", port: 3000, admin: false, purpose: "Dashboards" },
  { subdomain: "node-red", service: "node-red", port: 1880, admin: true, purpose: "Node-RED editor" },
  { subdomain: "influxdb", service: "influxdb", port: 8086, admin: true, purpose: "InfluxDB admin UI and API" },
];
