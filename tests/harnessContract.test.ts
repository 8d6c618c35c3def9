/**
 * The e2e harness's provider contract: every input the program sets is classified by a rule that cites its
 * source, the diff finds what the real provider would find on the second `pulumi up`, and the engine stand-in
 * takes the steps `pulumi up` would take (order of replacements, deferred deletes, dependents).
 */
import { classify, diffInputs, leafPaths, unclassifiedInputs } from "../e2e/harness/contract/diff";
import { CONTRACTS, contractOf } from "../e2e/harness/contract/rules";
import { DeployEngine, ProviderPort, StateEntry } from "../e2e/harness/engine";
import { renewalDue } from "../e2e/harness/providers";
import { afterApply, readNetwork, readService, shortDur } from "../e2e/harness/read";
import { evaluateProgram } from "../tools/evaluate";
import { Registration } from "../tools/runtimeHooks";
import { freshProgram } from "./helpers";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the provider contract table", () => {
  it.each(["dev", "prod", "e2e"])("classifies every input the program sets on the %s stack", async (stack) => {
    const e = await evaluateProgram({ stack, load: freshProgram });
    const custom = e.resources.filter((r) => r.custom);
    expect(custom.length).toBeGreaterThan(50);
    for (const r of custom)
      expect({ resource: r.name, unclassified: unclassifiedInputs(r.type, r.inputs) }).toEqual({
        resource: r.name,
        unclassified: [],
      });
  });

  it("reports an input no rule classifies", () => {
    const inputs = {
      name: "x",
      taskSpec: { containerSpec: { image: "a:1", ulimits: [{ name: "nofile", soft: 1, hard: 2 }] } },
    };
    expect(unclassifiedInputs("docker:index/service:Service", inputs)).toEqual([
      "taskSpec.containerSpec.ulimits[].name",
      "taskSpec.containerSpec.ulimits[].soft",
      "taskSpec.containerSpec.ulimits[].hard",
    ]);
    expect(() => diffInputs("docker:index/service:Service", inputs, {})).toThrow(
      /does not classify: taskSpec\.containerSpec\.ulimits/,
    );
  });

  it("cites a provider source file for every rule", () => {
    for (const c of CONTRACTS)
      for (const r of c.rules)
        expect(r.source).toMatch(/^terraform-provider-(docker|tls|random) internal\/provider\/[a-z_]+\.go$/);
  });

  it("lets a whole collection rule cover the paths below it, and nothing else", () => {
    const service = contractOf("docker:index/service:Service");
    expect(classify(service, "taskSpec.networksAdvanceds[].id")?.onChange).toBe("replace");
    expect(classify(service, "taskSpec.containerSpec.secrets[].fileMode")?.onChange).toBe("update");
    expect(classify(service, "taskSpec.containerSpec")).toBeUndefined();
    expect(leafPaths({ a: [{ b: 1 }, { c: 2 }], d: {} })).toEqual(["a[].b", "a[].c", "d"]);
  });
});

/** A minimal service inspect, the way the Engine API returns it. */
function inspectedService(overrides: Record<string, unknown> = {}, tmpfsMode = 0) {
  return {
    Spec: {
      Name: "grafana",
      Labels: { "iot.service": "grafana", "iot-swarm-net.e2e.run": "run-1" },
      Mode: { Replicated: { Replicas: 2 } },
      TaskTemplate: {
        ContainerSpec: {
          Image: "grafana/grafana:11.3.1",
          Env: ["A=b=c"],
          Healthcheck: { Test: ["CMD", "true"], Interval: 120e9, Timeout: 5e9, StartPeriod: 90e9, Retries: 3 },
          Mounts: [{ Type: "tmpfs", Target: "/tmp", TmpfsOptions: { SizeBytes: 64, Mode: tmpfsMode } }],
          StopGracePeriod: 20e9,
          Isolation: "default",
          Init: false,
          ...overrides,
        },
        Networks: [{ Target: "net-1", Aliases: ["grafana"] }],
        RestartPolicy: { Condition: "on-failure", Delay: 5e9, MaxAttempts: 5, Window: 120e9 },
      },
      UpdateConfig: {
        Parallelism: 1,
        Delay: 10e9,
        FailureAction: "rollback",
        Monitor: 30e9,
        MaxFailureRatio: 0,
        Order: "start-first",
      },
    },
    Endpoint: { Spec: { Mode: "dnsrr" } },
  };
}

describe("the docker provider's Read", () => {
  it("writes durations back through shortDur", () => {
    expect([5e9, 60e9, 90e9, 120e9, 3600e9, 0, 5e8].map(shortDur)).toEqual([
      "5s",
      "1m",
      "1m30s",
      "2m",
      "1h",
      "0s",
      "500ms",
    ]);
    const state = readService(inspectedService());
    expect(state.taskSpec.containerSpec.healthcheck).toMatchObject({ interval: "2m", startPeriod: "1m30s" });
    expect(state.taskSpec.restartPolicy).toEqual({
      condition: "on-failure",
      delay: "5s",
      maxAttempts: 5,
      window: "2m",
    });
    expect(state.updateConfig.maxFailureRatio).toBe("0.0");
  });

  it("reads networks back by id only, tmpfs modes without the sticky bit, and leaves out the harness's labels", () => {
    const state = readService(inspectedService({}, 0o1777));
    expect(state.taskSpec.networksAdvanceds).toEqual([{ id: "net-1", aliases: ["grafana"], driverOpts: [] }]);
    expect(state.taskSpec.containerSpec.mounts[0].tmpfsOptions).toEqual({ sizeBytes: 64, mode: 0o777 });
    expect(state.labels).toEqual([{ label: "iot.service", value: "grafana" }]);
    expect(state.taskSpec.containerSpec.env).toEqual({ A: "b=c" });
  });

  it("reads a network's options as inspect reports them, the VXLAN id included", () => {
    const state = readNetwork({
      Name: "n",
      Driver: "overlay",
      Options: { "com.docker.network.driver.overlay.vxlanid_list": "4097", encrypted: "true" },
      IPAM: { Driver: "default", Config: [{ Subnet: "10.0.1.0/24", Gateway: "10.0.1.1" }] },
    });
    expect(state.options).toEqual({ "com.docker.network.driver.overlay.vxlanid_list": "4097", encrypted: "true" });
    expect(state.ipamConfigs).toEqual([{ subnet: "10.0.1.0/24", gateway: "10.0.1.1" }]);
  });
});

describe("the diff on the second pulumi up", () => {
  const SERVICE = "docker:index/service:Service";
  const NETWORK = "docker:index/network:Network";
  const config = (healthcheck: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    name: "grafana",
    labels: [{ label: "iot.service", value: "grafana" }],
    mode: { replicated: { replicas: 2 } },
    endpointSpec: { mode: "dnsrr", ports: [] },
    taskSpec: {
      containerSpec: {
        image: "grafana/grafana:11.3.1",
        env: { A: "b=c" },
        healthcheck: { tests: ["CMD", "true"], timeout: "5s", retries: 3, ...healthcheck },
        mounts: [{ type: "tmpfs", target: "/tmp", tmpfsOptions: { sizeBytes: 64 } }],
        stopGracePeriod: "20s",
      },
      networksAdvanceds: [{ id: "net-1", aliases: ["grafana"] }],
      restartPolicy: { condition: "on-failure", delay: "5s", maxAttempts: 5, window: "2m" },
    },
    updateConfig: {
      parallelism: 1,
      delay: "10s",
      failureAction: "rollback",
      monitor: "30s",
      maxFailureRatio: "0.0",
      order: "start-first",
    },
    ...extra,
  });
  const stateAfterCreate = (inputs: Record<string, unknown>) =>
    afterApply(SERVICE, inputs, readService(inspectedService()));

  it("finds no change when every value is written the way Read writes it back", () => {
    const inputs = config({ interval: "2m", startPeriod: "1m30s" });
    expect(diffInputs(SERVICE, inputs, stateAfterCreate(inputs))).toEqual([]);
  });

  it("updates on every run when a duration is written another way (120s for 2m)", () => {
    const inputs = config({ interval: "120s", startPeriod: "90s" });
    expect(diffInputs(SERVICE, inputs, stateAfterCreate(inputs)).map((c) => [c.path, c.onChange])).toEqual([
      ["taskSpec.containerSpec.healthcheck.interval", "update"],
      ["taskSpec.containerSpec.healthcheck.startPeriod", "update"],
    ]);
  });

  it("keeps a tmpfs mode until a refresh, then updates because the sticky bit is gone", () => {
    const inputs = config({ interval: "2m", startPeriod: "1m30s" });
    inputs.taskSpec.containerSpec.mounts[0].tmpfsOptions = { sizeBytes: 64, mode: 0o1777 } as never;
    expect(diffInputs(SERVICE, inputs, stateAfterCreate(inputs))).toEqual([]);
    const refreshed = readService(inspectedService({}, 0o1777));
    expect(diffInputs(SERVICE, inputs, refreshed).map((c) => c.path)).toEqual(["taskSpec.containerSpec.mounts"]);
    // Without a mode (what the program sends), the refresh reads back 0: no change.
    delete (inputs.taskSpec.containerSpec.mounts[0].tmpfsOptions as { mode?: number }).mode;
    expect(diffInputs(SERVICE, inputs, readService(inspectedService()))).toEqual([]);
  });

  it("replaces a service whose network is named by the deprecated name field once refreshed", () => {
    const inputs = config({ interval: "2m", startPeriod: "1m30s" });
    inputs.taskSpec.networksAdvanceds = [{ name: "net-1", aliases: ["grafana"] }] as never;
    expect(diffInputs(SERVICE, inputs, readService(inspectedService())).map((c) => [c.path, c.onChange])).toEqual([
      ["taskSpec.networksAdvanceds", "replace"],
    ]);
  });

  it("replaces a network whose options are not all that inspect reports, and keeps one that sends them all", () => {
    const read = readNetwork({
      Name: "n",
      Driver: "overlay",
      Internal: true,
      Options: { "com.docker.network.driver.overlay.vxlanid_list": "4097", encrypted: "true" },
      IPAM: { Driver: "default", Config: [] },
    });
    const base = { name: "n", driver: "overlay", internal: true };
    expect(diffInputs(NETWORK, { ...base, options: { encrypted: "true" } }, read).map((c) => c.onChange)).toEqual([
      "replace",
    ]);
    expect(diffInputs(NETWORK, { ...base, options: {} }, read).map((c) => c.onChange)).toEqual(["replace"]);
    expect(diffInputs(NETWORK, { ...base }, read)).toEqual([]);
    expect(
      diffInputs(
        NETWORK,
        { ...base, options: { "com.docker.network.driver.overlay.vxlanid_list": "4097", encrypted: "true" } },
        read,
      ),
    ).toEqual([]);
  });

  it("renews a certificate once its renewal window has begun under the hours the program gives now", () => {
    const entry = {
      type: "tls:index/locallySignedCert:LocallySignedCert",
      outputs: { validityEndTime: "2026-12-24T00:00:00Z" },
    } as unknown as StateEntry;
    const now = Date.parse("2026-11-24T00:00:00Z");
    expect(renewalDue(entry, { earlyRenewalHours: 29 * 24 }, now)).toEqual([]);
    expect(renewalDue(entry, { earlyRenewalHours: 30 * 24 }, now).map((c) => c.onChange)).toEqual(["replace"]);
  });
});

/** A provider that records its calls, for the engine's ordering. */
function recordingProvider() {
  const calls: string[] = [];
  const port: ProviderPort = {
    create: async (_type, name, inputs) => {
      calls.push(`create ${name}:${inputs.data ?? inputs.name}`);
      return { id: `${name}-${calls.length}`, state: { ...inputs } };
    },
    update: async (entry, inputs) => {
      calls.push(`update ${entry.name}`);
      return { ...inputs };
    },
    delete: async (entry) => {
      calls.push(`delete ${entry.name}:${entry.outputs.data ?? entry.outputs.name}`);
    },
  };
  return { calls, port };
}

const reg = (type: string, name: string, extra: Partial<Registration> = {}): Registration => ({
  urn: `urn:pulumi:s::p::${type}::${name}`,
  type,
  name,
  custom: true,
  dependencies: [],
  propertyDependencies: {},
  ignoreChanges: [],
  replaceOnChanges: [],
  ...extra,
});

describe("the engine stand-in", () => {
  const CONFIG = "docker:index/serviceConfig:ServiceConfig";
  const NETWORK = "docker:index/network:Network";
  const SERVICE = "docker:index/service:Service";

  it("takes same steps when nothing changed, and an update for an in-place change", async () => {
    const { calls, port } = recordingProvider();
    const engine = new DeployEngine(() => port);
    await engine.begin();
    await engine.register(reg(SERVICE, "svc"), { name: "svc", mode: { replicated: { replicas: 2 } } });
    await engine.finish();
    await engine.begin();
    await engine.register(reg(SERVICE, "svc"), { name: "svc", mode: { replicated: { replicas: 2 } } });
    await engine.finish();
    expect(engine.counts()).toMatchObject({ same: 1, create: 0, update: 0, replace: 0, delete: 0 });
    await engine.begin();
    await engine.register(reg(SERVICE, "svc"), { name: "svc", mode: { replicated: { replicas: 3 } } });
    await engine.finish();
    expect(engine.steps.map((s) => [s.op, s.changes])).toEqual([["update", ["mode.replicated.replicas"]]]);
    expect(calls).toEqual(["create svc:svc", "update svc"]);
  });

  it("creates a replacement first and deletes the original after the last registration when asked to", async () => {
    const { calls, port } = recordingProvider();
    const engine = new DeployEngine(() => port);
    await engine.begin();
    await engine.register(reg(CONFIG, "cfg", { deleteBeforeReplace: false }), { name: "cfg-a", data: "YQ==" });
    await engine.finish();
    await engine.begin();
    await engine.register(reg(CONFIG, "cfg", { deleteBeforeReplace: false }), { name: "cfg-b", data: "Yg==" });
    await engine.register(reg(SERVICE, "svc"), { name: "svc" });
    await engine.finish();
    expect(calls).toEqual(["create cfg:YQ==", "create cfg:Yg==", "create svc:svc", "delete cfg:YQ=="]);
    expect(engine.steps[0]).toMatchObject({ op: "replace", order: "create-first" });
  });

  it("deletes an explicitly named resource first when the options say nothing, as the bridge asks", async () => {
    const { calls, port } = recordingProvider();
    const engine = new DeployEngine(() => port);
    await engine.begin();
    await engine.register(reg(CONFIG, "cfg"), { name: "cfg-a", data: "YQ==" });
    await engine.finish();
    await engine.begin();
    await engine.register(reg(CONFIG, "cfg"), { name: "cfg-b", data: "Yg==" });
    await engine.finish();
    expect(calls).toEqual(["create cfg:YQ==", "delete cfg:YQ==", "create cfg:Yg=="]);
    expect(engine.steps[0]).toMatchObject({ op: "replace", order: "delete-first" });
  });

  it("times the gap of a delete-first replacement, from the delete until the successor exists", async () => {
    const { port } = recordingProvider();
    const slow = {
      ...port,
      create: async (...a: Parameters<typeof port.create>) => (await sleep(300), port.create(...a)),
    };
    const engine = new DeployEngine(() => slow);
    await engine.begin();
    await engine.register(reg(CONFIG, "cfg"), { name: "cfg-a", data: "YQ==" });
    await engine.register(reg(CONFIG, "kept", { deleteBeforeReplace: false }), { name: "k-a", data: "YQ==" });
    await engine.finish();
    await engine.begin();
    await engine.register(reg(CONFIG, "cfg"), { name: "cfg-b", data: "Yg==" });
    await engine.register(reg(CONFIG, "kept", { deleteBeforeReplace: false }), { name: "k-b", data: "Yg==" });
    await engine.finish();
    expect(engine.steps[0].gapSeconds).toBeGreaterThanOrEqual(0.2);
    expect(engine.steps[1]).toMatchObject({ op: "replace", order: "create-first" });
    expect(engine.steps[1].gapSeconds).toBeUndefined();
  });

  it("does not delete a service ahead of a delete-first network it uses (taskSpec is not ForceNew)", async () => {
    const { calls, port } = recordingProvider();
    const engine = new DeployEngine(() => port);
    const net = reg(NETWORK, "net", { deleteBeforeReplace: true });
    const svc = reg(SERVICE, "svc", { dependencies: [net.urn], propertyDependencies: { taskSpec: [net.urn] } });
    await engine.begin();
    await engine.register(net, { name: "net", internal: true });
    await engine.register(svc, { name: "svc", taskSpec: { networksAdvanceds: [{ id: "net-1" }] } });
    await engine.finish();
    await engine.begin();
    await engine.register(net, { name: "net", internal: false });
    expect(calls).toEqual(["create net:net", "create svc:svc", "delete net:net", "create net:net"]);
  });

  it("deletes first the dependents a replacement of their dependency would replace", async () => {
    const { calls, port } = recordingProvider();
    const engine = new DeployEngine(() => port);
    const key = reg("random:index/randomPassword:RandomPassword", "pw", { deleteBeforeReplace: true });
    const secret = reg("docker:index/secret:Secret", "sec", {
      dependencies: [key.urn],
      propertyDependencies: { data: [key.urn] },
    });
    await engine.begin();
    await engine.register(key, { length: 32 });
    await engine.register(secret, { name: "sec", data: "YQ==" });
    await engine.finish();
    await engine.begin();
    await engine.register(key, { length: 40 });
    await engine.register(secret, { name: "sec", data: "Yg==" });
    await engine.finish();
    expect(calls.slice(2)).toEqual([
      "delete sec:YQ==",
      "delete pw:undefined",
      "create pw:undefined",
      "create sec:Yg==",
    ]);
    expect(engine.steps.map((s) => [s.name, s.op, s.order])).toEqual([
      ["pw", "replace", "delete-first"],
      ["sec", "replace", "delete-first"],
    ]);
  });

  it("replaces a resource whose replacementTrigger changed, and deletes what the program no longer registers", async () => {
    const { port } = recordingProvider();
    const engine = new DeployEngine(() => port);
    await engine.begin();
    await engine.register(reg("tls:index/privateKey:PrivateKey", "k", { replacementTrigger: "1" }), {
      algorithm: "ECDSA",
    });
    await engine.register(reg(CONFIG, "old"), { name: "old", data: "YQ==" });
    await engine.finish();
    await engine.begin();
    await engine.register(reg("tls:index/privateKey:PrivateKey", "k", { replacementTrigger: "2" }), {
      algorithm: "ECDSA",
    });
    await engine.finish();
    expect(engine.steps.map((s) => [s.name, s.op, s.changes])).toEqual([
      ["k", "replace", ["(replacementTrigger)"]],
      ["old", "delete", undefined],
    ]);
  });
});
