/**
 * IotStack and runProgram under Pulumi mocks: the names, parents, labels and placeholder values the stack gives
 * its components, image pinning, rotations, and the stack config the program reads. Apart from
 * tests/components.test.ts because each test here registers a whole stack (about a second).
 */
import * as pulumi from "@pulumi/pulumi";
import { IotStack, stackChildNames } from "../components/iotStack";
import { VXLAN_ID_OPTION } from "../components/networks";
import { runProgram } from "../components/program";
import { discoveryTable, endpoints, publishedPorts } from "../model/discovery";
import { passwordIds } from "../model/files";
import { planNetworks } from "../model/networks";
import { Topology } from "../model/types";
import { productionWarnings } from "../model/warnings";
import { MOCK_PRIVATE_KEY_MARKER, mockDigest, PlanMocks, REGISTRY_IMAGE_TOKEN } from "../tools/mocks";
import { readStackConfig } from "../tools/stackFile";
import { CA, certPem, CERT, evaluate, labelsOf, named, PASSWORD, register, typeChain } from "./componentFixtures";
import { bridgeConfig, CONFIG, decode, NETWORK, ofType, SECRET, SERVICE, topologyFrom } from "./helpers";

describe("IotStack", () => {
  const devTopology = (): Topology => topologyFrom(readStackConfig("dev").config, { namespaced: true });

  /** Plan mocks counting the registry look-ups by image. */
  class CountingMocks extends PlanMocks {
    readonly lookups: string[] = [];
    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
      if (args.token === REGISTRY_IMAGE_TOKEN) this.lookups.push(String(args.inputs.name));
      return super.call(args);
    }
  }

  it("names its children after itself and fills each file's placeholders with the CA, certificates, keys, passwords and expiries", async () => {
    const t = devTopology();
    let stack!: IotStack;
    const e = await register(() => {
      stack = new IotStack("st", { topology: t, stack: "s1" });
      return { reachability: stack.reachability, ca: stack.caCertPem };
    });
    expect(stackChildNames("st")).toMatchObject({ networks: "st-net", pki: "st-pki" });
    // Each child hangs under its component, each component under the stack (`type$type::name` of the parent URN).
    const parents = (type: string) =>
      new Set(ofType(e.resources, type).map((r) => r.parent!.split("::").slice(2).join("::")));
    const stackType = "iot-swarm-net:stack:IotStack";
    expect(parents(NETWORK)).toEqual(new Set([`${stackType}$iot-swarm-net:network:SegmentedNetworks::st-net`]));
    expect(parents(CERT)).toEqual(new Set([`${stackType}$iot-swarm-net:security:Pki::st-pki`]));
    expect(parents(PASSWORD)).toEqual(new Set([`${stackType}::st`]));
    const services = ofType(e.resources, SERVICE);
    expect(parents(SERVICE)).toEqual(
      new Set(services.map((r) => `${stackType}$iot-swarm-net:swarm:SwarmService::${r.name}`)),
    );
    expect(services.map((r) => typeChain(r))).toEqual(
      services.map(() => `iot-swarm-net:swarm:SwarmService$${SERVICE}`),
    );
    const plan = planNetworks(t);
    for (const n of plan.networks) {
      const r = named(e, `st-net-${n.name}`);
      expect(labelsOf(r)).toMatchObject({ "iot.stack": "s1", "iot.environment": "dev" });
    }
    expect(e.outputs.ca).toBe(certPem("st-pki-ca"));
    expect(named(e, "st-pki-ca").inputs.validityPeriodHours).toBe(t.tls.caValidityDays * 24);
    expect(e.outputs.reachability).toEqual(plan.intent);
    expect(stack.intent).toEqual(plan.intent);
    expect(stack.discovery).toEqual(discoveryTable(t, plan));
    expect(stack.publishedPorts).toEqual(publishedPorts(t));
    expect(stack.endpoints).toEqual(endpoints(t));
    expect(stack.warnings).toEqual(productionWarnings(t));
    expect(Object.keys(stack.services).sort()).toEqual(t.services.map((s) => s.name).sort());

    const passwords = ofType(e.resources, PASSWORD);
    expect(passwords.map((p) => p.name).sort()).toEqual(
      passwordIds(t)
        .map((id) => `st-${id}`)
        .sort(),
    );
    expect(passwords.length).toBeGreaterThan(0);
    for (const p of passwords) expect(p.inputs).toEqual({ length: 32, special: false });

    for (const s of t.services) {
      const svc = named(e, `st-${s.name}`);
      expect(labelsOf(svc)["iot.stack"]).toBe("s1");
      expect(labelsOf(svc)["iot.shared-credentials"]).toBeUndefined();
      // Images are pinned to the digest the registry serves.
      expect(svc.inputs.taskSpec.containerSpec.image).toBe(`${s.image}@${mockDigest(s.image)}`);
    }
    const influx = named(e, "st-influxdb").inputs.taskSpec.containerSpec;
    expect(
      influx.mounts.filter((m: { type: string }) => m.type === "volume").map((m: { source: string }) => m.source),
    ).toEqual(t.services.find((s) => s.name === "influxdb")!.volumes.map((v) => `s1_${v.name}`));
    const prometheusFlows = t.flows.filter((f) => f.from === "prometheus");
    expect(labelsOf(named(e, "st-prometheus"))["iot.flows"]).toBe(
      prometheusFlows.map((f) => `${f.to}:${f.port}`).join(","),
    );
    expect(prometheusFlows.length).toBeGreaterThan(0);

    const contents = [...ofType(e.resources, CONFIG), ...ofType(e.resources, SECRET)].map((r) => ({
      type: r.type,
      text: decode(r.inputs.data),
    }));
    const holding = (text: string) => contents.filter((c) => c.text.includes(text)).map((c) => c.type);
    expect(holding("MOCK-CERT:st-pki-ca\n")).toContain(CONFIG);
    expect(holding("MOCK-CERT:st-pki-mosquitto-cert\n")).toContain(CONFIG);
    expect(holding(`${MOCK_PRIVATE_KEY_MARKER}:st-pki-mosquitto-key\n`)).toEqual([SECRET]);
    const pw = passwords[0];
    expect(holding(`mock-password-${pw.name}`).length).toBeGreaterThan(0);
    expect(new Set(holding(`mock-password-${pw.name}`))).toEqual(new Set([SECRET]));
    const certs = ofType(e.resources, CERT);
    const rules = contents.find((c) => c.text.includes("CertificateExpiringSoon"))!.text;
    for (const c of certs) {
      const seconds = Math.floor(Date.parse(c.outputs.validityEndTime) / 1000);
      expect(seconds).toBeGreaterThan(1_700_000_000);
      expect(rules).toContain(`vector(${seconds} - time())`);
    }
  });

  it("looks each image up once, keeps a digest reference, redraws rotated passwords and uses the stack's CA, reissue and rekeys", async () => {
    const base = devTopology();
    const [first, second] = base.services;
    const ids = passwordIds(base);
    const t: Topology = {
      ...base,
      services: base.services.map((s) =>
        s.name === second.name
          ? { ...s, image: first.image }
          : s.name === "influxdb"
            ? { ...s, image: "influx@sha256:feed" }
            : s,
      ),
      rotations: { [ids[0]]: "3", mosquitto: "5" },
      tls: { ...base.tls, reissue: "r2" },
      flows: [...base.flows],
    };
    const mocks = new CountingMocks();
    const e = await register(() => {
      new IotStack("st", { topology: t, stack: "s1", externalCa: { certPem: "EXT-CA", keyPem: "EXT-KEY" } }, {});
      return {};
    }, mocks);
    expect(mocks.lookups.filter((l) => l === first.image)).toEqual([first.image]);
    expect(mocks.lookups).not.toContain("influx@sha256:feed");
    expect(named(e, `st-${second.name}`).inputs.taskSpec.containerSpec.image).toBe(
      `${first.image}@${mockDigest(first.image)}`,
    );
    expect(named(e, "st-influxdb").inputs.taskSpec.containerSpec.image).toBe("influx@sha256:feed");
    expect(named(e, `st-${ids[0]}`).inputs.keepers).toEqual({ rotation: "3" });
    expect(named(e, `st-${ids[1]}`).inputs.keepers).toBeUndefined();
    expect(ofType(e.resources, CA)).toEqual([]);
    expect(named(e, "st-pki-mosquitto-cert").inputs.caCertPem).toBe("EXT-CA");
    expect(named(e, "st-pki-mosquitto-cert").replacementTrigger).toBe("r2");
    expect(named(e, "st-pki-mosquitto-key").replacementTrigger).toBe("5");
    expect(named(e, "st-pki-gateway-key").replacementTrigger).toBeUndefined();
  });

  it("writes no registry look-up when digests are not pinned, and registers the plan it is given", async () => {
    const base = devTopology();
    const t: Topology = { ...base, pinImageDigests: false };
    const planned = planNetworks(t);
    const plan = { ...planned, networks: planned.networks.map((n, i) => (i === 0 ? { ...n, vxlanId: 4_000_000 } : n)) };
    const mocks = new CountingMocks();
    const e = await register(() => {
      new IotStack("st", { topology: t, stack: "s1", plan });
      return {};
    }, mocks);
    expect(named(e, `st-net-${plan.networks[0].name}`).inputs.options[VXLAN_ID_OPTION]).toBe("4000000");
    expect(mocks.lookups).toEqual([]);
    for (const s of t.services) expect(named(e, `st-${s.name}`).inputs.taskSpec.containerSpec.image).toBe(s.image);
  });

  it("labels a service with exactly its own flows and the credentials it holds", async () => {
    const t = topologyFrom(bridgeConfig(["bridge -> redis:6379"]));
    const e = await register(() => {
      new IotStack("st", { topology: t, stack: "s1" });
      return {};
    });
    const labels = labelsOf(named(e, "st-bridge"));
    expect(labels["iot.flows"]).toBe("redis:6379");
    expect(labels["iot.credentials"]).toBe("redis:redis-bridge");
    expect(labels["iot.shared-credentials"]).toBeUndefined();
  });
});

describe("runProgram", () => {
  const run = (config: Record<string, string>) =>
    evaluate({ stack: "dev", config: { ...config, "other:key": "ignored" }, load: async () => runProgram() });

  it("registers the stack component from this stack's config and exports what it built", async () => {
    const e = await run(readStackConfig("dev").config);
    expect(e.outputs.environment).toBe("dev");
    expect(e.outputs.reachability).toEqual(e.outputs.intendedReachability);
    expect(Object.keys(e.outputs.intendedReachability as object).length).toBeGreaterThan(0);
    expect(e.outputs.caCertPem).toBe(certPem("iot-pki-ca"));
    const nets = ofType(e.resources, NETWORK);
    expect(e.outputs.networks).toEqual(Object.fromEntries(nets.map((n) => [n.inputs.name, n.id])));
    expect((e.outputs.discovery as unknown[]).length).toBeGreaterThan(0);
    expect((e.outputs.publishedPorts as unknown[]).length).toBeGreaterThan(0);
    expect(Object.keys(e.outputs.endpoints as object)).toContain("gateway");
    expect(e.outputs.warnings).toEqual(expect.any(Array));
    const gateway = named(e, "iot-gateway");
    expect(labelsOf(gateway)["iot.stack"]).toBe("dev");
    expect(ofType(e.resources, CA).map((r) => r.name)).toEqual(["iot-pki-ca"]);
  });

  it("signs with the CA of the config when its certificate and key are set", async () => {
    const caCert = "-----BEGIN CERTIFICATE-----\nSITE-CA\n-----END CERTIFICATE-----\n";
    const withKey = await run({
      ...readStackConfig("dev").config,
      "iot-swarm-net:caCertPem": caCert,
      "iot-swarm-net:caKeyPem": "-----BEGIN PRIVATE KEY-----\nSITE-KEY\n-----END PRIVATE KEY-----\n",
    });
    expect(ofType(withKey.resources, CA)).toEqual([]);
    expect(withKey.outputs.caCertPem).toBe(caCert);
    const cert = named(withKey, "iot-pki-mosquitto-cert");
    expect(cert.inputs.caPrivateKeyPem).toMatch(/SITE-KEY/);
    expect(cert.secretInputs).toContain("caPrivateKeyPem");
    // A certificate without its key is a config error, before any resource exists.
    await expect(run({ ...readStackConfig("dev").config, "iot-swarm-net:caCertPem": caCert })).rejects.toThrow(
      /iot-swarm-net:caKeyPem: a bring-your-own CA needs both/,
    );
  });
});
