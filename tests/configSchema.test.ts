/**
 * The stack config schema on its own (model/config.ts): each limit accepted at its bound and rejected one past
 * it, with the config key and message the user sees, each default, and how raw Pulumi values are decoded.
 * Only the schema runs here (no merge, validation or planning), and every fixture is built inside its test.
 */
import {
  configKey,
  decodeConfigValues,
  parseStackConfig,
  SECRET_CONFIG_KEYS,
  StackConfig,
  StackConfigError,
} from "../model/config";

/** The problems the schema reports for these raw values, each as `key: message`; [] when it accepts them. */
function problems(raw: Record<string, unknown>): string[] {
  try {
    parseStackConfig(raw);
    return [];
  } catch (e) {
    if (!(e instanceof StackConfigError)) throw e;
    return e.problems.map((p) => `${p.key}: ${p.message}`);
  }
}

/** The config parsed from the dev environment plus `extra`. */
const parsed = (extra: Record<string, unknown>): StackConfig => parseStackConfig({ environment: "dev", ...extra });
const dev = (extra: Record<string, unknown>) => problems({ environment: "dev", ...extra });
const K = "iot-swarm-net:";

/** A service of its own with one port, as small as the schema accepts. */
const service = (fields: Record<string, unknown>) => ({ services: { svc: fields } });
const portEntry = (fields: Record<string, unknown>) => ({
  name: "web",
  port: 8080,
  appProtocol: "http",
  purpose: "status",
  ...fields,
});

describe("the stack config's defaults", () => {
  it("fills every key the stack does not set", () => {
    expect(parseStackConfig({ environment: "dev" })).toEqual({
      environment: "dev",
      domain: "localhost",
      publishMode: "ingress",
      caproverCoexistence: false,
      subnetPool: "10.231.0.0/16",
      subnetPrefixLength: 24,
      linkSubnetPrefixLength: 26,
      subnets: {},
      lanSubnets: [],
      adminCidrs: ["127.0.0.1/32"],
      tiers: [],
      services: {},
      routes: [],
      pinImageDigests: true,
      platforms: [{ os: "linux", architecture: "amd64" }],
      rotations: {},
      flows: [],
      tls: {
        validityDays: 365,
        earlyRenewalDays: 30,
        caValidityDays: 3650,
        organization: "IoT Swarm",
        mqttClients: ["node-red", "mqtt-exporter"],
      },
      mqtt: {
        requireClientCertificate: true,
        acl: [
          { user: "node-red", access: "read", topic: "devices/#" },
          { user: "node-red", access: "write", topic: "commands/#" },
          { user: "mqtt-exporter", access: "read", topic: "$SYS/#" },
        ],
      },
    });
  });

  it("fills the defaults of a tier, a route, a port and a health check", () => {
    const config = parsed({
      tiers: [{ name: "dmz" }],
      routes: [{ subdomain: "api", service: "api", port: 8000 }],
      ...service({ ports: [portEntry({})], health: { test: ["CMD", "true"] } }),
    });
    expect(config.tiers).toEqual([{ name: "dmz", description: "", attachable: false }]);
    expect(config.routes).toEqual([
      { subdomain: "api", service: "api", port: 8000, admin: true, publicAdminUi: false, purpose: "" },
    ]);
    expect(config.services.svc.ports).toEqual([
      { name: "web", port: 8080, protocol: "tcp", appProtocol: "http", purpose: "status" },
    ]);
    expect(config.services.svc.health).toEqual({
      test: ["CMD", "true"],
      intervalSeconds: 10,
      timeoutSeconds: 5,
      retries: 3,
      startPeriodSeconds: 20,
    });
  });

  it("keeps the values a stack sets over the defaults", () => {
    const config = parsed({
      domain: "iot.example.com",
      publishMode: "host",
      caproverCoexistence: true,
      pinImageDigests: false,
      encryptOverlays: true,
      tiers: [{ name: "dmz", network: "iot-dmz", description: "DMZ", attachable: true }],
      tls: { validityDays: 90, mqttClients: [] },
      mqtt: { requireClientCertificate: false, acl: [] },
    });
    expect(config).toMatchObject({
      domain: "iot.example.com",
      publishMode: "host",
      caproverCoexistence: true,
      pinImageDigests: false,
      encryptOverlays: true,
      tiers: [{ name: "dmz", network: "iot-dmz", description: "DMZ", attachable: true }],
      tls: { validityDays: 90, earlyRenewalDays: 30, mqttClients: [] },
      mqtt: { requireClientCertificate: false, acl: [] },
    });
  });

  it("fills an empty subject list of a flow's permissions", () => {
    const config = parsed({
      flows: [
        { flow: "a -> nats:4222", permissions: { subjects: { publish: ["events.>"] } } },
        { flow: "b -> nats:4222", permissions: { subjects: { subscribe: ["events.>"] } } },
      ],
    });
    expect(config.flows.map((f) => f.permissions?.subjects)).toEqual([
      { publish: ["events.>"], subscribe: [] },
      { publish: [], subscribe: ["events.>"] },
    ]);
  });
});

describe("the stack config's enumerations", () => {
  it.each(["dev", "prod", "e2e"])("accepts the environment %s", (environment) => {
    expect(parseStackConfig({ environment }).environment).toBe(environment);
  });

  it("rejects another environment, and a missing one, naming the choices", () => {
    expect(problems({ environment: "staging" })).toEqual([
      `${K}environment: Invalid option: expected one of "dev"|"prod"|"e2e", but "staging" was provided`,
    ]);
    expect(problems({})).toEqual([`${K}environment: Invalid option: expected one of "dev"|"prod"|"e2e"`]);
  });

  it("accepts each publish mode, endpoint mode, protocol and application protocol", () => {
    expect(parsed({ publishMode: "ingress" }).publishMode).toBe("ingress");
    expect(parsed({ publishMode: "host" }).publishMode).toBe("host");
    for (const endpointMode of ["vip", "dnsrr"]) {
      expect(parsed(service({ endpointMode })).services.svc.endpointMode).toBe(endpointMode);
    }
    for (const protocol of ["tcp", "udp"]) {
      expect(parsed(service({ ports: [portEntry({ protocol })] })).services.svc.ports?.[0].protocol).toBe(protocol);
    }
    for (const appProtocol of ["http", "https", "mqtt", "mqtts", "redis", "nats", "metrics"]) {
      expect(parsed(service({ ports: [portEntry({ appProtocol })] })).services.svc.ports?.[0].appProtocol).toBe(
        appProtocol,
      );
    }
  });

  it("accepts each ACL access and each InfluxDB access", () => {
    for (const access of ["read", "write", "readwrite"]) {
      expect(parsed({ mqtt: { acl: [{ user: "u", access, topic: "t" }] } }).mqtt.acl[0].access).toBe(access);
    }
    for (const access of ["read", "write", "read-write"]) {
      const flows = [{ flow: "a -> influxdb:8086", permissions: { bucket: "telemetry", access } }];
      expect(parsed({ flows }).flows[0].permissions?.access).toBe(access);
    }
  });

  it("rejects an unknown InfluxDB access with its own message", () => {
    const flows = [{ flow: "a -> influxdb:8086", permissions: { access: "rw" } }];
    expect(dev({ flows })).toEqual([
      `${K}flows[0].permissions.access: must be "read", "write" or "read-write", but "rw" was provided`,
    ]);
  });
});

describe("numeric limits", () => {
  it("accepts ports 1 and 65535 and rejects 0 and 65536, naming the range", () => {
    expect(dev(service({ ports: [portEntry({ port: 1, published: 65535 })] }))).toEqual([]);
    expect(dev(service({ ports: [portEntry({ port: 65535, published: 1 })] }))).toEqual([]);
    expect(dev(service({ ports: [portEntry({ port: 0, published: 65536 })] }))).toEqual([
      `${K}services.svc.ports[0].port: must be between 1 and 65535, but 0 was provided`,
      `${K}services.svc.ports[0].published: must be between 1 and 65535, but 65536 was provided`,
    ]);
    expect(dev(service({ publish: { web: 65536, admin: null } }))).toEqual([
      `${K}services.svc.publish.web: must be between 1 and 65535, but 65536 was provided`,
    ]);
    expect(parsed(service({ publish: { web: 2, admin: null } })).services.svc.publish).toEqual({ web: 2, admin: null });
  });

  it("bounds the subnet prefix lengths to /16 to /28", () => {
    expect(parsed({ subnetPrefixLength: 16, linkSubnetPrefixLength: 28 })).toMatchObject({
      subnetPrefixLength: 16,
      linkSubnetPrefixLength: 28,
    });
    expect(parsed({ subnetPrefixLength: 28, linkSubnetPrefixLength: 16 })).toMatchObject({
      subnetPrefixLength: 28,
      linkSubnetPrefixLength: 16,
    });
    expect(dev({ subnetPrefixLength: 15, linkSubnetPrefixLength: 29 })).toEqual([
      `${K}subnetPrefixLength: Too small: expected number to be >=16, but 15 was provided`,
      `${K}linkSubnetPrefixLength: Too big: expected number to be <=28, but 29 was provided`,
    ]);
    expect(dev({ subnetPrefixLength: 29, linkSubnetPrefixLength: 15 })).toEqual([
      `${K}subnetPrefixLength: Too big: expected number to be <=28, but 29 was provided`,
      `${K}linkSubnetPrefixLength: Too small: expected number to be >=16, but 15 was provided`,
    ]);
  });

  it("bounds the health check's fields", () => {
    const health = (fields: Record<string, unknown>) => service({ health: { test: ["CMD", "true"], ...fields } });
    expect(dev(health({ test: ["CMD", "a", "b"], retries: 1, startPeriodSeconds: 0, intervalSeconds: 0.5 }))).toEqual(
      [],
    );
    expect(dev(health({ retries: 2, startPeriodSeconds: 5, timeoutSeconds: 1, httpPath: "/healthz" }))).toEqual([]);
    expect(
      dev(health({ test: ["CMD"], retries: 0, startPeriodSeconds: -1, intervalSeconds: 0, timeoutSeconds: 0 })),
    ).toEqual([
      `${K}services.svc.health.test: Too small: expected array to have >=2 items`,
      `${K}services.svc.health.intervalSeconds: Too small: expected number to be >0, but 0 was provided`,
      `${K}services.svc.health.timeoutSeconds: Too small: expected number to be >0, but 0 was provided`,
      `${K}services.svc.health.retries: Too small: expected number to be >=1, but 0 was provided`,
      `${K}services.svc.health.startPeriodSeconds: Too small: expected number to be >=0, but -1 was provided`,
    ]);
    expect(dev(health({ httpPath: "healthz/" }))).toEqual([
      `${K}services.svc.health.httpPath: Invalid string: must start with "/", but "healthz/" was provided`,
    ]);
  });

  it("bounds a service's resources", () => {
    const resources = (r: Record<string, unknown>) => service({ resources: r });
    expect(dev(resources({ cpus: 64, memoryMb: 16, reservedCpus: 64, reservedMemoryMb: 0 }))).toEqual([]);
    expect(dev(resources({ cpus: 0.25, memoryMb: 17, reservedCpus: 0, reservedMemoryMb: 8 }))).toEqual([]);
    expect(dev(resources({ cpus: 64.5, memoryMb: 15, reservedCpus: 64.5, reservedMemoryMb: -1 }))).toEqual([
      `${K}services.svc.resources.cpus: Too big: expected number to be <=64, but 64.5 was provided`,
      `${K}services.svc.resources.memoryMb: Too small: expected number to be >=16, but 15 was provided`,
      `${K}services.svc.resources.reservedCpus: Too big: expected number to be <=64, but 64.5 was provided`,
      `${K}services.svc.resources.reservedMemoryMb: Too small: expected number to be >=0, but -1 was provided`,
    ]);
    expect(dev(resources({ cpus: 0, reservedCpus: -0.5 }))).toEqual([
      `${K}services.svc.resources.cpus: Too small: expected number to be >0, but 0 was provided`,
      `${K}services.svc.resources.reservedCpus: Too small: expected number to be >=0, but -0.5 was provided`,
    ]);
  });

  it("bounds a service's user and group ids at 0", () => {
    expect(dev(service({ uid: 0, gid: 0 }))).toEqual([]);
    expect(dev(service({ uid: 1000, gid: 1000 }))).toEqual([]);
    expect(dev(service({ uid: -1, gid: -1 }))).toEqual([
      `${K}services.svc.uid: Too small: expected number to be >=0, but -1 was provided`,
      `${K}services.svc.gid: Too small: expected number to be >=0, but -1 was provided`,
    ]);
  });

  it("bounds the certificate validities", () => {
    expect(dev({ tls: { validityDays: 1, earlyRenewalDays: 0, caValidityDays: 30 } })).toEqual([]);
    expect(dev({ tls: { validityDays: 2, earlyRenewalDays: 1, caValidityDays: 3650 } })).toEqual([]);
    expect(dev({ tls: { validityDays: 0, earlyRenewalDays: -1, caValidityDays: 29 } })).toEqual([
      `${K}tls.validityDays: Too small: expected number to be >=1, but 0 was provided`,
      `${K}tls.earlyRenewalDays: Too small: expected number to be >=0, but -1 was provided`,
      `${K}tls.caValidityDays: Too small: expected number to be >=30, but 29 was provided`,
    ]);
    expect(dev({ tls: { caValidityDays: 3651 } })).toEqual([
      `${K}tls.caValidityDays: must be at most 3650 days (10 years), but 3651 was provided`,
    ]);
  });
});

describe("lengths of strings and lists", () => {
  it("requires at least one character of the strings that need one", () => {
    expect(
      dev({
        ...service({ image: "a", ports: [portEntry({ purpose: "p" })], placement: ["x"] }),
        platforms: [{ os: "l", architecture: "a" }],
        rotations: { one: "1", two: 2 },
        tls: { organization: "O", reissue: "x" },
        mqtt: { acl: [{ user: "u", access: "read", topic: "" }] },
      }),
    ).toEqual([]);
    expect(
      dev({
        ...service({ image: "ab", ports: [portEntry({ purpose: "status" })], placement: ["node.role == worker"] }),
        platforms: [{ os: "linux", architecture: "arm64" }],
        rotations: { one: "2026-12" },
        tls: { organization: "Acme", reissue: 3 },
        mqtt: { acl: [{ user: "node-red", access: "read", topic: "t" }] },
      }),
    ).toEqual([]);
    const tooShort = "Too small: expected string to have >=1 characters";
    expect(
      dev({
        ...service({ image: "", ports: [portEntry({ purpose: "" })], placement: [""] }),
        platforms: [{ os: "", architecture: "" }],
        rotations: { one: "" },
        tls: { organization: "", reissue: "" },
        mqtt: { acl: [{ user: "", access: "read", topic: "t" }] },
      }),
    ).toEqual([
      `${K}services.svc.image: ${tooShort}, but "" was provided`,
      `${K}services.svc.ports[0].purpose: ${tooShort}, but "" was provided`,
      `${K}services.svc.placement[0]: ${tooShort}, but "" was provided`,
      `${K}platforms[0].os: ${tooShort}, but "" was provided`,
      `${K}platforms[0].architecture: ${tooShort}, but "" was provided`,
      `${K}rotations.one: ${tooShort}, but "" was provided`,
      `${K}tls.organization: ${tooShort}, but "" was provided`,
      `${K}tls.reissue: ${tooShort}, but "" was provided`,
      `${K}mqtt.acl[0].user: ${tooShort}, but "" was provided`,
    ]);
  });

  it("requires at least one tier of a service and one platform", () => {
    expect(dev(service({ tiers: ["a"] }))).toEqual([]);
    expect(
      dev({
        ...service({ tiers: ["a", "b"] }),
        platforms: [
          { os: "linux", architecture: "amd64" },
          { os: "linux", architecture: "arm64" },
        ],
      }),
    ).toEqual([]);
    expect(dev({ ...service({ tiers: [] }), platforms: [] })).toEqual([
      `${K}services.svc.tiers: Too small: expected array to have >=1 items`,
      `${K}platforms: Too small: expected array to have >=1 items`,
    ]);
  });

  it("accepts whole-number rotation and reissue generations, not fractions", () => {
    expect(parsed({ rotations: { a: 3 }, tls: { reissue: 2 } })).toMatchObject({
      rotations: { a: 3 },
      tls: { reissue: 2 },
    });
    expect(dev({ rotations: { a: 1.5 } })).toHaveLength(1);
  });
});

describe("CIDRs", () => {
  it.each(["1.2.3.4/8", "10.20.30.40/16", "100.200.250.255/32", "0.0.0.0/0"])("accepts the shape of %s", (cidr) => {
    expect(parsed({ lanSubnets: [cidr], adminCidrs: [cidr], subnetPool: cidr, subnets: { n: cidr } })).toMatchObject({
      lanSubnets: [cidr],
      adminCidrs: [cidr],
      subnetPool: cidr,
      subnets: { n: cidr },
    });
  });

  it.each([
    "1000.0.0.0/16",
    "0.1000.0.0/16",
    "0.0.1000.0/16",
    "0.0.0.1000/16",
    ".0.0.0/16",
    "0..0.0/16",
    "0.0..0/16",
    "0.0.0./16",
    "0.0.0.0/",
    "0.0.0.0/100",
    "0.0.0.0",
    "x10.0.0.0/16",
    "10.0.0.0/16x",
    "a.b.c.d/e",
  ])("rejects %s under each key that holds a CIDR", (cidr) => {
    const message = `must be an IPv4 CIDR such as 10.20.0.0/16, but ${JSON.stringify(cidr)} was provided`;
    expect(dev({ lanSubnets: [cidr], adminCidrs: [cidr], subnetPool: cidr, subnets: { n: cidr } })).toEqual([
      `${K}subnetPool: ${message}`,
      `${K}subnets.n: ${message}`,
      `${K}lanSubnets[0]: ${message}`,
      `${K}adminCidrs[0]: ${message}`,
    ]);
  });
});

describe("DNS names and labels", () => {
  const label63 = (first: string) => first + "b".repeat(61) + "c";

  it.each([
    "a",
    "a0",
    "0a",
    "ab",
    "a-0",
    "0-a",
    "a0b",
    "a-b",
    "a--b",
    "x.y",
    "x.0",
    "x.a0",
    "x.0a",
    "x.a-b",
    "x.9-8",
    "x.a9b",
    "a.b.c",
    "iot.example.com",
  ])("accepts the DNS name %s", (domain) => {
    expect(parsed({ domain }).domain).toBe(domain);
  });

  it("accepts labels of 63 characters and names of 253", () => {
    expect(dev({ domain: label63("a") })).toEqual([]);
    expect(dev({ domain: `x.${label63("a")}` })).toEqual([]);
    const name253 = [label63("a"), label63("b"), label63("c"), "d".repeat(61)].join(".");
    expect(name253).toHaveLength(253);
    expect(dev({ domain: name253 })).toEqual([]);
  });

  it.each([
    ["a label of 64 characters", "a" + "b".repeat(62) + "c"],
    ["a second label of 64 characters", "x." + "a" + "b".repeat(62) + "c"],
    ["a name of 254 characters", ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(62)].join(".")],
    ["an empty name", ""],
    ["a leading hyphen", "-a"],
    ["a trailing hyphen", "a-"],
    ["a second label's leading hyphen", "x.-a"],
    ["a second label's trailing hyphen", "x.a-"],
    ["capitals", "A"],
    ["an underscore", "a_b"],
    ["an empty label", "a..b"],
    ["a trailing dot", "a."],
    ["a leading dot", ".a"],
    ["a space", "a b"],
  ])("rejects %s as a DNS name", (_label, domain) => {
    expect(dev({ domain, tls: { mqttHostname: domain }, ...service({ stateNode: domain }) })).toEqual([
      `${K}domain: must be a lower-case DNS name, but ${JSON.stringify(domain)} was provided`,
      `${K}services.svc.stateNode: must be a lower-case DNS name, but ${JSON.stringify(domain)} was provided`,
      `${K}tls.mqttHostname: must be a lower-case DNS name, but ${JSON.stringify(domain)} was provided`,
    ]);
  });

  it.each(["a", "ab", "a0", "a-0", "a0b", "a-b", "aab", "z9"])("accepts the DNS label %s", (name) => {
    expect(dev({ tiers: [{ name }], tls: { mqttClients: [name] } })).toEqual([]);
  });

  it("accepts labels of 63 characters", () => {
    expect(dev({ tiers: [{ name: label63("a") }] })).toEqual([]);
  });

  it.each([
    ["64 characters", "a" + "b".repeat(62) + "c"],
    ["a leading digit", "0a"],
    ["a leading hyphen", "-a"],
    ["a trailing hyphen", "a-"],
    ["capitals", "A"],
    ["an underscore", "a_b"],
    ["a dot", "a.b"],
    ["nothing", ""],
  ])("rejects a DNS label of %s, under each key that takes one", (_label, name) => {
    const message = `must be a lower-case DNS label (a-z, 0-9, -; not ending in -), but ${JSON.stringify(name)} was provided`;
    expect(
      dev({
        tiers: [{ name, network: name }],
        routes: [{ subdomain: name, service: name, port: 80 }],
        ...service({
          tiers: [name],
          role: name,
          ports: [portEntry({ name })],
          externalEndpoints: [{ name, host: "db.example.com", port: 5432 }],
        }),
        tls: { mqttClients: [name] },
      }),
    ).toEqual([
      `${K}tiers[0].name: ${message}`,
      `${K}tiers[0].network: ${message}`,
      `${K}services.svc.tiers[0]: ${message}`,
      `${K}services.svc.role: ${message}`,
      `${K}services.svc.ports[0].name: ${message}`,
      `${K}services.svc.externalEndpoints[0].name: ${message}`,
      `${K}routes[0].subdomain: ${message}`,
      `${K}routes[0].service: ${message}`,
      `${K}tls.mqttClients[0]: ${message}`,
    ]);
  });

  it("checks an external endpoint's host and port", () => {
    const endpoint = (host: string, port: number) => service({ externalEndpoints: [{ name: "db", host, port }] });
    expect(parsed(endpoint("db.example.com", 5432)).services.svc.externalEndpoints).toEqual([
      { name: "db", host: "db.example.com", port: 5432 },
    ]);
    expect(dev(endpoint("DB", 0))).toEqual([
      `${K}services.svc.externalEndpoints[0].host: must be a lower-case DNS name, but "DB" was provided`,
      `${K}services.svc.externalEndpoints[0].port: must be between 1 and 65535, but 0 was provided`,
    ]);
  });
});

describe("a flow's permissions", () => {
  const withPermissions = (permissions: Record<string, unknown>) => ({
    flows: [{ flow: "a -> b:1", permissions }],
  });
  const subjects = (publish: string[], subscribe: string[] = []) =>
    withPermissions({ subjects: { publish, subscribe } });

  it("takes a flow as text or as an object, and nothing else", () => {
    expect(parsed({ flows: ["a -> b:1", { flow: "c -> d:2" }] }).flows).toEqual([
      { flow: "a -> b:1" },
      { flow: "c -> d:2" },
    ]);
    const shape = 'must be "client -> server:port" or { flow: "client -> server:port", permissions: {...} }';
    expect(dev({ flows: [42, "ok -> x:1", true] })).toEqual([
      `${K}flows[0]: ${shape}, but 42 was provided`,
      `${K}flows[2]: ${shape}, but true was provided`,
    ]);
    expect(dev({ flows: [{ flow: "a -> b:1", permission: {} }] })).toEqual([
      `${K}flows[0].permission: unknown config key`,
    ]);
  });

  it.each([
    ">",
    "a",
    "*",
    "ab",
    "sensors",
    "a.b",
    "a.bc",
    "a.*",
    "*.a",
    "*.*",
    "a.>",
    "a.b.>",
    "*.>",
    "a.b.c",
    "sensors.*.state",
    "events.>",
    "a-b_c:d",
  ])("accepts the NATS subject %s", (subject) => {
    expect(dev(subjects([subject], [subject]))).toEqual([]);
  });

  it.each([
    "",
    "a.",
    ".a",
    "a..b",
    "a.b..c",
    ">.a",
    ">>",
    "a.>.b",
    "a.>b",
    "a b",
    "a\tb",
    "a.b c",
    " a",
    "a*",
    "*a",
    "a.b*",
    "a.*b",
    "a>",
    "a.b>",
    'a"',
    'a.b"',
    "a'",
    "a.b'",
    "a\\",
    "a.b\\",
  ])("rejects the NATS subject %j", (subject) => {
    const message = `must be a NATS subject such as events.> or sensors.*.state, but ${JSON.stringify(subject)} was provided`;
    expect(dev(subjects(["ok"], [subject]))).toEqual([`${K}flows[0].permissions.subjects.subscribe[0]: ${message}`]);
    expect(dev(subjects([subject]))).toEqual([`${K}flows[0].permissions.subjects.publish[0]: ${message}`]);
  });

  it.each(["sensors:*", "a", "ab", "a~b", "a%", "a&", "*", "0"])("accepts the Redis key pattern %s", (key) => {
    expect(parsed(withPermissions({ keys: [key] })).flows[0].permissions?.keys).toEqual([key]);
  });

  it.each(["", "~a", "%a", "&a", " a", "\ta", "a b", "a\tb", "ab "])("rejects the Redis key pattern %j", (key) => {
    expect(dev(withPermissions({ keys: ["ok", key] }))).toEqual([
      `${K}flows[0].permissions.keys[1]: must be a Redis key pattern such as sensors:* (no spaces, no ~), but ${JSON.stringify(key)} was provided`,
    ]);
  });

  it.each(["+@read", "-@dangerous", "+@a", "+a", "-a", "+get", "-del", "+client|kill", "+a|b"])(
    "accepts the Redis ACL rule %s",
    (rule) => {
      expect(parsed(withPermissions({ commands: [rule] })).flows[0].permissions?.commands).toEqual([rule]);
    },
  );

  it.each([
    "",
    "@read",
    "get",
    "+",
    "-",
    "+@",
    "+@Read",
    "+Get",
    "*get",
    "+1get",
    "+g1",
    "+@read x",
    "x+get",
    "+get!",
    "+|a",
    "++get",
    "+@re|ad",
  ])("rejects the Redis ACL rule %j", (rule) => {
    expect(dev(withPermissions({ commands: [rule] }))).toEqual([
      `${K}flows[0].permissions.commands[0]: must be a Redis ACL command rule such as +@read, +get or -del, but ${JSON.stringify(rule)} was provided`,
    ]);
  });

  it.each(["a", "A", "0", "aA", "aa", "a0", "a_", "a.", "a-", "Tele_metry.v1-x", "a".repeat(63)])(
    "accepts the InfluxDB bucket %s",
    (bucket) => {
      expect(parsed(withPermissions({ bucket })).flows[0].permissions?.bucket).toBe(bucket);
    },
  );

  it.each(["", "_a", ".a", "-a", "a b", "a/b", "a".repeat(64), " a", "a "])(
    "rejects the InfluxDB bucket %j",
    (bucket) => {
      expect(dev(withPermissions({ bucket }))).toEqual([
        `${K}flows[0].permissions.bucket: must be an InfluxDB bucket name such as telemetry (letters, digits, _ . -), but ${JSON.stringify(bucket)} was provided`,
      ]);
    },
  );
});

describe("the bring-your-own CA", () => {
  const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const key = "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n";

  it("accepts a PEM certificate and key", () => {
    expect(parsed({ caCertPem: cert, caKeyPem: key })).toMatchObject({ caCertPem: cert, caKeyPem: key });
  });

  it("rejects a certificate that does not start as PEM, showing the value", () => {
    expect(dev({ caCertPem: `x${cert}` })).toEqual([
      `${K}caCertPem: must be a PEM certificate, but ${JSON.stringify(`x${cert}`)} was provided`,
    ]);
  });

  it("rejects a key without a private key block, never showing the value", () => {
    expect(dev({ caKeyPem: "-----BEGIN PUBLIC KEY-----\nMFkw" })).toEqual([
      `${K}caKeyPem: must be a PEM private key (the value is secret and not shown)`,
    ]);
  });

  it("never shows key material under a key that is not secret", () => {
    expect(dev({ caCertPem: key })).toEqual([
      `${K}caCertPem: must be a PEM certificate (the value is secret and not shown)`,
    ]);
    expect(dev({ domain: "PRIVATE KEY" })).toEqual([
      `${K}domain: must be a lower-case DNS name (the value is secret and not shown)`,
    ]);
  });

  it("marks only caKeyPem secret", () => {
    expect([...SECRET_CONFIG_KEYS]).toEqual(["caKeyPem"]);
  });
});

describe("problems and their keys", () => {
  it("names every unknown key, at the top and below it", () => {
    expect(dev({ subnetpool: "10.1.0.0/16", services: { grafana: { replica: 2, imag: "x" } } })).toEqual([
      `${K}services.grafana.replica, imag: unknown config key`,
      `${K}subnetpool: unknown config key`,
    ]);
  });

  it("shows the offending value only when it is not an object or list", () => {
    expect(dev({ tiers: [[]], services: { a: null }, tls: "x", rotations: { a: true } })).toEqual([
      `${K}tiers[0]: Invalid input: expected object, received array`,
      `${K}services.a: Invalid input: expected object, received null`,
      `${K}rotations.a: Invalid input, but true was provided`,
      `${K}tls: Invalid input: expected object, received string, but "x" was provided`,
    ]);
  });

  it("counts the problems in the error's first line and lists each under it", () => {
    const one = new StackConfigError([{ key: "iot-swarm-net:a", message: "is bad" }]);
    expect(one.message).toBe("Invalid stack config (1 problem):\n  - iot-swarm-net:a: is bad");
    expect(one.name).toBe("StackConfigError");
    expect(one).toBeInstanceOf(Error);
    const two = new StackConfigError([
      { key: "k1", message: "m1" },
      { key: "k2", message: "m2" },
    ]);
    expect(two.message).toBe("Invalid stack config (2 problems):\n  - k1: m1\n  - k2: m2");
    expect(two.problems).toEqual([
      { key: "k1", message: "m1" },
      { key: "k2", message: "m2" },
    ]);
  });

  it("throws a StackConfigError whose message lists the schema's problems", () => {
    expect(() => parseStackConfig({ environment: "dev", domain: "A" })).toThrow(
      new StackConfigError([{ key: `${K}domain`, message: 'must be a lower-case DNS name, but "A" was provided' }]),
    );
  });

  it("writes a config key with the namespace, list indexes in brackets and fields after dots", () => {
    expect(configKey(["flows", 0, "permissions", "keys", 12])).toBe("iot-swarm-net:flows[0].permissions.keys[12]");
    expect(configKey(["services", "grafana", "env", "A"])).toBe("iot-swarm-net:services.grafana.env.A");
    expect(configKey(["subnetPool"])).toBe("iot-swarm-net:subnetPool");
    expect(configKey([])).toBe("iot-swarm-net:");
  });
});

describe("raw values as Pulumi passes them", () => {
  it("decodes JSON objects, lists, numbers and booleans, trimmed", () => {
    expect(
      decodeConfigValues({
        o: ' {"a": 1} ',
        l: "[1, 2]\n",
        n: " 42 ",
        neg: "-3",
        f: "1.25",
        nf: "-0.5",
        t: "true",
        fa: " false",
        already: 7,
        obj: { x: 1 },
      }),
    ).toEqual({
      o: { a: 1 },
      l: [1, 2],
      n: 42,
      neg: -3,
      f: 1.25,
      nf: -0.5,
      t: true,
      fa: false,
      already: 7,
      obj: { x: 1 },
    });
  });

  it("keeps text that only looks like JSON, untrimmed", () => {
    const text = {
      bad: " {bad",
      list: "[1,",
      exp: "1e5",
      hex: "0x10",
      dot: "1.",
      lead: ".5",
      trail: "5a",
      word: "a5",
      nul: "null",
      str: '"quoted"',
      bracketed: '"[x]"',
      plus: "+1",
      name: "dev",
      truthy: "True",
    };
    // A copy goes in, so a decoder that rewrote its input in place could not pass by returning it.
    expect(decodeConfigValues({ ...text })).toEqual(text);
  });

  it("parses decoded values, so JSON strings and objects give the same config", () => {
    const fromStrings = parseStackConfig({
      environment: "prod",
      subnetPrefixLength: "20",
      caproverCoexistence: "true",
      tiers: '[{"name": "dmz"}]',
    });
    expect(fromStrings).toMatchObject({
      environment: "prod",
      subnetPrefixLength: 20,
      caproverCoexistence: true,
      tiers: [{ name: "dmz", description: "", attachable: false }],
    });
  });
});
