/**
 * Identities per declared flow (model/identity.ts): each client holds exactly the credentials of its flows, the
 * servers admit exactly those users with the permissions config gives, bad permissions are reported under their
 * config keys, and rotating one flow's password changes only that client's secret and the server's users (as
 * the program registers it: tests/identityProgram.test.ts).
 */
import { fillPlaceholders, placeholders, serviceFiles } from "../model/files";
import { credentialLabel, planIdentities } from "../model/identity";
import { Topology } from "../model/types";
import { bridgeConfig, configError, topologyFrom } from "./helpers";

const dev = { environment: "dev" };
const reference = () => topologyFrom(dev);

const files = (t: Topology, service: string) =>
  serviceFiles(
    t,
    t.services.find((s) => s.name === service)!,
  );
const template = (t: Topology, service: string, file: string) =>
  files(t, service).files.find((f) => f.name === file)!.template;
const passwordsHeld = (t: Topology, service: string) =>
  files(t, service)
    .files.filter((f) => f.kind === "secret")
    .flatMap((f) => placeholders(f.template))
    .filter((p) => p.kind === "password")
    .map((p) => p.name)
    .sort();

describe("the identity plan of the reference stack", () => {
  it("gives one identity per flow to a server that authenticates: passwords and certificates", () => {
    expect(planIdentities(reference()).map((i) => `${i.client} -> ${i.server} ${i.kind} ${i.credential}`)).toEqual([
      "grafana -> influxdb password influxdb-grafana",
      "node-red -> influxdb password influxdb-node-red",
      "node-red -> mosquitto certificate mqtt-client-node-red",
      "node-red -> redis password redis-node-red",
      "node-red -> nats password nats-node-red",
      "mqtt-exporter -> mosquitto certificate mqtt-client-mqtt-exporter",
    ]);
  });

  it("gives each client exactly the passwords of its own flows, and a service without such a flow none", () => {
    const t = reference();
    for (const s of t.services.filter((x) => !["redis", "nats", "influxdb", "grafana"].includes(x.name))) {
      const own = planIdentities(t)
        .filter((i) => i.client === s.name && i.kind !== "certificate")
        .map((i) => i.credential)
        .sort();
      expect([s.name, passwordsHeld(t, s.name)]).toEqual([s.name, own]);
    }
    // Node-RED's telemetry flow writes as its own InfluxDB user, held in its flows' credentials file.
    expect(passwordsHeld(reference(), "node-red")).toEqual(["influxdb-node-red", "nats-node-red", "redis-node-red"]);
    expect(passwordsHeld(reference(), "grafana")).toEqual(["grafana-admin", "influxdb-grafana"]);
    expect(passwordsHeld(reference(), "prometheus")).toEqual([]);
  });

  it("points the client at its user name and password file", () => {
    expect(files(reference(), "node-red").env).toMatchObject({
      REDIS_USERNAME: "node-red",
      REDIS_PASSWORD_FILE: "/run/secrets/node-red-redis-password",
      NATS_USERNAME: "node-red",
      NATS_PASSWORD_FILE: "/run/secrets/node-red-nats-password",
    });
    expect(template(reference(), "node-red", "redis-password")).toBe("{{password.redis-node-red}}");
  });

  it("labels each client with its credentials, server:credential", () => {
    const t = reference();
    expect(credentialLabel(planIdentities(t).filter((i) => i.client === "node-red"))).toEqual([
      "influxdb:influxdb-node-red",
      "mosquitto:mqtt-client-node-red",
      "nats:nats-node-red",
      "redis:redis-node-red",
    ]);
    // The admin token is no client's, and no two flows share a credential.
    const credentials = planIdentities(t).map((i) => i.credential);
    expect(credentials).not.toContain("influxdb-token");
    expect(new Set(credentials).size).toBe(credentials.length);
  });
});

describe("the InfluxDB users", () => {
  const influx = (t: Topology) =>
    planIdentities(t)
      .filter((i) => i.influxdb)
      .map((i) => `${i.username} ${i.influxdb!.access} ${i.influxdb!.bucket} ${i.scope}`);

  it("let Node-RED write the telemetry bucket and Grafana read it, by default", () => {
    expect(influx(reference())).toEqual([
      "grafana read telemetry read bucket telemetry",
      "node-red write telemetry write bucket telemetry",
    ]);
  });

  it("give any other client that presents InfluxDB credentials read access, and Prometheus and the gateway none", () => {
    const t = reference();
    const services = t.services.map((s) => (s.name === "grafana" ? { ...s, name: "dash" } : s));
    const flows = t.flows.map((f) => (f.from === "grafana" ? { ...f, from: "dash" } : f));
    expect(influx({ ...t, services, flows })).toContain("dash read telemetry read bucket telemetry");
    expect(
      planIdentities(t)
        .filter((i) => i.server === "influxdb")
        .map((i) => i.client),
    ).toEqual(["grafana", "node-red"]);
  });

  it("take the bucket and access from config", () => {
    const t = topologyFrom({
      ...dev,
      flows: [
        { flow: "grafana -> influxdb:8086", permissions: { bucket: "fleet", access: "read-write" } },
        { flow: "node-red -> influxdb:8086", permissions: { access: "read" } },
      ],
    });
    expect(influx(t)).toEqual([
      "grafana read-write fleet read and write bucket fleet",
      "node-red read telemetry read bucket telemetry",
    ]);
    const start = template(t, "influxdb", "influxdb-start.sh");
    expect(start).toContain("bucket_fleet=$(bucket_id 'fleet')");
    expect(files(t, "grafana").files.find((f) => f.name === "datasources.yaml")!.template).toContain("database: fleet");
  });

  it("hold each password in the client's file and InfluxDB's own secret file for it", () => {
    const [grafana, nodeRed] = planIdentities(reference()).filter((i) => i.influxdb);
    expect(grafana.file.path).toBe("/run/secrets/grafana-influxdb-password");
    expect(nodeRed).toMatchObject({ inAppFile: true, file: { path: "/data/flows_cred.json" } });
    expect(template(reference(), "influxdb", "user-grafana-password")).toBe("{{password.influxdb-grafana}}");
    expect(template(reference(), "influxdb", "user-node-red-password")).toBe("{{password.influxdb-node-red}}");
    expect(grafana.rotate).toContain("rotations.influxdb-grafana");
  });
});

describe("the Redis ACL", () => {
  it("turns the default user off and gives each client its own prefix, without dangerous commands", () => {
    const acl = template(reference(), "redis", "users.acl");
    expect(acl.split("\n")).toEqual([
      "user default off",
      "user node-red reset on >{{password.redis-node-red}} ~node-red:* resetchannels +@all -@dangerous",
      "",
    ]);
    expect(files(reference(), "redis").files.find((f) => f.name === "users.acl")!.kind).toBe("secret");
    expect(template(reference(), "redis", "redis.conf")).toContain("aclfile /run/secrets/redis-users.acl");
    expect(template(reference(), "redis", "redis.conf")).not.toMatch(/requirepass|include/);
  });

  it("takes keys and commands from config, still ending on -@dangerous", () => {
    const t = topologyFrom(
      bridgeConfig([
        { flow: "bridge -> redis:6379", permissions: { keys: ["sensors:*", "state:*"], commands: ["+@read", "+set"] } },
      ]),
    );
    expect(template(t, "redis", "users.acl")).toContain(
      "user bridge reset on >{{password.redis-bridge}} ~sensors:* ~state:* resetchannels +@read +set -@dangerous\n",
    );
    expect(passwordsHeld(t, "bridge")).toEqual(["redis-bridge"]);
  });

  it("gives a reference flow repeated in config the permissions given with it", () => {
    const t = topologyFrom({
      ...dev,
      flows: [{ flow: "node-red -> redis:6379", permissions: { keys: ["flows:*"] } }],
    });
    expect(template(t, "redis", "users.acl")).toContain("~flows:* resetchannels +@all -@dangerous");
    expect(template(t, "redis", "users.acl")).not.toContain("~node-red:*");
  });
});

describe("the NATS users", () => {
  it("admit each client with its own password, publishing events and receiving replies by default", () => {
    const auth = template(reference(), "nats", "auth.conf");
    expect(auth).toContain(
      '{ user: "node-red", password: "{{password.nats-node-red}}", permissions: { publish: { allow: ["events.>"] }, subscribe: { allow: ["_INBOX.>"] } } }',
    );
    expect(auth).not.toContain('user: "iot"');
  });

  it("take subjects from config, and deny everything a list leaves empty", () => {
    const t = topologyFrom(
      bridgeConfig([{ flow: "bridge -> nats:4222", permissions: { subjects: { publish: ["sensors.*.state"] } } }]),
    );
    expect(template(t, "nats", "auth.conf")).toContain(
      '{ user: "bridge", password: "{{password.nats-bridge}}", permissions: { publish: { allow: ["sensors.*.state"] }, subscribe: { deny: [">"] } } }',
    );
  });

  it("admit nobody when no flow reaches the server", () => {
    const t = reference();
    const withoutFlows: Topology = { ...t, flows: t.flows.filter((f) => f.to !== "nats") };
    const auth = template(withoutFlows, "nats", "auth.conf");
    expect(auth).toContain('{ user: "closed", password: "{{password.nats-closed}}"');
    expect(auth).toContain('publish: { deny: [">"] }, subscribe: { deny: [">"] }');
  });
});

describe("flow permissions in config", () => {
  it("reports every bad permission under its own key, in one run", () => {
    const message = configError(
      bridgeConfig([
        { flow: "bridge -> redis:6379", permissions: { keys: ["~all", "ok:*"], commands: ["flushall"], extra: 1 } },
        { flow: "bridge -> nats:4222", permissions: { subjects: { publish: ["a b"] } } },
        42,
      ]),
    );
    expect(message).toContain("iot-swarm-net:flows[0].permissions.keys[0]: must be a Redis key pattern");
    expect(message).toContain("iot-swarm-net:flows[0].permissions.commands[0]: must be a Redis ACL command rule");
    expect(message).toContain("iot-swarm-net:flows[0].permissions.extra: unknown config key");
    expect(message).toContain("iot-swarm-net:flows[1].permissions.subjects.publish[0]: must be a NATS subject");
    expect(message).toContain('iot-swarm-net:flows[2]: must be "client -> server:port" or');
    expect(message).not.toContain("iot-swarm-net:flows[0].permissions.keys[1]");
  });

  it("reports permissions that do not fit the server, and a granted dangerous command", () => {
    const message = configError(
      bridgeConfig([
        {
          flow: "bridge -> redis:6379",
          permissions: { subjects: { publish: ["x"] }, commands: ["+@read", "+config|get"] },
        },
        { flow: "bridge -> nats:4222", permissions: { keys: ["x:*"] } },
        { flow: "bridge -> influxdb:8086", permissions: { keys: ["x:*"] } },
      ]),
    );
    expect(message).toContain("iot-swarm-net:flows[0].permissions.subjects: redis is Redis");
    expect(message).toContain("iot-swarm-net:flows[0].permissions.commands[1]: +config|get grants a dangerous command");
    expect(message).not.toContain("commands[0]");
    expect(message).toContain("iot-swarm-net:flows[1].permissions.keys: nats is NATS");
    expect(message).toContain('iot-swarm-net:flows[2].permissions: "bridge -> influxdb:8086" reaches no Redis or NATS');
  });

  it("reports InfluxDB permissions under their keys: bad values, wrong server, wrong kind", () => {
    const message = configError(
      bridgeConfig([
        { flow: "grafana -> influxdb:8086", permissions: { access: "admin", bucket: "a b" } },
        { flow: "node-red -> influxdb:8086", permissions: { keys: ["x:*"], subjects: { publish: ["x"] } } },
        { flow: "bridge -> redis:6379", permissions: { bucket: "telemetry", access: "read" } },
      ]),
    );
    expect(message).toContain('iot-swarm-net:flows[0].permissions.access: must be "read", "write" or "read-write"');
    expect(message).toContain("iot-swarm-net:flows[0].permissions.bucket: must be an InfluxDB bucket name");
    const second = configError(
      bridgeConfig([
        { flow: "node-red -> influxdb:8086", permissions: { keys: ["x:*"], subjects: { publish: ["x"] } } },
        { flow: "bridge -> redis:6379", permissions: { bucket: "telemetry", access: "read" } },
      ]),
    );
    expect(second).toContain("iot-swarm-net:flows[0].permissions.keys: influxdb is InfluxDB: give bucket and access");
    expect(second).toContain("iot-swarm-net:flows[0].permissions.subjects: influxdb is InfluxDB");
    expect(second).toContain("iot-swarm-net:flows[1].permissions.bucket: redis is Redis: bucket scopes only InfluxDB");
    expect(second).toContain("iot-swarm-net:flows[1].permissions.access: redis is Redis");
  });
  it("reports one flow given two different permissions, naming the second", () => {
    const message = configError(
      bridgeConfig([
        { flow: "bridge -> redis:6379", permissions: { keys: ["a:*"] } },
        "bridge -> redis:6379",
        { flow: "bridge->redis : 6379", permissions: { keys: ["b:*"] } },
      ]),
    );
    expect(message).toContain(
      "iot-swarm-net:flows[2].permissions: flows[0] already gives bridge -> redis:6379 other permissions",
    );
    expect(message).not.toContain("flows[1]");
  });
});

describe("rotating one flow's password", () => {
  /** Every file's rendered content, with a password that changes with its rotation generation. */
  const rendered = (t: Topology) => {
    const out = new Map<string, string>();
    for (const s of t.services) {
      for (const f of serviceFiles(t, s).files) {
        const refs = placeholders(f.template);
        const value = (i: number) => `${refs[i].kind}:${refs[i].name}:${t.rotations[refs[i].name] ?? "0"}`;
        out.set(`${s.name}/${f.name}`, fillPlaceholders(f.template, value));
      }
    }
    return out;
  };

  it("changes only that client's InfluxDB password file and InfluxDB's copy of it, not the start script", () => {
    const before = rendered(reference());
    const after = rendered(topologyFrom({ ...dev, rotations: { "influxdb-grafana": 2 } }));
    const changed = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
    expect(changed.sort()).toEqual(["grafana/influxdb-password", "influxdb/user-grafana-password"]);
  });

  it("changes only that client's secret and the server's users", () => {
    const before = rendered(reference());
    const after = rendered(topologyFrom({ ...dev, rotations: { "redis-node-red": 2 } }));
    expect([...after.keys()]).toEqual([...before.keys()]);
    expect([...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k)).toEqual([
      "node-red/redis-password",
      "redis/users.acl",
    ]);
  });
});
