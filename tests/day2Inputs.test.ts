/**
 * What the program registers, as the real docker provider sees it on the second `pulumi up`: values in the form
 * its Read writes back, the replacement order each resource asks for, and names that let a successor run beside
 * the original. The registration options come through tools/runtimeHooks.ts; if a Pulumi upgrade breaks that
 * adapter, these tests see empty dependencies or missing options and fail.
 */
import { goDuration } from "../components/providerFormat";
import { VXLAN_ID_OPTION } from "../components/networks";
import { planNetworks } from "../model/networks";
import { replacementOrder } from "../model/rollout";
import { parseDuration } from "../e2e/harness/spec";
import { evaluateProgram, Evaluation, RecordedResource } from "../tools/evaluate";
import { mockDigest } from "../tools/mocks";
import { readStackConfig } from "../tools/stackFile";
import { CONFIG, freshProgram, NETWORK, ofType, SECRET, SERVICE, topologyFrom } from "./helpers";

const stacks = ["dev", "prod", "e2e"] as const;
const evaluations = new Map<string, Evaluation>();
beforeAll(async () => {
  for (const stack of stacks) evaluations.set(stack, await evaluateProgram({ stack, load: freshProgram }));
});

const labelsOf = (r: RecordedResource) =>
  Object.fromEntries((r.inputs.labels ?? []).map((l: { label: string; value: string }) => [l.label, l.value]));

/** Every string under `value` whose key names a duration field of the docker provider. */
function durations(value: unknown, path = ""): [string, string][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => durations(v, `${path}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) =>
    typeof v === "string" && /^(interval|timeout|startPeriod|stopGracePeriod|delay|window|monitor)$/.test(k)
      ? [[`${path}.${k}`, v] as [string, string]]
      : durations(v, `${path}.${k}`),
  );
}

describe.each(stacks)("the %s stack as the provider reads it back", (stack) => {
  const e = () => evaluations.get(stack)!;
  const services = () => ofType(e().resources, SERVICE);

  it("writes every duration as Go prints it, with the trailing zero unit trimmed", () => {
    const found = services().flatMap((s) => durations(s.inputs, s.name));
    expect(found.length).toBeGreaterThan(services().length * 8);
    for (const [path, text] of found)
      expect({ path, text }).toEqual({ path, text: goDuration(parseDuration(text)! / 1e9) });
    expect(found.map(([, text]) => text)).toContain("2m");
  });

  it("sends each network's options exactly as docker network inspect reports them", () => {
    const t = topologyFrom(readStackConfig(stack).config, { namespaced: true });
    const plan = planNetworks(t);
    for (const n of ofType(e().resources, NETWORK)) {
      const planned = plan.networks.find((p) => p.name === n.inputs.name)!;
      expect(n.inputs.options).toEqual({
        [VXLAN_ID_OPTION]: String(planned.vxlanId),
        ...(t.encryptOverlays ? { encrypted: "true" } : {}),
      });
      expect(n.inputs.ipamConfigs).toEqual([{ subnet: planned.subnet, gateway: planned.gateway }]);
    }
  });

  it("asks for create-first replacement of configs and secrets, and delete-first of networks", () => {
    const files = [...ofType(e().resources, CONFIG), ...ofType(e().resources, SECRET)];
    expect(files.length).toBeGreaterThan(10);
    for (const f of files)
      expect({ file: f.name, deleteBeforeReplace: f.deleteBeforeReplace }).toEqual({
        file: f.name,
        deleteBeforeReplace: false,
      });
    for (const n of ofType(e().resources, NETWORK)) expect(n.deleteBeforeReplace).toBe(true);
  });

  it("replaces stateless services create-first under a generation name carrying the logical name as alias", () => {
    const t = topologyFrom(readStackConfig(stack).config, { namespaced: true });
    for (const s of services()) {
      const logical = labelsOf(s)["iot.service"];
      const spec = t.services.find((x) => x.name === logical)!;
      const order = replacementOrder(spec);
      const aliases: string[][] = s.inputs.taskSpec.networksAdvanceds.map((n: { aliases: string[] }) => n.aliases);
      expect({ logical, deleteBeforeReplace: s.deleteBeforeReplace }).toEqual({
        logical,
        deleteBeforeReplace: order === "delete-first",
      });
      if (order === "delete-first") {
        expect(s.inputs.name).toBe(logical);
      } else {
        expect(s.inputs.name).toMatch(new RegExp(`^${logical}-[0-9a-f]{8}$`));
        for (const a of aliases) expect(a[0]).toBe(logical);
      }
      for (const a of aliases) expect(a).toEqual(expect.arrayContaining([...spec.aliases]));
    }
  });

  it("records each service's dependencies on its networks, configs and secrets by property", () => {
    for (const s of services()) {
      expect(s.dependencies.length).toBeGreaterThan(0);
      expect(s.propertyDependencies.taskSpec?.length ?? 0).toBeGreaterThan(0);
      expect(s.parent).toMatch(/SwarmService::/);
    }
  });

  it(`${stack === "e2e" ? "runs local images as named" : "pins every image to its registry digest"}, and names its platforms`, () => {
    const t = topologyFrom(readStackConfig(stack).config, { namespaced: true });
    for (const s of services()) {
      const spec = t.services.find((x) => x.name === labelsOf(s)["iot.service"])!;
      const image = s.inputs.taskSpec.containerSpec.image;
      expect(image).toBe(t.pinImageDigests ? `${spec.image}@${mockDigest(spec.image)}` : spec.image);
      expect(s.inputs.taskSpec.placement.platforms).toEqual([{ os: "linux", architecture: "amd64" }]);
    }
    expect(t.pinImageDigests).toBe(stack !== "e2e");
  });
});

describe("rotation knobs", () => {
  it("re-issue every leaf certificate, rotate one key, and draw a new password through resource options", async () => {
    const base = readStackConfig("dev").config;
    const e = await evaluateProgram({
      stack: "dev",
      load: freshProgram,
      config: {
        ...base,
        "iot-swarm-net:tls": JSON.stringify({ validityDays: 90, earlyRenewalDays: 30, reissue: "2026-11" }),
        "iot-swarm-net:rotations": JSON.stringify({ "redis-node-red": 2, "mqtt-client-node-red": "b" }),
      },
    });
    const certs = e.resources.filter((r) => r.type === "tls:index/locallySignedCert:LocallySignedCert");
    expect(certs.length).toBeGreaterThan(2);
    for (const c of certs) expect(c.replacementTrigger).toBe("2026-11");
    const keys = e.resources.filter((r) => r.type === "tls:index/privateKey:PrivateKey");
    expect(keys.filter((k) => k.replacementTrigger !== undefined).map((k) => k.name)).toEqual([
      "iot-pki-mqtt-client-node-red-key",
    ]);
    const passwords = e.resources.filter((r) => r.type === "random:index/randomPassword:RandomPassword");
    expect(passwords.filter((p) => p.inputs.keepers).map((p) => [p.name, p.inputs.keepers])).toEqual([
      ["iot-redis-node-red", { rotation: "2" }],
    ]);
  });

  it("rejects a rotation of a credential that does not exist, naming the key and the credentials", async () => {
    await expect(
      evaluateProgram({
        stack: "dev",
        load: freshProgram,
        config: { ...readStackConfig("dev").config, "iot-swarm-net:rotations": JSON.stringify({ nope: 1 }) },
      }),
    ).rejects.toThrow(/iot-swarm-net:rotations\.nope: no credential is named "nope"; credentials: .*grafana-admin/);
  });
});
