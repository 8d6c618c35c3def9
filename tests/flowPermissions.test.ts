/**
 * Flow permissions that do not fit their server (model/validateIdentity.ts): each reported under its own config
 * key with a message saying what the server takes instead; a granted dangerous Redis command refused. Each case
 * starts from a valid stack and changes one flow's permissions.
 */
import { parseStackConfig } from "../model/config";
import { resolveTopology } from "../model/resolve";
import { checkFlowPermissions } from "../model/validateIdentity";
import { bridgeConfig, configError } from "./helpers";

/** The problems loading the config reports, each `key: message` without the namespace. */
const problems = (flows: unknown[]): string[] =>
  configError(bridgeConfig(flows))
    .split("\n")
    .filter((l) => l.trim().startsWith("- "))
    .map((l) =>
      l
        .trim()
        .slice(2)
        .replace(/^iot-swarm-net:/, ""),
    );

describe("permissions that fit their server", () => {
  it("load without problems: Redis keys and commands, NATS subjects, InfluxDB bucket and access", () => {
    expect(
      configError(
        bridgeConfig([
          { flow: "bridge -> redis:6379", permissions: { keys: ["s:*"], commands: ["+@read", "+set", "-del"] } },
          { flow: "bridge -> nats:4222", permissions: { subjects: { publish: ["a.>"], subscribe: ["b.>"] } } },
          { flow: "grafana -> influxdb:8086", permissions: { bucket: "fleet", access: "read" } },
        ]),
      ),
    ).toBe("");
  });

  it("may deny dangerous commands, and grant subcommands of safe ones", () => {
    const commands = ["-flushall", "-@admin", "-@dangerous", "-config|set", "+object|encoding"];
    expect(problems([{ flow: "bridge -> redis:6379", permissions: { commands } }])).toEqual([]);
  });

  it("may be repeated with a flow when they are the same", () => {
    const same = { flow: "bridge -> redis:6379", permissions: { keys: ["a:*"] } };
    expect(problems(["bridge -> redis:6379", same, same])).toEqual([]);
  });
});

describe("a granted dangerous Redis command", () => {
  // Redis's own @dangerous and @admin categories and the commands in them that an application could misuse.
  const dangerous = [
    "@dangerous",
    "@admin",
    "acl",
    "bgrewriteaof",
    "bgsave",
    "client",
    "cluster",
    "config",
    "debug",
    "failover",
    "flushall",
    "flushdb",
    "keys",
    "migrate",
    "module",
    "monitor",
    "psync",
    "replicaof",
    "restore",
    "save",
    "shutdown",
    "slaveof",
    "sync",
  ];

  it("is refused under its own key, each of them, beside a safe rule that is not", () => {
    const commands = ["+get", ...dangerous.map((c) => `+${c}`)];
    const found = problems([{ flow: "bridge -> redis:6379", permissions: { commands } }]);
    expect(found).toEqual(
      dangerous.map(
        (c, j) =>
          `flows[0].permissions.commands[${j + 1}]: +${c} grants a dangerous command; ` +
          "application clients never get @dangerous",
      ),
    );
  });

  it("is refused whatever its case: Redis command names are case-insensitive", () => {
    const raw = bridgeConfig([{ flow: "bridge -> redis:6379", permissions: { commands: ["+get"] } }]);
    const encoded = Object.fromEntries(
      Object.entries(raw).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    );
    const config = parseStackConfig(encoded);
    const t = resolveTopology(config);
    const upper = {
      ...config,
      flows: config.flows.map((f) => ({ ...f, permissions: { commands: ["+FLUSHALL", "+Config|Get", "+GET"] } })),
    };
    const reported: string[] = [];
    checkFlowPermissions(upper, t, (path) => reported.push(path.join(".")));
    expect(reported).toEqual(["flows.0.permissions.commands.0", "flows.0.permissions.commands.1"]);
  });
});

describe("permissions of the wrong kind", () => {
  it("on a flow to NATS: Redis keys and commands, InfluxDB bucket and access", () => {
    expect(
      problems([
        { flow: "bridge -> nats:4222", permissions: { keys: ["a:*"], commands: ["+get"] } },
        { flow: "bridge -> redis:6379", permissions: { keys: ["a:*"] } },
      ]),
    ).toEqual([
      "flows[0].permissions.keys: nats is NATS: give subjects, not Redis key patterns",
      "flows[0].permissions.commands: nats is NATS: give subjects, not Redis commands",
    ]);
    expect(problems([{ flow: "bridge -> nats:4222", permissions: { bucket: "fleet", access: "read" } }])).toEqual([
      "flows[0].permissions.bucket: nats is NATS: bucket scopes only InfluxDB identities",
      "flows[0].permissions.access: nats is NATS: access scopes only InfluxDB identities",
    ]);
  });

  it("on a flow to Redis: NATS subjects, InfluxDB bucket and access", () => {
    expect(
      problems([
        {
          flow: "bridge -> redis:6379",
          permissions: { subjects: { publish: ["a"] }, bucket: "fleet", access: "write" },
        },
      ]),
    ).toEqual([
      "flows[0].permissions.subjects: redis is Redis: give keys and commands, not NATS subjects",
      "flows[0].permissions.bucket: redis is Redis: bucket scopes only InfluxDB identities",
      "flows[0].permissions.access: redis is Redis: access scopes only InfluxDB identities",
    ]);
  });

  it("on a flow to InfluxDB: NATS subjects, Redis keys and commands, and no command is judged there", () => {
    expect(
      problems([
        {
          flow: "grafana -> influxdb:8086",
          permissions: { subjects: { publish: ["a"] }, keys: ["a:*"], commands: ["+flushall"] },
        },
      ]),
    ).toEqual([
      "flows[0].permissions.subjects: influxdb is InfluxDB: give bucket and access, not NATS subjects",
      "flows[0].permissions.keys: influxdb is InfluxDB: give bucket and access, not Redis keys",
      "flows[0].permissions.commands: influxdb is InfluxDB: give bucket and access, not Redis commands",
    ]);
  });
});

describe("permissions on a flow that carries no password identity", () => {
  const refused = (flow: string) =>
    `flows[0].permissions: "${flow}" reaches no Redis or NATS client port, nor InfluxDB's API from a client that ` +
    "presents InfluxDB credentials; permissions scope only identities on those servers";

  it.each([
    ["NATS's monitoring port", "bridge -> nats:8222"],
    ["the broker, whose clients hold certificates", "node-red -> mosquitto:8883"],
    ["InfluxDB from a client that presents no InfluxDB credentials", "bridge -> influxdb:8086"],
  ])("are refused as a whole on %s, and nothing in them is judged further", (_, flow) => {
    expect(problems([{ flow, permissions: { keys: ["a:*"], commands: ["+flushall"], bucket: "x" } }])).toEqual([
      refused(flow),
    ]);
  });

  it("are not judged on a flow to a service that does not exist (that flow is reported instead)", () => {
    expect(problems([{ flow: "bridge -> nowhere:6379", permissions: { commands: ["+flushall"] } }])).toEqual([
      'flows[0]: unknown service "nowhere" in "bridge -> nowhere:6379"',
    ]);
  });

  it("are refused as a whole on a flow from a service that does not exist: it holds no identity", () => {
    for (const flow of ["nobody -> redis:6379", "nobody -> influxdb:8086"])
      expect(problems([{ flow, permissions: { keys: ["a:*"], commands: ["+flushall"] } }])).toEqual([
        `flows[0]: unknown service "nobody" in "${flow}"`,
        refused(flow),
      ]);
  });
});
