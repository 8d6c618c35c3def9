/**
 * The identity plan's details (model/identity.ts), one property changed per case from the reference stack: what
 * each identity scopes, where its secret lives, how it rotates, and which flows get none (a server that does not
 * authenticate, a port other than the authenticated one, a client that presents no credentials).
 */
import {
  authenticatedPorts,
  defaultInfluxScope,
  identitiesOf,
  Identity,
  passwordPort,
  planIdentities,
  presentsTo,
} from "../model/identity";
import { AppProtocol, FlowSpec, ServiceSpec, Topology } from "../model/types";
import { bridgeConfig, topologyFrom } from "./helpers";

const dev = { environment: "dev" };
const reference = () => topologyFrom(dev);

const withBridge = (flows: unknown[]) => topologyFrom(bridgeConfig(flows));

const of = (t: Topology, client: string, server: string): Identity[] =>
  planIdentities(t).filter((i) => i.client === client && i.server === server);
const only = (t: Topology, client: string, server: string): Identity => {
  const found = of(t, client, server);
  expect(found).toHaveLength(1);
  return found[0];
};
const service = (t: Topology, name: string): ServiceSpec => t.services.find((s) => s.name === name)!;

describe("a Redis identity", () => {
  it("logs the client in as itself with its own password file, scoped to its key prefix without dangerous commands", () => {
    const id = only(withBridge(["bridge -> redis:6379"]), "bridge", "redis");
    expect(id).toMatchObject({
      kind: "password",
      credential: "redis-bridge",
      username: "bridge",
      scope: "keys bridge:*; commands +@all -@dangerous",
      redis: { keys: ["bridge:*"], commands: ["+@all", "-@dangerous"] },
      file: { name: "redis-password", path: "/run/secrets/bridge-redis-password" },
      env: { REDIS_USERNAME: "bridge", REDIS_PASSWORD_FILE: "/run/secrets/bridge-redis-password" },
    });
    expect(id.nats).toBeUndefined();
    expect(id.influxdb).toBeUndefined();
    expect(id.inAppFile).toBeUndefined();
    expect(id.rotate).toContain("set rotations.redis-bridge to a new value");
    expect(id.rotate).toContain("only this client and the server roll");
  });

  it("keeps the default commands when config gives only keys, and the client's prefix when it gives only commands", () => {
    const keysOnly = only(
      withBridge([{ flow: "bridge -> redis:6379", permissions: { keys: ["s:*", "t:*"] } }]),
      "bridge",
      "redis",
    );
    expect(keysOnly.redis).toEqual({ keys: ["s:*", "t:*"], commands: ["+@all", "-@dangerous"] });
    expect(keysOnly.scope).toBe("keys s:* t:*; commands +@all -@dangerous");
    const commandsOnly = only(
      withBridge([{ flow: "bridge -> redis:6379", permissions: { commands: ["+@read"] } }]),
      "bridge",
      "redis",
    );
    expect(commandsOnly.redis).toEqual({ keys: ["bridge:*"], commands: ["+@read", "-@dangerous"] });
    expect(commandsOnly.scope).toBe("keys bridge:*; commands +@read -@dangerous");
  });

  it("ends on -@dangerous exactly once when config already names it", () => {
    const t = withBridge([
      { flow: "bridge -> redis:6379", permissions: { commands: ["-@dangerous", "+@read", "-@dangerous"] } },
    ]);
    expect(only(t, "bridge", "redis").redis!.commands).toEqual(["+@read", "-@dangerous"]);
  });
});

describe("a NATS identity", () => {
  it("logs the client in as itself, publishing events and receiving replies by default", () => {
    const id = only(withBridge(["bridge -> nats:4222"]), "bridge", "nats");
    expect(id).toMatchObject({
      credential: "nats-bridge",
      username: "bridge",
      scope: "publish events.>; subscribe _INBOX.>",
      nats: { publish: ["events.>"], subscribe: ["_INBOX.>"] },
      file: { name: "nats-password", path: "/run/secrets/bridge-nats-password" },
      env: { NATS_USERNAME: "bridge", NATS_PASSWORD_FILE: "/run/secrets/bridge-nats-password" },
    });
    expect(id.redis).toBeUndefined();
    expect(id.rotate).toContain("set rotations.nats-bridge to a new value");
  });

  it("says nothing is allowed where a subject list is empty", () => {
    const subscribeOnly = withBridge([
      { flow: "bridge -> nats:4222", permissions: { subjects: { subscribe: ["cmd.>", "cfg.>"] } } },
    ]);
    expect(only(subscribeOnly, "bridge", "nats").scope).toBe("publish nothing; subscribe cmd.> cfg.>");
    const publishOnly = withBridge([
      { flow: "bridge -> nats:4222", permissions: { subjects: { publish: ["a", "b"] } } },
    ]);
    expect(only(publishOnly, "bridge", "nats").scope).toBe("publish a b; subscribe nothing");
  });

  it("is none for a flow to NATS's monitoring port: only the client port authenticates", () => {
    expect(of(withBridge(["bridge -> nats:8222"]), "bridge", "nats")).toEqual([]);
    expect(passwordPort(service(reference(), "nats"))).toBe(4222);
  });
});

describe("the port a client authenticates on", () => {
  it("is the server's client port, wherever it stands among the server's ports", () => {
    const t = reference();
    const reversed: Topology = { ...t, services: t.services.map((s) => ({ ...s, ports: [...s.ports].reverse() })) };
    for (const x of [t, reversed]) {
      expect(service(x, "nats").ports.length).toBeGreaterThan(1);
      expect(passwordPort(service(x, "nats"))).toBe(4222);
      expect(passwordPort(service(x, "redis"))).toBe(6379);
      expect(passwordPort(service(x, "influxdb"))).toBe(8086);
    }
  });

  it("gives a flow naming a service the topology lacks no identity", () => {
    const t = reference();
    const ghost = (from: string, to: string, port: number): FlowSpec => ({ from, to, port, purpose: "test" });
    const dangling: Topology = {
      ...t,
      flows: [ghost("ghost", "redis", 6379), ...t.flows, ghost("grafana", "ghost", 1)],
    };
    expect(planIdentities(dangling)).toEqual(planIdentities(t));
  });
});

describe("servers with ports other than their client port", () => {
  /** The reference stack with a port of `appProtocol` put first among the named service's ports. */
  const withPort = (t: Topology, name: string, port: number, appProtocol: AppProtocol): Topology => ({
    ...t,
    services: t.services.map((s) =>
      s.name === name ? { ...s, ports: [{ ...s.ports[0], name: `extra-${port}`, port, appProtocol }, ...s.ports] } : s,
    ),
  });
  const flowTo = (t: Topology, client: string, server: string, port: number): Topology => ({
    ...t,
    flows: [
      ...t.flows.filter((f) => !(f.from === client && f.to === server)),
      { from: client, to: server, port, purpose: "test" },
    ],
  });
  const line = (t: Topology) => authenticatedPorts(t).map((p) => `${p.server}:${p.port} ${p.protocol}`);

  it("authenticate on the client port alone: Redis's, InfluxDB's API and the broker's MQTTS port", () => {
    let t = reference();
    const before = line(t);
    t = withPort(t, "redis", 9121, "metrics");
    t = withPort(t, "influxdb", 9122, "metrics");
    t = withPort(t, "mosquitto", 1883, "mqtt");
    expect(passwordPort(service(t, "redis"))).toBe(6379);
    expect(passwordPort(service(t, "influxdb"))).toBe(8086);
    expect(line(t)).toEqual(before);
    expect(only(t, "node-red", "mosquitto").kind).toBe("certificate");
    expect(of(flowTo(t, "node-red", "mosquitto", 1883), "node-red", "mosquitto")).toEqual([]);
  });

  it("without their client port, authenticate nobody", () => {
    const t = reference();
    const clientPort: Record<string, AppProtocol> = { redis: "redis", nats: "nats", influxdb: "http" };
    const stripped: Topology = {
      ...t,
      services: t.services.map((s) =>
        clientPort[s.name] ? { ...s, ports: s.ports.filter((p) => p.appProtocol !== clientPort[s.name]) } : s,
      ),
    };
    for (const name of Object.keys(clientPort)) expect(passwordPort(service(stripped, name))).toBeUndefined();
    expect(line(stripped)).toEqual(["mosquitto:8883 mqtts"]);
    expect(planIdentities(stripped).map((i) => i.kind)).toEqual(["certificate", "certificate"]);
  });
});

describe("the environment a client is pointed at", () => {
  it("is named after the server, every character other than a letter or digit becoming _", () => {
    const t = withBridge(["bridge -> redis:6379"]);
    const rename = (name: string) => (name === "redis" ? "redis-cache-1" : name);
    const renamed: Topology = {
      ...t,
      services: t.services.map((s) => ({ ...s, name: rename(s.name) })),
      flows: t.flows.map((f) => ({ ...f, to: rename(f.to) })),
    };
    expect(only(renamed, "bridge", "redis-cache-1").env).toEqual({
      REDIS_CACHE_1_USERNAME: "bridge",
      REDIS_CACHE_1_PASSWORD_FILE: "/run/secrets/bridge-redis-cache-1-password",
    });
  });
});

describe("an InfluxDB identity", () => {
  it("keeps Grafana's password in a secret file of its own, with no environment", () => {
    const id = only(reference(), "grafana", "influxdb");
    expect(id.file).toEqual({ name: "influxdb-password", path: "/run/secrets/grafana-influxdb-password" });
    expect(id.inAppFile).toBeUndefined();
    expect(id.env).toEqual({});
    expect(id.redis).toBeUndefined();
    expect(id.nats).toBeUndefined();
  });

  it("keeps Node-RED's in its flows' credentials file", () => {
    expect(only(reference(), "node-red", "influxdb")).toMatchObject({
      inAppFile: true,
      file: { name: "flows_cred.json" },
      username: "node-red",
      credential: "influxdb-node-red",
    });
  });

  it("rotates by its own rotations key, InfluxDB's start script setting the new password", () => {
    const { rotate } = only(reference(), "node-red", "influxdb");
    expect(rotate).toContain("set rotations.influxdb-node-red to a new value");
    expect(rotate).toContain("only this client and influxdb roll");
    expect(rotate).toContain("(influxdb's start script sets the new password on its v1 user)");
  });

  it("keeps the application's default access when config gives only a bucket", () => {
    const t = topologyFrom({
      ...dev,
      flows: [
        { flow: "grafana -> influxdb:8086", permissions: { bucket: "fleet" } },
        { flow: "node-red -> influxdb:8086", permissions: { bucket: "fleet" } },
      ],
    });
    expect(only(t, "grafana", "influxdb").influxdb).toEqual({ bucket: "fleet", access: "read" });
    expect(only(t, "node-red", "influxdb").influxdb).toEqual({ bucket: "fleet", access: "write" });
  });

  it("reads by default for a client without an application of the catalog", () => {
    expect(defaultInfluxScope(service(withBridge([]), "bridge"))).toEqual({ bucket: "telemetry", access: "read" });
  });

  it("is none for a client whose application presents no InfluxDB credentials", () => {
    const t = withBridge(["bridge -> influxdb:8086"]);
    expect(of(t, "bridge", "influxdb")).toEqual([]);
    const influxdb = service(t, "influxdb");
    expect(presentsTo(service(t, "bridge"), influxdb)).toBe(false);
    expect(presentsTo(service(t, "prometheus"), influxdb)).toBe(false);
    expect(presentsTo(service(t, "grafana"), influxdb)).toBe(true);
    expect(passwordPort(influxdb, service(t, "bridge"))).toBeUndefined();
    expect(passwordPort(influxdb, service(t, "grafana"))).toBe(8086);
    expect(passwordPort(influxdb)).toBe(8086);
  });
});

describe("a server that does not authenticate its clients", () => {
  it("gives a flow to it no identity", () => {
    const t = withBridge(["bridge -> node-red:1880", "bridge -> redis:6379"]);
    expect(passwordPort(service(t, "node-red"))).toBeUndefined();
    expect(passwordPort(service(t, "bridge"))).toBeUndefined();
    expect(identitiesOf(t, "bridge").map((i) => i.server)).toEqual(["redis"]);
  });
});

describe("an MQTT client certificate", () => {
  it("is the client's, in its own key file, scoped by the broker's ACL, rotated by its name or a reissue", () => {
    const id = only(reference(), "node-red", "mosquitto");
    expect(id).toMatchObject({
      kind: "certificate",
      credential: "mqtt-client-node-red",
      username: "node-red",
      scope: "topics: read devices/#, write commands/#",
      file: { name: "mqtt-client.key", path: "/run/secrets/node-red-mqtt-client.key" },
      env: {},
    });
    expect(id.redis ?? id.nats ?? id.influxdb).toBeUndefined();
    expect(id.rotate).toContain("set rotations.mqtt-client-node-red to a new value (new key and certificate)");
    expect(id.rotate).toContain("or tls.reissue for every leaf");
  });

  it("says the broker grants no topics when its ACL names none for the client", () => {
    const t = reference();
    const bare: Topology = { ...t, mqtt: { ...t.mqtt, acl: t.mqtt.acl.filter((a) => a.user !== "mqtt-exporter") } };
    expect(only(bare, "mqtt-exporter", "mosquitto").scope).toBe("no topics (the broker's ACL grants none)");
    expect(only(bare, "node-red", "mosquitto").scope).toBe("topics: read devices/#, write commands/#");
  });

  it("is none for a client the CA issues no certificate", () => {
    const t = reference();
    const fewer: Topology = { ...t, tls: { ...t.tls, mqttClients: ["node-red"] } };
    expect(of(fewer, "mqtt-exporter", "mosquitto")).toEqual([]);
    expect(of(fewer, "node-red", "mosquitto")).toHaveLength(1);
  });

  it("is none for a flow to another port of the broker, or to an MQTTS port of a service that is not the broker", () => {
    const t = withBridge([]);
    const mqtts = { ...service(t, "mosquitto").ports.find((p) => p.appProtocol === "mqtts")!, name: "mqtts" };
    const flow = (to: string, port: number): FlowSpec => ({ from: "node-red", to, port, purpose: "test" });
    const changed: Topology = {
      ...t,
      services: t.services.map((s) => (s.name === "bridge" ? { ...s, ports: [...s.ports, mqtts] } : s)),
      flows: [...t.flows.filter((f) => f.to !== "mosquitto"), flow("mosquitto", 1883), flow("bridge", 8883)],
    };
    const certificates = (x: Topology) => planIdentities(x).filter((i) => i.kind === "certificate");
    expect(certificates(t).map((i) => i.client)).toEqual(["node-red", "mqtt-exporter"]);
    expect(certificates(changed)).toEqual([]);
    expect(authenticatedPorts(changed).map((p) => p.server)).not.toContain("bridge");
  });
});

describe("a flow declared twice", () => {
  it("still gives one identity per client and server", () => {
    const t = reference();
    const twice: Topology = { ...t, flows: [...t.flows, ...t.flows] };
    expect(planIdentities(twice)).toEqual(planIdentities(t));
  });
});

describe("identitiesOf", () => {
  it("is exactly the identities the client holds", () => {
    const t = reference();
    expect(identitiesOf(t, "grafana").map((i) => i.credential)).toEqual(["influxdb-grafana"]);
    expect(identitiesOf(t, "mqtt-exporter").map((i) => i.credential)).toEqual(["mqtt-client-mqtt-exporter"]);
    expect(identitiesOf(t, "prometheus")).toEqual([]);
  });
});
