/**
 * Resolving a stack config (model/resolve.ts): merge, validation, rotations and network planning reported
 * together, and what of a config the schema rejected is still checked across fields (model/salvage.ts).
 */
import { parseStackConfig, StackConfigError } from "../model/config";
import * as networks from "../model/networks";
import { parseAndResolveStackConfig, resolveStackConfig, resolveTopology } from "../model/resolve";
import { relatedKeys, salvageStackConfig } from "../model/salvage";

const K = "iot-swarm-net:";

/** The `key: message` lines of the StackConfigError `run` throws; fails the test when it throws nothing else. */
function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (e) {
    if (e instanceof StackConfigError) return e.problems.map((p) => `${p.key}: ${p.message}`);
    throw e;
  }
  throw new Error("no StackConfigError was thrown");
}

const resolved = (raw: Record<string, unknown>) => () => resolveStackConfig(parseStackConfig(raw));
const parsedAndResolved = (raw: Record<string, unknown>) => () => parseAndResolveStackConfig(raw);

describe("resolveTopology", () => {
  it("merges and validates a valid config", () => {
    const topology = resolveTopology(parseStackConfig({ environment: "dev" }));
    expect(topology.environment).toBe("dev");
    expect(topology.services.map((s) => s.name)).toContain("gateway");
  });

  it("throws every validation problem", () => {
    const config = parseStackConfig({ environment: "dev", flows: ["bad", "grafana -> nosuch:1"] });
    expect(problemsOf(() => resolveTopology(config))).toEqual([
      `${K}flows[0]: must read "client -> server:port", but "bad" was provided`,
      `${K}flows[1]: unknown service "nosuch" in "grafana -> nosuch:1"`,
    ]);
  });
});

describe("resolveStackConfig", () => {
  it("returns the topology and its network plan", () => {
    const { topology, plan } = resolveStackConfig(parseStackConfig({ environment: "dev" }));
    expect(topology.services.length).toBeGreaterThan(0);
    expect(plan.networks.map((n) => n.name)).toContain("iot-edge-network");
  });

  it("reports a planning problem alone when validation finds none", () => {
    expect(problemsOf(resolved({ environment: "dev", subnetPrefixLength: 16 }))).toEqual([
      `${K}subnetPrefixLength: must be longer than /17 (half of subnetPool 10.231.0.0/16 holds the tier and egress networks), but 16 was provided`,
    ]);
  });

  it("reports validation, rotation and planning problems under different keys together", () => {
    expect(
      problemsOf(
        resolved({
          environment: "dev",
          flows: ["bad"],
          rotations: { nosuch: 2 },
          subnets: { "iot-edge-network": "10.0.0.0/24" },
        }),
      ),
    ).toEqual([
      `${K}flows[0]: must read "client -> server:port", but "bad" was provided`,
      expect.stringMatching(/^iot-swarm-net:rotations\.nosuch: no credential is named "nosuch"/),
      `${K}subnets.iot-edge-network: 10.0.0.0/24 is not inside subnetPool 10.231.0.0/16`,
    ]);
  });

  it("leaves out a planning problem under a key validation already rejected", () => {
    expect(problemsOf(resolved({ environment: "dev", subnetPool: "10.231.0.0/28" }))).toEqual([
      `${K}subnetPrefixLength: must be at least the pool's prefix (/28), but 24 was provided`,
    ]);
  });

  it("reports validation's explanation when planning fails outright", () => {
    expect(problemsOf(resolved({ environment: "dev", subnets: { "iot-edge-network": "10.231.0.7/24" } }))).toEqual([
      `${K}subnets.iot-edge-network: "10.231.0.7/24" has host bits set; the network is 10.231.0.0/24`,
    ]);
  });

  it("reports a validation problem even when the network plan succeeds", () => {
    expect(problemsOf(resolved({ environment: "dev", subnetPool: "8.8.0.0/16" }))).toEqual([
      expect.stringMatching(/^iot-swarm-net:subnetPool: 8\.8\.0\.0\/16 is not inside one private range/),
    ]);
  });
});

describe("parseAndResolveStackConfig", () => {
  it("returns the parsed config with its topology and plan", () => {
    const result = parseAndResolveStackConfig({ environment: "dev", subnetPrefixLength: "25" });
    expect(result.config.subnetPrefixLength).toBe(25);
    expect(result.topology.environment).toBe("dev");
    expect(result.plan.networks.length).toBeGreaterThan(0);
  });

  it("reports cross-field problems alone when the schema accepts the config", () => {
    expect(problemsOf(parsedAndResolved({ environment: "dev", flows: '["grafana -> nosuch:1"]' }))).toEqual([
      `${K}flows[0]: unknown service "nosuch" in "grafana -> nosuch:1"`,
    ]);
  });

  it("reports the schema's problems first, then the cross-field problems of the rest", () => {
    expect(
      problemsOf(
        parsedAndResolved({
          environment: "dev",
          domain: "Bad",
          services: '{"grafana": {"replicas": "two"}}',
          flows: '["grafana -> nosuch:1"]',
          subnetPool: "8.8.0.0/16",
        }),
      ),
    ).toEqual([
      `${K}domain: must be a lower-case DNS name, but "Bad" was provided`,
      `${K}services.grafana.replicas: Invalid input: expected number, received string, but "two" was provided`,
      `${K}flows[0]: unknown service "nosuch" in "grafana -> nosuch:1"`,
      expect.stringMatching(/^iot-swarm-net:subnetPool: 8\.8\.0\.0\/16 is not inside one private range/),
    ]);
  });

  it("leaves out a cross-field problem under, or above, a key the schema rejected", () => {
    // Without its rejected image the new service lacks required fields: a problem of services.newsvc, above it.
    expect(
      problemsOf(parsedAndResolved({ environment: "dev", services: { newsvc: { image: "", tiers: ["app"] } } })),
    ).toEqual([`${K}services.newsvc.image: Too small: expected string to have >=1 characters, but "" was provided`]);
  });

  it("reports only the schema's problems when the rest cannot be salvaged", () => {
    expect(
      problemsOf(parsedAndResolved({ environment: "dev", adminCidrs: ["x"], flows: ["grafana -> nosuch:1"] })),
    ).toEqual([`${K}adminCidrs[0]: must be an IPv4 CIDR such as 10.20.0.0/16, but "x" was provided`]);
  });

  it("leaves out only the cross-field problems related to some rejected key", () => {
    // The new service's image and the domain are rejected; the missing fields concern the service alone.
    expect(
      problemsOf(
        parsedAndResolved({
          environment: "dev",
          domain: "Bad",
          services: { newsvc: { image: "", tiers: ["app"] } },
          flows: ["grafana -> nosuch:1"],
        }),
      ),
    ).toEqual([
      `${K}domain: must be a lower-case DNS name, but "Bad" was provided`,
      `${K}services.newsvc.image: Too small: expected string to have >=1 characters, but "" was provided`,
      `${K}flows[0]: unknown service "nosuch" in "grafana -> nosuch:1"`,
    ]);
  });

  it("reports only the schema's problems when the rest is valid", () => {
    expect(problemsOf(parsedAndResolved({ environment: "dev", domain: "Bad" }))).toEqual([
      `${K}domain: must be a lower-case DNS name, but "Bad" was provided`,
    ]);
  });
});

describe("a planning failure that is no config problem", () => {
  afterEach(() => jest.restoreAllMocks());
  const failPlanning = () =>
    jest.spyOn(networks, "planNetworks").mockImplementation(() => {
      throw new Error("planner failed");
    });

  it("is thrown as it is when nothing in the config explains it", () => {
    failPlanning();
    const config = parseStackConfig({ environment: "dev" });
    expect(() => resolveStackConfig(config)).toThrow(new Error("planner failed"));
    expect(() => parseAndResolveStackConfig({ environment: "dev" })).toThrow(new Error("planner failed"));
  });

  it("gives way to the config's problems when there are some", () => {
    failPlanning();
    expect(problemsOf(resolved({ environment: "dev", flows: ["bad"] }))).toEqual([
      `${K}flows[0]: must read "client -> server:port", but "bad" was provided`,
    ]);
  });

  it("adds nothing to the schema's problems when it happens while checking the rest", () => {
    failPlanning();
    expect(problemsOf(parsedAndResolved({ environment: "dev", domain: "Bad" }))).toEqual([
      `${K}domain: must be a lower-case DNS name, but "Bad" was provided`,
    ]);
  });
});

describe("salvageStackConfig", () => {
  it("drops nothing from a valid config", () => {
    expect(salvageStackConfig({ environment: "dev" })).toEqual({
      config: parseStackConfig({ environment: "dev" }),
      dropped: [],
    });
  });

  it("drops a rejected top-level scalar, or null, so its default applies", () => {
    const salvaged = salvageStackConfig({ environment: "dev", subnetPrefixLength: "99", domain: null, tls: "x" });
    expect(salvaged?.dropped).toEqual([["domain"], ["subnetPrefixLength"], ["tls"]]);
    expect(salvaged?.config).toEqual(parseStackConfig({ environment: "dev" }));
  });

  it("drops a rejected value inside an object, leaving its siblings", () => {
    const raw = {
      environment: "dev",
      services: JSON.stringify({ grafana: { replicas: "two", uid: 1 } }),
      tls: { validityDays: 0, organization: "Acme" },
    };
    const salvaged = salvageStackConfig(raw);
    expect(salvaged?.dropped).toEqual([
      ["services", "grafana", "replicas"],
      ["tls", "validityDays"],
    ]);
    expect(salvaged?.config.services).toEqual({ grafana: { uid: 1 } });
    expect(salvaged?.config.tls).toMatchObject({ validityDays: 365, organization: "Acme" });
    // The raw values are left as they were.
    expect(raw.tls).toEqual({ validityDays: 0, organization: "Acme" });
  });

  it("drops a rejected key inside a list element's object when its default can stand in", () => {
    const salvaged = salvageStackConfig({
      environment: "dev",
      routes: [{ subdomain: "api", service: "api", port: 8000, admin: "yes" }],
    });
    expect(salvaged?.dropped).toEqual([["routes", 0, "admin"]]);
    expect(salvaged?.config.routes[0]).toMatchObject({ subdomain: "api", admin: true });
  });

  it("drops each unknown key", () => {
    const salvaged = salvageStackConfig({ environment: "dev", services: { grafana: { replica: 2, imag: "x" } } });
    expect(salvaged?.dropped).toEqual([
      ["services", "grafana", "replica"],
      ["services", "grafana", "imag"],
    ]);
    expect(salvaged?.config.services).toEqual({ grafana: {} });
  });

  it("drops the object holding a required value once dropping the value alone is not enough", () => {
    const salvaged = salvageStackConfig({
      environment: "dev",
      services: { svc: { role: "x", health: { test: ["CMD"], retries: 2 } } },
    });
    expect(salvaged?.dropped).toEqual([
      ["services", "svc", "health", "test"],
      ["services", "svc", "health"],
    ]);
    expect(salvaged?.config.services).toEqual({ svc: { role: "x" } });
  });

  it.each([
    ["a required top-level key", { environment: "staging" }],
    ["a missing required key", {}],
    ["a top-level list given as an object", { environment: "dev", tiers: { name: "dmz" } }],
    ["a top-level object given as a list", { environment: "dev", tls: [] }],
    ["a list element", { environment: "dev", adminCidrs: ["10.0.0.0/8", "x"] }],
    ["a key inside a list element", { environment: "dev", tiers: [{ name: "Bad" }] }],
    ["an element of a list inside an object", { environment: "dev", services: { grafana: { tiers: ["Bad"] } } }],
  ])("gives up rather than drop %s", (_label, raw) => {
    expect(salvageStackConfig(raw)).toBeUndefined();
  });
});

describe("relatedKeys", () => {
  it.each([
    ["a", "a"],
    ["a", "a.b"],
    ["a", "a[0]"],
    ["a.b", "a"],
    ["a[0]", "a"],
    ["a", "a.b.c"],
  ])("relates %s and %s", (a, b) => {
    expect(relatedKeys(`${K}${a}`, `${K}${b}`)).toBe(true);
  });

  it.each([
    ["a", "ab"],
    ["ab", "a"],
    ["a.b", "a.c"],
    ["a[0]", "a[1]"],
    ["b.a", "a"],
    ["a", "b.a"],
    ["a", "b[a"],
    ["b[a", "a"],
  ])("does not relate %s and %s", (a, b) => {
    expect(relatedKeys(`${K}${a}`, `${K}${b}`)).toBe(false);
  });
});
