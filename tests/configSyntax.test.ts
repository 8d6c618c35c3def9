/**
 * The small grammars stack config values must follow, each tested on its own: Docker image references
 * (model/imageRef.ts), MQTT topic filters (model/topicFilter.ts), flows (model/flows.ts), and the settings
 * accepted but warned about in production (model/warnings.ts).
 */
import { flowProblems, parseFlow } from "../model/flows";
import { parseImageRef } from "../model/imageRef";
import { topicFilterProblem } from "../model/topicFilter";
import { ServiceSpec, Topology } from "../model/types";
import { productionWarnings } from "../model/warnings";

const hex = (n: number, digit = "a") => digit.repeat(n);

describe("Docker image references", () => {
  it.each([
    ["a", { path: "a" }],
    ["a0", { path: "a0" }],
    ["0", { path: "0" }],
    ["grafana/grafana:11.2.0", { path: "grafana/grafana", tag: "11.2.0" }],
    ["a:A", { path: "a", tag: "A" }],
    ["a:_", { path: "a", tag: "_" }],
    ["a:0", { path: "a", tag: "0" }],
    ["a:z", { path: "a", tag: "z" }],
    ["a:1.2-3_4", { path: "a", tag: "1.2-3_4" }],
    ["a:x.Y", { path: "a", tag: "x.Y" }],
    ["a.b", { path: "a.b" }],
    ["localhost", { path: "localhost" }],
    ["localhost/app", { domain: "localhost", path: "app" }],
    ["localhost:5000/app:1", { domain: "localhost:5000", path: "app", tag: "1" }],
    ["a.b/c", { domain: "a.b", path: "c" }],
    ["a:1/c", { domain: "a:1", path: "c" }],
    ["ab/c", { path: "ab/c" }],
    ["Registry.Local:5000/team/app:1.2", { domain: "Registry.Local:5000", path: "team/app", tag: "1.2" }],
    ["a-b.c/app", { domain: "a-b.c", path: "app" }],
    ["a.c-d9/app", { domain: "a.c-d9", path: "app" }],
    ["A0.Z9/app", { domain: "A0.Z9", path: "app" }],
    ["x.y.z/app", { domain: "x.y.z", path: "app" }],
    ["[::1]:5000/app", { domain: "[::1]:5000", path: "app" }],
    ["[fe80::A1.2]/app", { domain: "[fe80::A1.2]", path: "app" }],
    ["10.0.0.5:5000/app", { domain: "10.0.0.5:5000", path: "app" }],
    ["a/b/c", { path: "a/b/c" }],
    ["ab.cd", { path: "ab.cd" }],
    ["a.0", { path: "a.0" }],
    ["a_b", { path: "a_b" }],
    ["a__b", { path: "a__b" }],
    ["a-b", { path: "a-b" }],
    ["a--b", { path: "a--b" }],
    ["a.bc", { path: "a.bc" }],
    ["a.b.c", { path: "a.b.c" }],
    ["a-b_c.d", { path: "a-b_c.d" }],
  ])("reads %s", (text, ref) => {
    expect(parseImageRef(text)).toEqual(ref);
  });

  it("reads a digest of each algorithm Docker verifies, with or without a tag", () => {
    expect(parseImageRef(`a@sha256:${hex(64)}`)).toEqual({ path: "a", digest: `sha256:${hex(64)}` });
    expect(parseImageRef(`a:1@sha512:${hex(128, "0")}`)).toEqual({
      path: "a",
      tag: "1",
      digest: `sha512:${hex(128, "0")}`,
    });
    expect(parseImageRef(`r.io:5000/a/b:1@sha256:${"0123456789abcdef".repeat(4)}`)).toEqual({
      domain: "r.io:5000",
      path: "a/b",
      tag: "1",
      digest: `sha256:${"0123456789abcdef".repeat(4)}`,
    });
  });

  it.each([
    `sha256:${hex(63)}`,
    `sha256:${hex(65)}`,
    `sha512:${hex(64)}`,
    `sha256:${hex(64, "A")}`,
    `sha256:${hex(63)}g`,
    `md5:${hex(32)}`,
    // An algorithm without a known length must not build a pattern of its own.
    "md5:a{undefined}",
    "sha256",
    `sha256:${hex(64)}:extra`,
    `:${hex(64)}`,
    "",
  ])("refuses the digest %s", (digest) => {
    expect(parseImageRef(`a:1@${digest}`)).toBe(
      `the digest must be sha256:<64 hex digits> (or sha512:<128>), not "${digest}"`,
    );
  });

  it.each(["", ".x", "-x", "a b", hex(129, "t")])("refuses the tag %j", (tag) => {
    expect(parseImageRef(`app:${tag}`)).toBe(
      `the tag "${tag}" is not a Docker tag (letters, digits, _ . -, at most 128)`,
    );
  });

  it("accepts a tag of 128 characters", () => {
    expect(parseImageRef(`app:${hex(128, "t")}`)).toEqual({ path: "app", tag: hex(128, "t") });
  });

  it("refuses an empty repository name", () => {
    expect(parseImageRef("")).toBe("the repository name is empty");
    expect(parseImageRef(":1")).toBe("the repository name is empty");
    expect(parseImageRef(`@sha256:${hex(64)}`)).toBe("the repository name is empty");
  });

  it("accepts a name of 255 characters and refuses one of 256", () => {
    const name255 = `r.io/${"a".repeat(250)}`;
    expect(parseImageRef(`${name255}:1`)).toEqual({ domain: "r.io", path: "a".repeat(250), tag: "1" });
    expect(parseImageRef(`${name255}b:1`)).toBe("the repository name is longer than 255 characters");
  });

  it.each(["-a.c", "a-.c", "a..c", ".a", "a.", "a.c:", "a.c:x", "a.c:5000:1", "a_b.c", "[::1", "[]:1", "[g::1]"])(
    "refuses the registry %s",
    (domain) => {
      expect(parseImageRef(`${domain}/app:1`)).toBe(
        `the registry "${domain}" is not a host name with an optional port`,
      );
    },
  );

  it("refuses capitals in the repository, whatever its first part", () => {
    expect(parseImageRef("Grafana/grafana:1")).toBe('the repository "Grafana/grafana" must be lower-case');
    expect(parseImageRef("r.io/team/App:1")).toBe('the repository "team/App" must be lower-case');
    expect(parseImageRef("A")).toBe('the repository "A" must be lower-case');
  });

  it.each([
    ["a___b", "a___b"],
    ["a..b", "a..b"],
    ["a.", "a."],
    [".a", ".a"],
    ["a-", "a-"],
    ["-a", "-a"],
    ["_a", "_a"],
    ["a._b", "a._b"],
    ["a.-b", "a.-b"],
    ["a/b!", "b!"],
    ["a//b", ""],
    ["x.io/a b", "a b"],
  ])("refuses the repository %s, naming the part %j", (path, bad) => {
    expect(parseImageRef(`${path}:1`)).toBe(
      `the repository part "${bad}" must be lower-case letters and digits, joined by ".", "_", "__" or "-"`,
    );
  });
});

describe("MQTT topic filters", () => {
  it.each(["#", "+", "a", "a/#", "a/+", "+/+", "+/+/#", "devices/+/state", "/a", "a//b", "$SYS/#", "é"])(
    "accepts %s",
    (filter) => {
      expect(topicFilterProblem(filter)).toBeUndefined();
    },
  );

  it("refuses an empty filter, NUL and line breaks", () => {
    expect(topicFilterProblem("")).toBe("must not be empty");
    expect(topicFilterProblem("a\u0000b")).toBe("must not contain the NUL character");
    expect(topicFilterProblem("a\nb")).toBe("must not contain a line break");
    expect(topicFilterProblem("a\rb")).toBe("must not contain a line break");
  });

  it("accepts 65535 bytes and refuses 65536, counting UTF-8 bytes", () => {
    expect(topicFilterProblem("a".repeat(65535))).toBeUndefined();
    expect(topicFilterProblem("a".repeat(65536))).toBe("must be at most 65535 bytes");
    expect(topicFilterProblem("é".repeat(32768))).toBe("must be at most 65535 bytes");
    expect(topicFilterProblem(`${"é".repeat(32767)}a`)).toBeUndefined();
  });

  it.each(["#/a", "a/#/b", "a#", "#a", "a/b#", "##"])("refuses # elsewhere than alone in the last level: %s", (f) => {
    expect(topicFilterProblem(f)).toBe(
      `"#" must be the last level and alone in it (e.g. "devices/#"), but "${f}" was provided`,
    );
  });

  it.each(["a+", "+a", "a/b+/c", "++"])("refuses + sharing its level: %s", (f) => {
    expect(topicFilterProblem(f)).toBe(
      `"+" must be alone in its level (e.g. "devices/+/state"), but "${f}" was provided`,
    );
  });
});

describe("flows", () => {
  it.each([
    ["a->b:1", { from: "a", to: "b", port: 1 }],
    ["grafana -> redis:6379", { from: "grafana", to: "redis", port: 6379 }],
    [" a -> b : 65535 ", { from: "a", to: "b", port: 65535 }],
    ["\ta\t->\tb\t:\t2\t", { from: "a", to: "b", port: 2 }],
    [" a->b:1", { from: "a", to: "b", port: 1 }],
    ["a ->b:1", { from: "a", to: "b", port: 1 }],
    ["a-> b:1", { from: "a", to: "b", port: 1 }],
    ["a->b :1", { from: "a", to: "b", port: 1 }],
    ["a->b: 1", { from: "a", to: "b", port: 1 }],
    ["a->b:1 ", { from: "a", to: "b", port: 1 }],
    ["  a  ->  b  :  12  ", { from: "a", to: "b", port: 12 }],
    ["a0-x -> b9-y:99999", { from: "a0-x", to: "b9-y", port: 99999 }],
    ["ab->cd:80", { from: "ab", to: "cd", port: 80 }],
    ["a-b->c-d:80", { from: "a-b", to: "c-d", port: 80 }],
    ["a0->c0:80", { from: "a0", to: "c0", port: 80 }],
    ["node-red -> influxdb:08086", { from: "node-red", to: "influxdb", port: 8086 }],
  ])("reads %j", (text, flow) => {
    expect(parseFlow(text)).toEqual(flow);
  });

  it.each([
    "",
    "a -> b",
    "a -> b:",
    "a -> b:123456",
    "a b:1",
    "a > b:1",
    "a - > b:1",
    "0a -> b:1",
    "a -> 0b:1",
    "-a -> b:1",
    "A -> b:1",
    "a -> B:1",
    "a_b -> c:1",
    "a -> b_c:1",
    "Xa -> b:1",
    "a -> b:1x",
    "a -> b:x1",
    "a -> b -> c:1",
    "a -> b:1:2",
  ])("does not read %j", (text) => {
    expect(parseFlow(text)).toBeUndefined();
  });

  const spec = (name: string, ports: number[]) =>
    [name, { name, ports: ports.map((port) => ({ name: `p${port}`, port })) } as unknown as ServiceSpec] as const;

  it("finds nothing wrong with a flow between two services to a port the server has", () => {
    const services = new Map([spec("a", [1]), spec("b", [80, 443])]);
    expect(flowProblems({ from: "a", to: "b", port: 443 }, services)).toEqual([]);
    expect(flowProblems({ from: "a", to: "b", port: 80 }, services)).toEqual([]);
  });

  it("names unknown ends, a port the server lacks, and a flow to itself", () => {
    const services = new Map([spec("a", [1]), spec("b", [80, 443])]);
    expect(flowProblems({ from: "x", to: "b", port: 80 }, services)).toEqual(['unknown service "x"']);
    expect(flowProblems({ from: "a", to: "y", port: 80 }, services)).toEqual(['unknown service "y"']);
    expect(flowProblems({ from: "x", to: "y", port: 80 }, services)).toEqual([
      'unknown service "x"',
      'unknown service "y"',
    ]);
    expect(flowProblems({ from: "a", to: "b", port: 8080 }, services)).toEqual([
      '"b" does not listen on 8080; its ports are: 80, 443',
    ]);
    expect(flowProblems({ from: "b", to: "b", port: 80 }, services)).toEqual([
      "a service always reaches itself; a flow needs two services",
    ]);
    expect(flowProblems({ from: "z", to: "z", port: 1 }, services)).toEqual([
      'unknown service "z"',
      'unknown service "z"',
      "a service always reaches itself; a flow needs two services",
    ]);
  });
});

describe("production warnings", () => {
  /** Only what productionWarnings reads of a topology. */
  const topology = (t: { environment: string; adminCidrs: string[]; requireCert: boolean; apps: string[] }) =>
    ({
      environment: t.environment,
      adminCidrs: t.adminCidrs,
      mqtt: { requireClientCertificate: t.requireCert },
      services: t.apps.map((app) => ({ name: app, app })),
    }) as unknown as Topology;

  const world = (cidr: string) =>
    `${cidr} admits every address, so the admin routes (Node-RED editor, InfluxDB, Prometheus) are open to the world; ` +
    "list only the operations networks (the pack's require-admin-source-allowlist refuses this)";
  const noCert =
    "is false, so any client that reaches the broker's TLS port can connect without a certificate; set it to " +
    "true (the pack's require-mqtt-client-certificates refuses this)";

  it("warns, in prod, of admin routes open to the world and a broker admitting clients without certificates", () => {
    const t = topology({
      environment: "prod",
      adminCidrs: ["10.0.0.0/8", "0.0.0.0/0", " ::/0 ", "0.0.0.0/1"],
      requireCert: false,
      apps: ["grafana", "mosquitto"],
    });
    expect(productionWarnings(t)).toEqual([
      { key: "iot-swarm-net:adminCidrs[1]", message: world("0.0.0.0/0") },
      { key: "iot-swarm-net:adminCidrs[2]", message: world(" ::/0 ") },
      { key: "iot-swarm-net:mqtt.requireClientCertificate", message: noCert },
    ]);
  });

  it("does not warn of certificates when no broker runs or it requires them", () => {
    const base = { environment: "prod", adminCidrs: ["10.0.0.0/8"] };
    expect(productionWarnings(topology({ ...base, requireCert: false, apps: ["grafana"] }))).toEqual([]);
    expect(productionWarnings(topology({ ...base, requireCert: true, apps: ["mosquitto"] }))).toEqual([]);
  });

  it.each(["dev", "e2e"])("warns of nothing in %s", (environment) => {
    const t = topology({ environment, adminCidrs: ["0.0.0.0/0"], requireCert: false, apps: ["mosquitto"] });
    expect(productionWarnings(t)).toEqual([]);
  });
});
