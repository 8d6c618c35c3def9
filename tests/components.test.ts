/**
 * The components one at a time, under Pulumi mocks: each test registers one component with narrow args and
 * asserts the inputs (and resource options) of what it registers. Faster and more exact than evaluating the
 * whole program (tests/program*.test.ts); every fixture is built inside its test.
 */
import * as pulumi from "@pulumi/pulumi";
import { SegmentedNetworks, VXLAN_ID_OPTION } from "../components/networks";
import { leafResourceNames, Pki } from "../components/pki";
import { SwarmService, SwarmServiceArgs, withDefaults } from "../components/swarmService";
import { contentHash, createSwarmFile, fileResourceName, renderTemplate } from "../components/swarmFile";
import { FileSpec } from "../model/fileSpec";
import { dockerServiceName } from "../model/rollout";
import { NetworkPlan, PlannedNetwork } from "../model/networks";
import { LeafPlan } from "../model/pki";
import { ServiceSpec } from "../model/types";
import { CA, certPem, CERT, CSR, KEY, keyPem, labelsOf, named, register, typeChain } from "./componentFixtures";
import { CONFIG, decode, NETWORK, SECRET, SERVICE } from "./helpers";

function serviceSpec(over: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name: "svc",
    image: "ghcr.io/acme/svc:1.0.0",
    tiers: ["backend", "frontend"],
    role: "worker",
    ports: [
      { name: "http", port: 8080, protocol: "tcp", appProtocol: "http", purpose: "API", published: 18080 },
      { name: "metrics", port: 9100, protocol: "udp", appProtocol: "metrics", purpose: "metrics" },
    ],
    health: { test: ["CMD", "true"], intervalSeconds: 15, timeoutSeconds: 4, retries: 7, startPeriodSeconds: 90 },
    replicas: 3,
    aliases: ["alias-a"],
    endpointMode: "dnsrr",
    singleton: false,
    egress: false,
    uid: 1234,
    gid: 5678,
    readOnlyRootFilesystem: true,
    capDrop: ["ALL"],
    capAdd: ["NET_BIND_SERVICE"],
    resources: { cpus: 0.5, memoryMb: 256, reservedCpus: 0.25, reservedMemoryMb: 64 },
    placement: ["node.role==worker"],
    env: { A: "1", SHARED: "plain" },
    command: ["run"],
    args: ["--flag"],
    volumes: [{ name: "data", target: "/data" }],
    tmpfs: ["/tmp"],
    externalEndpoints: [],
    ...over,
  };
}

const resolveFake = (p: { kind: string; name: string }) => pulumi.output(`<${p.kind}:${p.name}>`);

function serviceArgs(over: Partial<SwarmServiceArgs> = {}): SwarmServiceArgs {
  return {
    spec: serviceSpec(),
    files: { files: [], env: {} },
    resolve: resolveFake,
    networks: [{ name: "net-a", id: "id-a" }],
    stackLabels: { "iot.stack": "s1", "iot.environment": "dev" },
    volumePrefix: "pfx",
    ...over,
  };
}

describe("withDefaults", () => {
  it("fills every default when nothing is given", () => {
    const a = withDefaults(serviceArgs());
    expect({
      image: a.image,
      flows: a.flows,
      credentials: a.credentials,
      sharedCredentials: a.sharedCredentials,
      publishMode: a.publishMode,
      platforms: a.platforms,
      update: a.update,
      rollback: a.rollback,
      converge: a.converge,
      stopGracePeriodSeconds: a.stopGracePeriodSeconds,
    }).toEqual({
      image: "ghcr.io/acme/svc:1.0.0",
      flows: [],
      credentials: [],
      sharedCredentials: [],
      publishMode: "ingress",
      platforms: [{ os: "linux", architecture: "amd64" }],
      update: {
        parallelism: 1,
        delaySeconds: 10,
        failureAction: "rollback",
        monitorSeconds: 30,
        maxFailureRatio: 0,
        order: "start-first",
      },
      rollback: {
        parallelism: 1,
        delaySeconds: 5,
        failureAction: "pause",
        monitorSeconds: 30,
        maxFailureRatio: 0,
        order: "start-first",
      },
      converge: { delaySeconds: 5, timeoutSeconds: 300 },
      stopGracePeriodSeconds: 20,
    });
  });

  it("keeps every value given, and orders host-published updates stop-first", () => {
    const given = {
      parallelism: 2,
      delaySeconds: 7,
      failureAction: "continue" as const,
      monitorSeconds: 11,
      maxFailureRatio: 0.3,
      order: "start-first" as const,
    };
    const a = withDefaults(
      serviceArgs({
        image: "img@sha256:1",
        flows: ["x:1"],
        credentials: ["x:c"],
        sharedCredentials: ["x:c"],
        publishMode: "host",
        platforms: [{ os: "linux", architecture: "arm64" }],
        update: given,
        rollback: {},
        converge: { delaySeconds: 1, timeoutSeconds: 2 },
        stopGracePeriodSeconds: 3,
      }),
    );
    expect(a.image).toBe("img@sha256:1");
    expect(a.flows).toEqual(["x:1"]);
    expect(a.credentials).toEqual(["x:c"]);
    expect(a.sharedCredentials).toEqual(["x:c"]);
    expect(a.publishMode).toBe("host");
    expect(a.platforms).toEqual([{ os: "linux", architecture: "arm64" }]);
    expect(a.update).toEqual(given);
    // A published port in host mode cannot be held by two tasks at once.
    expect(a.rollback.order).toBe("stop-first");
    expect(a.converge).toEqual({ delaySeconds: 1, timeoutSeconds: 2 });
    expect(a.stopGracePeriodSeconds).toBe(3);
  });
});

describe("SwarmService", () => {
  it("registers the service with labels, ports, task spec and rollout settings in the provider's form", async () => {
    const files: FileSpec[] = [
      { name: "app.conf", target: "/etc/app.conf", mode: 0o444, kind: "config", template: "ca={{ca}}" },
      { name: "key.pem", target: "/run/secrets/key", mode: 0o400, kind: "secret", template: "{{key.svc}}" },
    ];
    const e = await register(() => {
      const s = new SwarmService(
        "iot-svc",
        serviceArgs({
          files: { files, env: { SHARED: "from-file", KEY_FILE: "/run/secrets/key" } },
          flows: ["db:5432", "cache:6379"],
          credentials: ["cache:svc", "db:admin"],
          sharedCredentials: ["cache:svc", "db:admin"],
          publishMode: "host",
          image: "ghcr.io/acme/svc@sha256:abc",
        }),
      );
      return { serviceName: s.serviceName, files: s.files.map((f) => f.objectName) };
    });
    const svc = named(e, "iot-svc");
    expect(svc.type).toBe(SERVICE);
    // A service publishing a port keeps its name and is deleted first.
    expect(svc.inputs.name).toBe("svc");
    expect(e.outputs.serviceName).toBe("svc");
    expect(svc.deleteBeforeReplace).toBe(true);
    expect(svc.inputs.labels).toEqual([
      { label: "iot.stack", value: "s1" },
      { label: "iot.environment", value: "dev" },
      { label: "iot.service", value: "svc" },
      { label: "iot.role", value: "worker" },
      { label: "iot.tiers", value: "backend,frontend" },
      { label: "iot.flows", value: "db:5432,cache:6379" },
      { label: "iot.credentials", value: "cache:svc,db:admin" },
      { label: "iot.shared-credentials", value: "cache:svc,db:admin" },
    ]);
    expect(svc.inputs.mode).toEqual({ replicated: { replicas: 3 } });
    expect(svc.inputs.endpointSpec).toEqual({
      mode: "dnsrr",
      ports: [{ name: "http", protocol: "tcp", targetPort: 8080, publishedPort: 18080, publishMode: "host" }],
    });
    const conf = named(e, "iot-svc-app-conf");
    const key = named(e, "iot-svc-key-pem");
    expect(e.outputs.files).toEqual([conf.inputs.name, key.inputs.name]);
    const owner = { fileUid: "1234", fileGid: "5678" };
    expect(svc.inputs.taskSpec).toEqual({
      containerSpec: {
        image: "ghcr.io/acme/svc@sha256:abc",
        commands: ["run"],
        args: ["--flag"],
        env: { A: "1", SHARED: "from-file", KEY_FILE: "/run/secrets/key" },
        user: "1234:5678",
        readOnly: true,
        capDrops: ["ALL"],
        capAdds: ["NET_BIND_SERVICE"],
        healthcheck: { tests: ["CMD", "true"], interval: "15s", timeout: "4s", retries: 7, startPeriod: "1m30s" },
        secrets: [
          { secretId: key.id, secretName: key.inputs.name, fileName: "/run/secrets/key", fileMode: 0o400, ...owner },
        ],
        configs: [
          { configId: conf.id, configName: conf.inputs.name, fileName: "/etc/app.conf", fileMode: 0o444, ...owner },
        ],
        mounts: [
          { type: "volume", source: "pfx_data", target: "/data" },
          { type: "tmpfs", target: "/tmp", tmpfsOptions: { sizeBytes: 64 * 1024 * 1024 } },
        ],
        stopGracePeriod: "20s",
      },
      networksAdvanceds: [{ id: "id-a", aliases: ["alias-a"] }],
      resources: {
        limits: { nanoCpus: 500_000_000, memoryBytes: 268_435_456 },
        reservation: { nanoCpus: 250_000_000, memoryBytes: 67_108_864 },
      },
      restartPolicy: { condition: "on-failure", delay: "5s", maxAttempts: 5, window: "2m" },
      placement: { constraints: ["node.role==worker"], platforms: [{ os: "linux", architecture: "amd64" }] },
    });
    expect(svc.inputs.updateConfig).toEqual({
      parallelism: 1,
      delay: "10s",
      failureAction: "rollback",
      monitor: "30s",
      maxFailureRatio: "0.0",
      order: "stop-first",
    });
    expect(svc.inputs.rollbackConfig).toEqual({
      parallelism: 1,
      delay: "5s",
      failureAction: "pause",
      monitor: "30s",
      maxFailureRatio: "0.0",
      order: "stop-first",
    });
    expect(svc.inputs.convergeConfig).toEqual({ delay: "5s", timeout: "5m" });
    // The service waits on its own files.
    expect(svc.dependencies).toEqual(expect.arrayContaining([conf.urn, key.urn]));
  });

  it("writes given rollout settings; leaves out commands, args, added capabilities and shared credentials when there are none", async () => {
    const e = await register(() => {
      new SwarmService(
        "iot-svc",
        serviceArgs({
          spec: serviceSpec({ command: undefined, args: undefined, capAdd: [], uid: 1, gid: 2 }),
          credentials: ["db:svc"],
          update: {
            parallelism: 2,
            delaySeconds: 60,
            failureAction: "pause",
            monitorSeconds: 90,
            maxFailureRatio: 0.2,
          },
          rollback: {
            parallelism: 3,
            delaySeconds: 1,
            failureAction: "continue",
            monitorSeconds: 2,
            order: "stop-first",
          },
          converge: { delaySeconds: 2, timeoutSeconds: 3600 },
          stopGracePeriodSeconds: 45,
        }),
      );
      return {};
    });
    const svc = named(e, "iot-svc");
    const c = svc.inputs.taskSpec.containerSpec;
    expect(c.commands).toBeUndefined();
    expect(c.args).toBeUndefined();
    expect(c.capAdds).toBeUndefined();
    expect(c.user).toBe("1:2");
    expect(c.stopGracePeriod).toBe("45s");
    expect(labelsOf(svc)).toEqual({
      "iot.stack": "s1",
      "iot.environment": "dev",
      "iot.service": "svc",
      "iot.role": "worker",
      "iot.tiers": "backend,frontend",
      "iot.flows": "",
      "iot.credentials": "db:svc",
    });
    expect(svc.inputs.endpointSpec.ports[0].publishMode).toBe("ingress");
    expect(svc.inputs.updateConfig).toEqual({
      parallelism: 2,
      delay: "1m",
      failureAction: "pause",
      monitor: "1m30s",
      maxFailureRatio: "0.2",
      order: "start-first",
    });
    expect(svc.inputs.rollbackConfig).toEqual({
      parallelism: 3,
      delay: "1s",
      failureAction: "continue",
      monitor: "2s",
      maxFailureRatio: "0.0",
      order: "stop-first",
    });
    expect(svc.inputs.convergeConfig).toEqual({ delay: "2s", timeout: "1h" });
  });

  it("names a stateless service without published ports after its networks, creates it first, and aliases its name", async () => {
    const e = await register(() => {
      const s = new SwarmService(
        "iot-svc",
        serviceArgs({
          spec: serviceSpec({
            ports: [{ name: "http", port: 8080, protocol: "tcp", appProtocol: "http", purpose: "" }],
          }),
          networks: [
            { name: "net-a", id: "id-a" },
            { name: "net-b", id: "id-b" },
          ],
        }),
      );
      return { serviceName: s.serviceName };
    });
    const svc = named(e, "iot-svc");
    expect(svc.inputs.name).toMatch(/^svc-[0-9a-f]{8}$/);
    expect(svc.inputs.name).toBe(
      dockerServiceName(
        serviceSpec({ ports: [{ name: "http", port: 8080, protocol: "tcp", appProtocol: "http", purpose: "" }] }),
        ["net-a", "net-b"],
      ),
    );
    expect(e.outputs.serviceName).toBe(svc.inputs.name);
    expect(svc.deleteBeforeReplace).toBe(false);
    expect(svc.inputs.endpointSpec).toEqual({ mode: "dnsrr", ports: [] });
    expect(svc.inputs.taskSpec.networksAdvanceds).toEqual([
      { id: "id-a", aliases: ["svc", "alias-a"] },
      { id: "id-b", aliases: ["svc", "alias-a"] },
    ]);
    const other = await register(() => {
      new SwarmService(
        "iot-svc",
        serviceArgs({
          spec: serviceSpec({
            ports: [{ name: "http", port: 8080, protocol: "tcp", appProtocol: "http", purpose: "" }],
          }),
          networks: [{ name: "net-a", id: "id-a" }],
        }),
      );
      return {};
    });
    expect(named(other, "iot-svc").inputs.name).not.toBe(svc.inputs.name);
  });
});

describe("Swarm files", () => {
  it("renderTemplate returns a template without placeholders as it is and fills the others in order", async () => {
    const calls: string[] = [];
    const resolve = (p: { kind: string; name: string }) => {
      calls.push(`${p.kind}.${p.name}`);
      return pulumi.output(`<${p.kind}:${p.name}>`);
    };
    await register(() => ({
      plain: renderTemplate("no {placeholders} here", resolve),
      filled: renderTemplate("a={{ca}} b={{ cert.x }} c={{password.p}}", resolve),
    })).then((e) => {
      expect(e.outputs.plain).toBe("no {placeholders} here");
      expect(e.outputs.filled).toBe("a=<ca:> b=<cert:x> c=<password:p>");
    });
    expect(calls).toEqual(["ca.", "cert.x", "password.p"]);
  });

  it("contentHash is the first 12 hex digits of the SHA-256 of the content", () => {
    expect(contentHash("abc")).toBe("ba7816bf8f01");
  });

  it("fileResourceName replaces every character but letters, digits and hyphens", () => {
    expect(fileResourceName("iot-svc", "My-File_2.conf/x")).toBe("iot-svc-My-File-2-conf-x");
    expect(fileResourceName("iot-svc", "aZ09_z.A9/0")).toBe("iot-svc-aZ09-z-A9-0");
  });

  it("registers a config without placeholders of secrets as a Swarm config named by its content", async () => {
    const e = await register(() => {
      const parent = new pulumi.ComponentResource("test:index:Parent", "parent");
      const spec: FileSpec = {
        name: "app.conf",
        target: "/etc/app.conf",
        mode: 0o444,
        kind: "config",
        template: "ca={{ca}}\n",
      };
      const f = createSwarmFile("iot-svc", "svc", spec, resolveFake, parent);
      return { id: f.id, objectName: f.objectName, target: f.spec.target };
    });
    const r = named(e, "iot-svc-app-conf");
    expect(r.type).toBe(CONFIG);
    expect(r.inputs.name).toBe(`svc-app-conf-${contentHash("ca=<ca:>\n")}`);
    expect(decode(r.inputs.data)).toBe("ca=<ca:>\n");
    expect(r.inputs.labels).toBeUndefined();
    expect(r.secretInputs).toEqual([]);
    expect(r.deleteBeforeReplace).toBe(false);
    expect(r.parent).toMatch(/parent$/);
    expect(e.outputs).toEqual({ id: r.id, objectName: r.inputs.name, target: "/etc/app.conf" });
  });

  it("registers a secret, and a config holding a key or password, as a labelled Swarm secret", async () => {
    const e = await register(() => {
      const parent = new pulumi.ComponentResource("test:index:Parent", "parent");
      const file = (name: string, kind: "config" | "secret", template: string): FileSpec => ({
        name,
        target: `/run/${name}`,
        mode: 0o400,
        kind,
        template,
      });
      createSwarmFile("iot-svc", "svc", file("token", "secret", "plain token é"), resolveFake, parent);
      createSwarmFile("iot-svc", "svc", file("users", "config", "user={{password.db}}"), resolveFake, parent);
      createSwarmFile("iot-svc", "svc", file("tls", "config", "{{key.svc}}"), resolveFake, parent);
      return {};
    });
    const token = named(e, "iot-svc-token");
    expect(token.type).toBe(SECRET);
    expect(decode(token.inputs.data)).toBe("plain token é");
    expect(token.inputs.name).toBe(`svc-token-${contentHash("plain token é")}`);
    expect(token.inputs.labels).toEqual([{ label: "iot.file", value: "svc/token" }]);
    expect(token.secretInputs).toEqual(["data"]);
    expect(token.deleteBeforeReplace).toBe(false);
    expect(named(e, "iot-svc-users").type).toBe(SECRET);
    expect(decode(named(e, "iot-svc-users").inputs.data)).toBe("user=<password:db>");
    expect(named(e, "iot-svc-tls").type).toBe(SECRET);
  });
});

describe("SegmentedNetworks", () => {
  function network(over: Partial<PlannedNetwork>): PlannedNetwork {
    return {
      name: "iot-backend-network",
      kind: "tier",
      owner: "backend",
      services: ["a", "b"],
      internal: true,
      attachable: true,
      encrypted: false,
      subnet: "10.20.1.0/24",
      gateway: "10.20.1.1",
      vxlanId: 4097,
      description: "",
      ...over,
    };
  }

  it("registers one overlay network per planned network, with its options, address range and labels", async () => {
    const plan = {
      networks: [
        network({}),
        network({
          name: "iot-svc-egress",
          kind: "egress",
          owner: "svc",
          internal: false,
          attachable: false,
          encrypted: true,
          subnet: "10.20.2.0/24",
          gateway: "10.20.2.1",
          vxlanId: 4098,
        }),
      ],
    } as unknown as NetworkPlan;
    const e = await register(() => {
      const n = new SegmentedNetworks("st-net", { plan, stack: "s1", environment: "prod" });
      return { ids: n.ids, names: Object.keys(n.networks) };
    });
    const tier = named(e, "st-net-iot-backend-network");
    expect(tier.type).toBe(NETWORK);
    expect(tier.inputs).toEqual({
      name: "iot-backend-network",
      driver: "overlay",
      internal: true,
      attachable: true,
      options: { [VXLAN_ID_OPTION]: "4097" },
      ipamConfigs: [{ subnet: "10.20.1.0/24", gateway: "10.20.1.1" }],
      labels: [
        { label: "iot.stack", value: "s1" },
        { label: "iot.environment", value: "prod" },
        { label: "iot.network-kind", value: "tier" },
        { label: "iot.tiers", value: "backend" },
      ],
    });
    expect(VXLAN_ID_OPTION).toBe("com.docker.network.driver.overlay.vxlanid_list");
    expect(tier.deleteBeforeReplace).toBe(true);
    const egress = named(e, "st-net-iot-svc-egress");
    expect(egress.inputs.internal).toBe(false);
    expect(egress.inputs.attachable).toBe(false);
    expect(egress.inputs.options).toEqual({ [VXLAN_ID_OPTION]: "4098", encrypted: "true" });
    expect(labelsOf(egress)["iot.network-kind"]).toBe("egress");
    expect(labelsOf(egress)["iot.tiers"]).toBe("");
    expect(e.outputs.ids).toEqual({ "iot-backend-network": tier.id, "iot-svc-egress": egress.id });
    expect(e.outputs.names).toEqual(["iot-backend-network", "iot-svc-egress"]);
  });
});

describe("Pki", () => {
  const leaves = (): LeafPlan[] => [
    {
      name: "broker",
      commonName: "mqtt.example.com",
      dnsNames: ["mqtt.example.com", "broker"],
      usage: "server",
      validityHours: 100,
      earlyRenewalHours: 10,
    },
    {
      name: "client-a",
      commonName: "client-a",
      dnsNames: [],
      usage: "client",
      validityHours: 200,
      earlyRenewalHours: 20,
    },
  ];

  it("generates a CA and issues each leaf from its own key and request", async () => {
    const e = await register(() => {
      const p = new Pki("p", {
        leaves: leaves(),
        organization: "Acme",
        caValidityHours: 1000,
        rekey: { "client-a": "2" },
      });
      return { ca: p.caCertPem, certificates: p.certificates };
    });
    expect(named(e, "p-ca-key").inputs).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
    const ca = named(e, "p-ca");
    expect(ca.type).toBe(CA);
    expect(ca.inputs).toEqual({
      privateKeyPem: keyPem("p-ca-key"),
      subject: { commonName: "Acme IoT CA", organization: "Acme" },
      isCaCertificate: true,
      validityPeriodHours: 1000,
      allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
    });
    expect(e.outputs.ca).toBe(certPem("p-ca"));
    const tlsResources = e.resources.filter((r) => r.type.startsWith("tls:"));
    expect(tlsResources.length).toBe(8);
    for (const r of tlsResources) expect(typeChain(r)).toBe(`iot-swarm-net:security:Pki$${r.type}`);
    expect(leafResourceNames("p", "broker")).toEqual({
      key: "p-broker-key",
      csr: "p-broker-csr",
      cert: "p-broker-cert",
    });
    const key = named(e, "p-broker-key");
    expect(key.type).toBe(KEY);
    expect(key.inputs).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
    expect(key.replacementTrigger).toBeUndefined();
    expect(named(e, "p-client-a-key").replacementTrigger).toBe("2");
    const csr = named(e, "p-broker-csr");
    expect(csr.type).toBe(CSR);
    expect(csr.inputs).toEqual({
      privateKeyPem: keyPem("p-broker-key"),
      subject: { commonName: "mqtt.example.com", organization: "Acme" },
      dnsNames: ["mqtt.example.com", "broker"],
    });
    const cert = named(e, "p-broker-cert");
    expect(cert.type).toBe(CERT);
    expect(cert.inputs).toEqual({
      certRequestPem: "-----BEGIN CERTIFICATE REQUEST-----\nMOCK-CSR:p-broker-csr\n-----END CERTIFICATE REQUEST-----\n",
      caPrivateKeyPem: keyPem("p-ca-key"),
      caCertPem: certPem("p-ca"),
      validityPeriodHours: 100,
      earlyRenewalHours: 10,
      allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
    });
    expect(cert.secretInputs).toContain("caPrivateKeyPem");
    expect(cert.replacementTrigger).toBeUndefined();
    expect(named(e, "p-client-a-cert").inputs.allowedUses).toEqual([
      "digital_signature",
      "key_encipherment",
      "client_auth",
    ]);
    expect(e.outputs.certificates).toEqual({
      broker: {
        certPem: certPem("p-broker-cert"),
        validityEndTime: "2026-01-05T04:00:00.000Z",
        privateKeyPem: keyPem("p-broker-key"),
      },
      "client-a": {
        certPem: certPem("p-client-a-cert"),
        validityEndTime: "2026-01-09T08:00:00.000Z",
        privateKeyPem: keyPem("p-client-a-key"),
      },
    });
  });

  it("signs with a CA brought by the user, and re-issues every leaf with a new reissue generation", async () => {
    const e = await register(() => {
      const p = new Pki("p", {
        leaves: leaves(),
        organization: "Acme",
        caValidityHours: 1000,
        externalCa: { certPem: "EXT-CA", keyPem: "EXT-KEY" },
        reissue: "r9",
      });
      return { ca: p.caCertPem };
    });
    expect(e.resources.filter((r) => r.type === CA || r.name === "p-ca-key")).toEqual([]);
    expect(e.outputs.ca).toBe("EXT-CA");
    const cert = named(e, "p-broker-cert");
    expect(cert.inputs.caCertPem).toBe("EXT-CA");
    expect(cert.inputs.caPrivateKeyPem).toBe("EXT-KEY");
    expect(cert.secretInputs).toContain("caPrivateKeyPem");
    expect(cert.replacementTrigger).toBe("r9");
    expect(named(e, "p-client-a-cert").replacementTrigger).toBe("r9");
    expect(named(e, "p-broker-key").replacementTrigger).toBeUndefined();
  });
});
