/**
 * Identities over declared flows: which credential each client holds for each server that authenticates it,
 * what it may do there, where the credential lives and how it is rotated. One identity per flow:
 * - Redis and NATS: a user named after the client with its own generated password (`<server>-<client>`),
 *   scoped by the flow's permissions (Redis key patterns and command rules, NATS subjects); deny by default.
 * - Mosquitto: the client certificate the CA issues to each client in `tls.mqttClients`; the broker's ACL
 *   scopes its topics.
 * - InfluxDB: a v1 user named after the client with its own generated password (`<server>-<client>`), for
 *   clients whose application presents InfluxDB credentials (Grafana, Node-RED), allowed to read or write one
 *   bucket; InfluxDB's start script creates it at deploy time (model/render/influxdb.ts). The admin token stays
 *   with the operators and the server.
 * Pure: the files (model/wiring/credentials.ts), the labels, the docs and the tests all read this plan.
 */
import { APPS } from "./apps";
import { INFLUXDB_SETUP } from "./apps/influxdb";
import { serviceRunning } from "./lookup";
import { planNetworks } from "./networks";
import { mqttClientCertName } from "./pki";
import { FlowSpec, InfluxAccess, ServiceSpec, Topology } from "./types";
import { flowCredentialPath, mqttClientPaths } from "./wiring/paths";

export type IdentityKind = "password" | "certificate";

export interface RedisScope {
  /** Key patterns, without the `~`. */
  readonly keys: readonly string[];
  /** ACL command rules, ending with `-@dangerous`. */
  readonly commands: readonly string[];
}

export interface NatsScope {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
}

export interface InfluxScope {
  /** The bucket, which v1 clients name as their database (`db=`, retention policy `autogen`). */
  readonly bucket: string;
  readonly access: InfluxAccess;
}

export interface Identity {
  readonly flow: FlowSpec;
  readonly client: string;
  readonly server: string;
  readonly kind: IdentityKind;
  /** The credential's id: a generated password's (the `rotations` key) or a certificate's name. */
  readonly credential: string;
  /** The user name the client logs in with (passwords) or its certificate's common name. */
  readonly username: string;
  /** What the identity may do, in one line. */
  readonly scope: string;
  readonly redis?: RedisScope;
  readonly nats?: NatsScope;
  readonly influxdb?: InfluxScope;
  /** The client's file holding the secret part: its name among the service's files and its path in the task. */
  readonly file: { readonly name: string; readonly path: string };
  /** The environment pointing the client at it. */
  readonly env: Readonly<Record<string, string>>;
  /** The file is one of the client application's own (`presentsIn`), not a secret file of the credential alone. */
  readonly inAppFile?: boolean;
  /** How to replace it. */
  readonly rotate: string;
}

/** Redis command rules no application client gets: FLUSHALL, CONFIG, DEBUG, KEYS, SHUTDOWN, ACL and the rest. */
export const REDIS_DENIED = "-@dangerous";

/** Safe defaults when a flow names no permissions: its own key prefix, every command but the dangerous ones. */
export function defaultRedisScope(client: string): RedisScope {
  return { keys: [`${client}:*`], commands: ["+@all", REDIS_DENIED] };
}

/** Safe defaults for NATS: publish events, receive replies to its own requests. */
export function defaultNatsScope(): NatsScope {
  return { publish: ["events.>"], subscribe: ["_INBOX.>"] };
}

/** The password id of a flow's identity: one per client and server, so each rotates alone. */
export const flowPasswordId = (server: string, client: string) => `${server}-${client}`;

/** `node-red` -> `NODE_RED`: the prefix of a client's environment for a server. */
export const envPrefix = (server: string) => server.toUpperCase().replace(/[^A-Z0-9]/g, "_");

const rotateById = (id: string) => `set rotations.${id} to a new value; only this client and the server roll`;

function redisScope(flow: FlowSpec): RedisScope {
  const given = flow.permissions;
  const defaults = defaultRedisScope(flow.from);
  const commands = (given?.commands ?? defaults.commands).filter((c) => c !== REDIS_DENIED);
  return { keys: given?.keys ?? defaults.keys, commands: [...commands, REDIS_DENIED] };
}

function natsScope(flow: FlowSpec): NatsScope {
  return flow.permissions?.subjects ?? defaultNatsScope();
}

/** The default access of an application's InfluxDB identity: what its application does there (Node-RED writes). */
export function defaultInfluxScope(client: ServiceSpec): InfluxScope {
  return { bucket: INFLUXDB_SETUP.bucket, access: (client.app && APPS[client.app].influxdbAccess) || "read" };
}

function influxScope(flow: FlowSpec, client: ServiceSpec): InfluxScope {
  const defaults = defaultInfluxScope(client);
  return { bucket: flow.permissions?.bucket ?? defaults.bucket, access: flow.permissions?.access ?? defaults.access };
}

const INFLUX_ACCESS_TEXT: Readonly<Record<InfluxAccess, string>> = {
  read: "read",
  write: "write",
  "read-write": "read and write",
};

function passwordIdentity(flow: FlowSpec, client: ServiceSpec, server: ServiceSpec): Identity {
  const id = flowPasswordId(server.name, flow.from);
  const path = flowCredentialPath(flow.from, server.name, "password");
  const prefix = envPrefix(server.name);
  const common = { flow, client: flow.from, server: server.name, kind: "password" as const, credential: id };
  if (server.app === "influxdb") {
    const influxdb = influxScope(flow, client);
    // Node-RED keeps it in its flows' credentials file; Grafana reads its own secret file.
    const carried = client.app ? APPS[client.app].presentsIn?.influxdb : undefined;
    return {
      ...common,
      username: flow.from,
      scope: `${INFLUX_ACCESS_TEXT[influxdb.access]} bucket ${influxdb.bucket}`,
      influxdb,
      file: carried ?? { name: `${server.name}-password`, path },
      ...(carried ? { inAppFile: true } : {}),
      env: {},
      rotate:
        `set rotations.${id} to a new value; only this client and ${server.name} roll ` +
        `(${server.name}'s start script sets the new password on its v1 user)`,
    };
  }
  const redis = server.app === "redis" ? redisScope(flow) : undefined;
  const nats = server.app === "nats" ? natsScope(flow) : undefined;
  const scope = redis
    ? `keys ${redis.keys.join(" ")}; commands ${redis.commands.join(" ")}`
    : `publish ${nats!.publish.join(" ") || "nothing"}; subscribe ${nats!.subscribe.join(" ") || "nothing"}`;
  return {
    ...common,
    username: flow.from,
    scope,
    ...(redis ? { redis } : { nats }),
    file: { name: `${server.name}-password`, path },
    env: { [`${prefix}_USERNAME`]: flow.from, [`${prefix}_PASSWORD_FILE`]: path },
    rotate: rotateById(id),
  };
}

function certificateIdentity(t: Topology, flow: FlowSpec, server: ServiceSpec): Identity {
  const name = mqttClientCertName(flow.from);
  const topics = t.mqtt.acl.filter((a) => a.user === flow.from).map((a) => `${a.access} ${a.topic}`);
  return {
    flow,
    client: flow.from,
    server: server.name,
    kind: "certificate",
    credential: name,
    username: flow.from,
    scope: topics.length > 0 ? `topics: ${topics.join(", ")}` : "no topics (the broker's ACL grants none)",
    file: { name: "mqtt-client.key", path: mqttClientPaths(flow.from).key },
    env: {},
    rotate: `set rotations.${name} to a new value (new key and certificate), or tls.reissue for every leaf`,
  };
}

/** Whether `client`'s application presents credentials of `server`'s application (Grafana and Node-RED: InfluxDB). */
export function presentsTo(client: ServiceSpec, server: ServiceSpec): boolean {
  return !!client.app && !!server.app && (APPS[client.app].presents ?? []).includes(server.app);
}

/**
 * The port of `server` its clients authenticate on by password, for the applications that do: Redis and NATS
 * for every client, InfluxDB's HTTP API for the clients whose application presents InfluxDB credentials.
 */
export function passwordPort(server: ServiceSpec, client?: ServiceSpec): number | undefined {
  if (server.app === "redis") return server.ports.find((p) => p.appProtocol === "redis")?.port;
  if (server.app === "nats") return server.ports.find((p) => p.appProtocol === "nats")?.port;
  if (server.app === "influxdb" && (!client || presentsTo(client, server)))
    return server.ports.find((p) => p.appProtocol === "http")?.port;
  return undefined;
}

/** One identity per declared flow to a server that authenticates its clients, in flow order. */
export function planIdentities(t: Topology): Identity[] {
  const services = new Map(t.services.map((s) => [s.name, s]));
  const broker = serviceRunning(t, "mosquitto");
  const seen = new Set<string>();
  const identities: Identity[] = [];
  for (const flow of t.flows) {
    const server = services.get(flow.to);
    const client = services.get(flow.from);
    if (!server || !client) continue;
    const planned: Identity[] = [];
    if (passwordPort(server, client) === flow.port) planned.push(passwordIdentity(flow, client, server));
    const tlsPort = server === broker && server.ports.some((p) => p.port === flow.port && p.appProtocol === "mqtts");
    if (tlsPort && t.tls.mqttClients.includes(flow.from)) planned.push(certificateIdentity(t, flow, server));
    // Two flows of one client to one server (two ports) still hold one credential.
    for (const identity of planned) {
      const key = `${identity.client}\u0000${identity.server}\u0000${identity.credential}`;
      if (!seen.has(key)) identities.push(identity);
      seen.add(key);
    }
  }
  return identities;
}

/** The identities `client` holds. */
export function identitiesOf(t: Topology, client: string): Identity[] {
  return planIdentities(t).filter((i) => i.client === client);
}

/** The `iot.credentials` label entries of a client: `server:credential`, sorted. */
export function credentialLabel(identities: readonly Identity[]): string[] {
  return identities.map((i) => `${i.server}:${i.credential}`).sort();
}

/** How a server authenticates its clients on a port: Redis and NATS users, MQTT client certificates, InfluxDB. */
export type AuthenticatedProtocol = "redis" | "nats" | "mqtts" | "influxdb";

export interface AuthenticatedPort {
  readonly server: string;
  readonly port: number;
  readonly protocol: AuthenticatedProtocol;
}

/**
 * The ports on which servers refuse a client without its identity: Redis's and NATS's client ports, the broker's
 * MQTTS port when it requires client certificates, and InfluxDB's HTTP API (its v1 users and the admin token).
 */
export function authenticatedPorts(t: Topology): AuthenticatedPort[] {
  const broker = serviceRunning(t, "mosquitto");
  const ports: AuthenticatedPort[] = [];
  for (const s of t.services) {
    const add = (port: number | undefined, protocol: AuthenticatedProtocol) => {
      if (port !== undefined) ports.push({ server: s.name, port, protocol });
    };
    if (s.app === "redis") add(passwordPort(s), "redis");
    if (s.app === "nats") add(passwordPort(s), "nats");
    if (s.app === "influxdb") add(passwordPort(s), "influxdb");
    if (s === broker && t.mqtt.requireClientCertificate)
      for (const p of s.ports.filter((x) => x.appProtocol === "mqtts")) add(p.port, "mqtts");
  }
  return ports;
}

/** A client that shares a network with a server's authenticated port but has no flow there: it holds no identity. */
export interface UndeclaredCaller extends AuthenticatedPort {
  readonly client: string;
}

/**
 * Every ordered pair (client, server) where the server authenticates its clients on a port, the client shares a
 * network with it, and no declared flow goes from the client to that port: the networks let it connect, so
 * only the server's authentication keeps it out. Such a client holds no credential for that server (one identity
 * per flow), so the server must refuse it. By server (in service order), then client (in service order).
 */
export function undeclaredCallers(t: Topology): UndeclaredCaller[] {
  const reach = planNetworks(t).reachability;
  const declared = new Set(t.flows.map((f) => `${f.from}\u0000${f.to}\u0000${f.port}`));
  const callers: UndeclaredCaller[] = [];
  for (const target of authenticatedPorts(t)) {
    for (const client of t.services.map((s) => s.name)) {
      if (client === target.server || !(reach[client] ?? []).includes(target.server)) continue;
      if (declared.has(`${client}\u0000${target.server}\u0000${target.port}`)) continue;
      callers.push({ ...target, client });
    }
  }
  return callers;
}
