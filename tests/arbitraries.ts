/**
 * fast-check arbitraries of whole stack configs, as Pulumi hands them to the program (namespaced
 * `iot-swarm-net:*` keys, JSON strings for objects): random valid stacks grown from the dev or prod stack
 * file, and invalid ones made from a valid stack by breaking exactly one thing.
 */
import fc from "fast-check";
import { referenceRoutes, referenceServices, referenceTiers } from "../model/catalog";
import { CONFIG_NAMESPACE } from "../model/config";
import { PortSpec } from "../model/types";
import { readStackConfig } from "../tools/stackFile";
import { topologyFrom } from "./helpers";
import { planWithSuggestedPins } from "./subnetPins";

export type Environment = "dev" | "prod";

export interface ValidCase {
  readonly environment: Environment;
  /** Namespaced keys, string values: what `evaluateProgram` takes. */
  readonly config: Record<string, string>;
}

const key = (name: string) => `${CONFIG_NAMESPACE}:${name}`;

/** Names the generated tiers and services must not take: the reference catalog's. */
const reserved = new Set<string>([...referenceServices.map((s) => s.name), ...referenceTiers.map((t) => t.name)]);

/** Names that differ only around hyphens: joined with a hyphen, two pairs of them once gave one network name. */
const HYPHENATED = ["a", "b", "c", "d", "a-b", "b-c", "c-d", "a-b-c", "b-c-d"];

/**
 * A service name: a lower-case DNS label without a trailing hyphen, at most 41 characters (the longest the
 * program accepts, so link network names between two such services overflow Docker's 63 and get hashed).
 */
export const serviceName = fc
  .oneof(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/),
    fc.stringMatching(/^[a-z][a-z0-9-]{20,39}[a-z0-9]$/),
    fc.constantFrom(...HYPHENATED, "link", "link-a", "x-egress", "a-1", "net"),
  )
  .filter((n) => !reserved.has(n));
export const tierName = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/).filter((n) => !reserved.has(n));

/** Image references Docker accepts, pinned by tag or digest, with and without a registry port. */
export const imageRef = fc.constantFrom(
  "registry.local:5000/team/app:1.2",
  "registry.local:5000/team/sensor-api:2.0.1",
  "localhost:5000/app:0.1",
  "ghcr.io/acme/energy-api:1.4.2",
  "alpine:3.20.3",
  "docker.io/library/nginx:1.27",
  `registry.local/team/app@sha256:${"ab".repeat(32)}`,
);

/** Stateless subnet pools: private, clear of Docker's own ranges and of the prod stack's LAN. */
const SUBNET_POOLS = ["10.128.0.0/9", "10.64.0.0/10", "172.20.0.0/14", "100.64.0.0/10"];

interface DraftService {
  readonly name: string;
  readonly image: string;
  readonly tiers: string[];
  readonly httpPort: number;
  readonly metricsPort?: number;
  readonly replicas?: number;
}

/** Ports a service listens on, by service name: the reference catalog's and the generated ones. */
function listening(services: readonly DraftService[]): Map<string, PortSpec["port"][]> {
  const ports = new Map<string, number[]>(referenceServices.map((s) => [s.name, s.ports.map((p) => p.port)]));
  for (const s of services) ports.set(s.name, [s.httpPort, ...(s.metricsPort ? [s.metricsPort] : [])]);
  return ports;
}

/** Longest MQTT client name whose certificate secret (`<client>-mqtt-client-key-<hash>`) fits Docker's 64. */
const MAX_MQTT_CLIENT = 64 - "-mqtt-client-key-".length - 12;
/** A Redis or NATS client holds its password as `<client>-<server>-password-<hash>`: its name must leave room. */
const maxPasswordClient = (server: string) => 64 - `-${server}-password-`.length - 12;

const draftService = (name: string, tiers: readonly string[]): fc.Arbitrary<DraftService> =>
  fc
    .record({
      image: imageRef,
      tiers: fc.subarray([...tiers], { minLength: 1, maxLength: 2 }),
      httpPort: fc.integer({ min: 1024, max: 65535 }),
      metrics: fc.option(fc.integer({ min: 1024, max: 65535 }), { nil: undefined }),
      replicas: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    })
    .map(({ image, tiers: chosen, httpPort, metrics, replicas }) => ({
      name,
      image,
      tiers: chosen,
      httpPort,
      metricsPort: metrics !== undefined && metrics !== httpPort ? metrics : undefined,
      replicas,
    }));

const serviceConfig = (s: DraftService) => ({
  image: s.image,
  tiers: s.tiers,
  role: "app",
  ports: [
    { name: "http", port: s.httpPort, appProtocol: "http", purpose: "API and /healthz" },
    ...(s.metricsPort ? [{ name: "metrics", port: s.metricsPort, appProtocol: "metrics", purpose: "metrics" }] : []),
  ],
  health: {
    test: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${s.httpPort}/healthz`],
    httpPath: "/healthz",
    portName: "http",
  },
  ...(s.replicas !== undefined ? { replicas: s.replicas } : {}),
});

const decode = <T>(value: string | undefined, fallback: T): T =>
  value === undefined ? fallback : (JSON.parse(value) as T);

/**
 * A valid stack: the dev or prod stack file plus random tiers (some with a network name of their own),
 * random services in them (and in reference tiers), random flows between any two services on a port the
 * server listens on (a client of the broker gets an MQTT certificate), random gateway routes to new HTTP
 * ports, and random replicas. Planned subnets that collide are pinned as the error suggests, as a user would.
 */
export const validStack: fc.Arbitrary<ValidCase> = fc
  .record({
    environment: fc.constantFrom<Environment>("dev", "prod"),
    tiers: fc.uniqueArray(tierName, { maxLength: 4 }),
    names: fc.oneof(
      { arbitrary: fc.uniqueArray(serviceName, { minLength: 1, maxLength: 6 }), weight: 3 },
      // Crowded: names whose hyphenated joins coincide (a-b + c, a + b-c), with many flows between them below.
      fc.shuffledSubarray(HYPHENATED, { minLength: 4, maxLength: 7 }),
    ),
    pool: fc.constantFrom(...SUBNET_POOLS),
    ownNetwork: fc.boolean(),
  })
  .chain(({ environment, tiers, names, pool, ownNetwork }) => {
    const allTiers = [...referenceTiers.map((t) => t.name), ...tiers];
    const serviceNames = [...referenceServices.map((s) => s.name), ...names];
    return fc.record({
      environment: fc.constant(environment),
      pool: fc.constant(pool),
      tiers: fc.constant(
        tiers.map((name, i) => ({
          name,
          description: `tier ${name}`,
          ...(ownNetwork && i === 0 ? { network: `net-${name}` } : {}),
        })),
      ),
      services: fc.tuple(...names.map((n) => draftService(n, allTiers))),
      flowPicks: fc.array(fc.tuple(fc.nat(serviceNames.length - 1), fc.nat(serviceNames.length - 1), fc.nat()), {
        maxLength: 12,
      }),
      // Flows between the new services alone, which give them link networks named after two new names.
      newFlowPicks: fc.array(
        fc.tuple(
          fc.integer({ min: referenceServices.length, max: serviceNames.length - 1 }),
          fc.integer({ min: referenceServices.length, max: serviceNames.length - 1 }),
          fc.nat(),
        ),
        { maxLength: 16 },
      ),
      routePicks: fc.subarray(names),
      adminRoutes: fc.boolean(),
      gatewayReplicas: fc.option(fc.integer({ min: 2, max: 4 }), { nil: undefined }),
    });
  })
  .map(({ environment, pool, tiers, services, flowPicks, newFlowPicks, routePicks, adminRoutes, gatewayReplicas }) => {
    const base = readStackConfig(environment).config;
    const ports = listening(services);
    const names = [...referenceServices.map((s) => s.name), ...services.map((s) => s.name)];
    const flows: (string | { flow: string; permissions: object })[] = [];
    const mqttClients = new Set(["node-red", "mqtt-exporter"]);
    for (const [from, to, p] of [...flowPicks, ...newFlowPicks]) {
      const [client, server] = [names[from], names[to]];
      if (client === server) continue;
      const options = ports.get(server)!;
      const port = options[p % options.length];
      if (server === "mosquitto") {
        // The broker requires client certificates: its clients are MQTT clients, with names that fit.
        if (client.length > MAX_MQTT_CLIENT || client === "gateway") continue;
        mqttClients.add(client);
      }
      if ((server === "redis" || server === "nats") && client.length > maxPasswordClient(server)) continue;
      const flow = `${client} -> ${server}:${port}`;
      // Some flows to Redis and NATS scope their identity; the rest take the defaults.
      if (p % 3 === 0 && server === "redis" && port === 6379)
        flows.push({ flow, permissions: { keys: [`${client}:cache:*`], commands: ["+@read", "+set"] } });
      else if (p % 3 === 0 && server === "nats" && port === 4222)
        flows.push({ flow, permissions: { subjects: { publish: [`sensors.${client}.>`] } } });
      else flows.push(flow);
    }
    const taken = new Set(referenceRoutes.map((r) => r.subdomain));
    const routes = routePicks
      .filter((name) => !taken.has(name))
      .map((name) => {
        const s = services.find((x) => x.name === name)!;
        flows.push(`gateway -> ${name}:${s.httpPort}`);
        return { subdomain: name, service: name, port: s.httpPort, admin: adminRoutes };
      });
    const baseServices = decode<Record<string, Record<string, unknown>>>(base[key("services")], {});
    const config: Record<string, string> = {
      ...base,
      [key("subnetPool")]: pool,
      [key("tiers")]: JSON.stringify([...decode<unknown[]>(base[key("tiers")], []), ...tiers]),
      [key("services")]: JSON.stringify({
        ...baseServices,
        ...(gatewayReplicas !== undefined ? { gateway: { ...baseServices.gateway, replicas: gatewayReplicas } } : {}),
        ...Object.fromEntries(services.map((s) => [s.name, serviceConfig(s)])),
      }),
      [key("flows")]: JSON.stringify([...decode<unknown[]>(base[key("flows")], []), ...flows]),
      [key("routes")]: JSON.stringify(routes),
      [key("tls")]: JSON.stringify({
        ...decode<Record<string, unknown>>(base[key("tls")], {}),
        mqttClients: [...mqttClients],
      }),
    };
    const { pins } = planWithSuggestedPins(topologyFrom(config, { namespaced: true }));
    if (Object.keys(pins).length > 0) config[key("subnets")] = JSON.stringify(pins);
    return { environment, config };
  });

/** One way to break a valid stack, and the config key the rejection must name. */
export interface Breaker {
  readonly name: string;
  /** The broken config, and the key (without namespace) the error must name. */
  readonly apply: (config: Record<string, string>) => { config: Record<string, string>; key: string };
}

type Json = Record<string, any>;
/** A breaker that edits the decoded config values in place and returns the key (without namespace) it broke. */
const edit =
  (change: (values: Json) => string): Breaker["apply"] =>
  (config) => {
    const values: Json = Object.fromEntries(
      Object.entries(config).map(([k, v]) => [k.slice(CONFIG_NAMESPACE.length + 1), parse(v)]),
    );
    const badKey = change(values);
    return {
      config: Object.fromEntries(
        Object.entries(values).map(([k, v]) => [key(k), typeof v === "string" ? v : JSON.stringify(v)]),
      ),
      key: badKey,
    };
  };

function parse(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The services the stack adds to the reference catalog. */
const newServices = (v: Json) =>
  Object.keys(v.services ?? {}).filter((n) => !referenceServices.some((s) => s.name === n));

const addService = (v: Json, name: string, override: Json) => {
  v.services = { ...(v.services ?? {}), [name]: override };
};

const extraService = (image: string) => ({
  image,
  tiers: ["backend"],
  role: "app",
  ports: [{ name: "http", port: 8080, appProtocol: "http", purpose: "API" }],
  health: { test: ["CMD", "true"] },
});

export const BREAKERS: readonly Breaker[] = [
  {
    name: "an image reference with an upper-case repository",
    apply: edit((v) => {
      const name = newServices(v)[0] ?? "grafana";
      v.services[name] = { ...(v.services[name] ?? {}), image: "registry.local:5000/Team/App:1.2" };
      return `services.${name}.image`;
    }),
  },
  {
    name: "an image without a tag",
    apply: edit((v) => {
      v.services.redis = { ...(v.services.redis ?? {}), image: "redis" };
      return "services.redis.image";
    }),
  },
  {
    name: "a service name ending in a hyphen",
    apply: edit((v) => {
      addService(v, "sensor-", extraService("alpine:3.20.3"));
      return "services.sensor-";
    }),
  },
  {
    name: "a service in a tier that does not exist",
    apply: edit((v) => {
      const name = newServices(v)[0];
      if (name) {
        v.services[name].tiers = [...v.services[name].tiers, "no-such-tier"];
        return `services.${name}.tiers[${v.services[name].tiers.length - 1}]`;
      }
      addService(v, "orphan", { ...extraService("alpine:3.20.3"), tiers: ["no-such-tier"] });
      return "services.orphan.tiers[0]";
    }),
  },
  {
    name: "a flow to an unknown service",
    apply: edit((v) => {
      v.flows = [...(v.flows ?? []), "grafana -> nowhere:8080"];
      return `flows[${v.flows.length - 1}]`;
    }),
  },
  {
    name: "a flow to a port the server does not listen on",
    apply: edit((v) => {
      v.flows = [...(v.flows ?? []), "grafana -> redis:6380"];
      return `flows[${v.flows.length - 1}]`;
    }),
  },
  {
    name: "a public subnet pool",
    apply: edit((v) => {
      v.subnetPool = "8.8.0.0/16";
      delete v.subnets;
      return "subnetPool";
    }),
  },
  {
    name: "a duplicate tier",
    apply: edit((v) => {
      const tiers: Json[] = v.tiers ?? [];
      const again = tiers[0] ?? { name: "spare", description: "spare" };
      v.tiers = tiers.length > 0 ? [...tiers, again] : [again, again];
      return `tiers[${v.tiers.length - 1}].name`;
    }),
  },
  {
    name: "a topic filter with a misplaced wildcard",
    apply: edit((v) => {
      const acl = [
        { user: "node-red", access: "read", topic: "devices/#" },
        { user: "node-red", access: "read", topic: "devices/#/state" },
      ];
      v.mqtt = { ...(v.mqtt ?? {}), acl };
      return "mqtt.acl[1].topic";
    }),
  },
  {
    name: "a CPU reservation above the limit",
    apply: edit((v) => {
      v.services.nats = { ...(v.services.nats ?? {}), resources: { cpus: 0.5, reservedCpus: 1 } };
      return "services.nats.resources.reservedCpus";
    }),
  },
  {
    name: "a placement constraint on an unknown attribute",
    apply: edit((v) => {
      v.services.prometheus = { ...(v.services.prometheus ?? {}), placement: ["node.lables.storage == true"] };
      return "services.prometheus.placement[0]";
    }),
  },
  {
    name: "a duplicate route subdomain",
    apply: edit((v) => {
      v.routes = [
        ...(v.routes ?? []),
        { subdomain: "dash", service: "grafana", port: 3000, admin: false },
        { subdomain: "dash", service: "grafana", port: 3000, admin: false },
      ];
      return `routes[${v.routes.length - 1}].subdomain`;
    }),
  },
  {
    name: "a route to a port that does not speak HTTP",
    apply: edit((v) => {
      v.flows = [...(v.flows ?? []), "gateway -> redis:6379"];
      v.routes = [...(v.routes ?? []), { subdomain: "cache", service: "redis", port: 6379, admin: true }];
      return `routes[${v.routes.length - 1}].port`;
    }),
  },
  {
    name: "a public Node-RED editor route",
    apply: edit((v) => {
      v.routes = [...(v.routes ?? []), { subdomain: "node-red", service: "node-red", port: 1880, admin: false }];
      return `routes[${v.routes.length - 1}].admin`;
    }),
  },
  {
    name: "memory reservation above the limit",
    apply: edit((v) => {
      v.services.redis = { ...(v.services.redis ?? {}), resources: { memoryMb: 128, reservedMemoryMb: 256 } };
      return "services.redis.resources.reservedMemoryMb";
    }),
  },
  {
    name: "a password in a service's environment",
    apply: edit((v) => {
      v.services.grafana = { ...(v.services.grafana ?? {}), env: { GF_DB_PASSWORD: "hunter2hunter2" } };
      return "services.grafana.env.GF_DB_PASSWORD";
    }),
  },
  {
    name: "zero replicas",
    apply: edit((v) => {
      v.services.gateway = { ...(v.services.gateway ?? {}), replicas: 0 };
      return "services.gateway.replicas";
    }),
  },
  {
    name: "a duplicate MQTT client",
    apply: edit((v) => {
      const clients: string[] = v.tls?.mqttClients ?? ["node-red", "mqtt-exporter"];
      v.tls = { ...(v.tls ?? {}), mqttClients: [...clients, "node-red"] };
      return `tls.mqttClients[${clients.length}]`;
    }),
  },
  {
    name: "an unknown top-level key",
    apply: edit((v) => {
      v.subnetpool = "10.0.0.0/8";
      return "subnetpool";
    }),
  },
  {
    name: "a tier network named like another tier's",
    apply: edit((v) => {
      v.tiers = [...(v.tiers ?? []), { name: "extra", network: "iot-edge-network" }];
      return `tiers[${v.tiers.length - 1}].network`;
    }),
  },
];

/** A valid stack with exactly one thing broken, and the key its rejection must name. */
export const invalidStack = fc.tuple(validStack, fc.constantFrom(...BREAKERS)).map(([valid, breaker]) => ({
  breaker: breaker.name,
  environment: valid.environment,
  ...breaker.apply(valid.config),
}));
