/**
 * The reference prod stack, as the program registers it (evaluated in-process under mocks), checked
 * with policies/config/prod.json: it passes, and each one-property mutation of its recorded resources
 * is caught by exactly the rule it breaks. Both again as `pulumi stack export` writes the stack: secrets
 * encrypted (the default) and as plaintext (`--show-secrets`).
 */
import * as path from "path";
import { checkResources, CheckResult } from "../../policies/offline/check";
import { parseStackExport, StackResource, toStackExport } from "../../policies/offline/resources";
import { unwrapSecrets } from "../../policies/lib/secrets";
import { UNKNOWN_STRING_SENTINEL } from "../../policies/lib/values";
import { evaluateProgram } from "../../tools/evaluate";
import { fromEvaluation } from "../../tools/policyCheck";
import { asStackExport, EXPORT_FORMS, ExportForm, secretIn } from "./exportForms";
import { base64 } from "./fixtures";

const PROD_CONFIG = path.resolve(__dirname, "../../policies/config/prod.json");
const KEY_PEM =
  "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";

type Form = "evaluation" | ExportForm;
const FORMS: readonly Form[] = ["evaluation", ...EXPORT_FORMS];

let prod: StackResource[];
/** The stack in each form: as evaluated (secrets unwrapped), and as each export form writes it. */
const stacks = {} as Record<Form, StackResource[]>;

beforeAll(async () => {
  const evaluation = await evaluateProgram({ stack: "prod" });
  // Secrets unwrapped once, so a mutation edits plain values.
  prod = fromEvaluation(evaluation.resources).map((r) => ({
    ...r,
    inputs: unwrapSecrets(r.inputs) as Record<string, unknown>,
    outputs: unwrapSecrets(r.outputs) as Record<string, unknown>,
  }));
  stacks.evaluation = prod;
  for (const form of EXPORT_FORMS) stacks[form] = asStackExport(evaluation.resources, form);
});

const check = (resources: readonly StackResource[]) =>
  checkResources({ resources, stack: "prod", policyConfigFile: PROD_CONFIG });
const mandatory = async (resources: readonly StackResource[]) =>
  (await check(resources)).violations.filter((v) => v.enforcementLevel === "mandatory");

/** Wraps a value as a Pulumi secret the way a stack in that form holds it. */
type Secret = (value: unknown) => unknown;
const secretFor =
  (form: Form): Secret =>
  (value) =>
    secretIn(form === "evaluation" ? "value" : form, value);

/** A mutation: a copy of `base` with `change` applied to the inputs and outputs of one resource. */
function mutate(
  type: string,
  name: string,
  change: (props: any, all: readonly StackResource[], secret: Secret) => void,
): (base: readonly StackResource[], secret?: Secret) => StackResource[] {
  return (base, secret = secretFor("evaluation")) => {
    const copy = structuredClone(base) as StackResource[];
    const target = copy.find((r) => r.type === type && r.urn.endsWith(`::${name}`));
    if (!target) throw new Error(`the prod stack has no ${type} named ${name}`);
    change(target.inputs, copy, secret);
    change(target.outputs, copy, secret);
    return copy;
  };
}

const SERVICE = "docker:index/service:Service";
const NETWORK = "docker:index/network:Network";
const CONFIG = "docker:index/serviceConfig:ServiceConfig";
/** Edits the text of a Swarm config (the provider takes it base64-encoded). */
const editText = (change: (text: string) => string) => (p: any) =>
  (p.data = base64(change(Buffer.from(p.data, "base64").toString("utf8"))));
const networkId = (all: readonly StackResource[], dockerName: string) => {
  const found = all.find((r) => r.type === NETWORK && r.outputs?.name === dockerName);
  if (!found?.id) throw new Error(`no network ${dockerName}`);
  return found.id;
};
const containerSpec = (p: any) => p.taskSpec.containerSpec;

interface Mutation {
  readonly policy: string;
  readonly change: string;
  readonly apply: (base: readonly StackResource[], secret?: Secret) => StackResource[];
}

const mutations: Mutation[] = [
  {
    policy: "enforce-declared-segmentation",
    change: "redis also joins the frontend network",
    apply: mutate(SERVICE, "iot-redis", (p, all) =>
      p.taskSpec.networksAdvanceds.push({ id: networkId(all, "iot-frontend-network"), aliases: [] }),
    ),
  },
  {
    policy: "disallow-host-and-default-bridge-networks",
    change: "redis also joins the host network",
    apply: mutate(SERVICE, "iot-redis", (p) => p.taskSpec.networksAdvanceds.push({ id: "host", aliases: [] })),
  },
  {
    policy: "require-internal-networks",
    change: "the backend network is not internal",
    apply: mutate(NETWORK, "iot-net-iot-backend-network", (p) => (p.internal = false)),
  },
  {
    policy: "require-overlay-networks",
    change: "the backend network uses the bridge driver",
    apply: mutate(NETWORK, "iot-net-iot-backend-network", (p) => (p.driver = "bridge")),
  },
  {
    policy: "restrict-attachable-networks",
    change: "the cache network is attachable",
    apply: mutate(NETWORK, "iot-net-iot-cache-network", (p) => (p.attachable = true)),
  },
  {
    policy: "restrict-port-publishers",
    change: "node-red publishes 8081",
    apply: mutate(
      SERVICE,
      "iot-node-red",
      (p) =>
        (p.endpointSpec.ports = [
          { name: "debug", protocol: "tcp", targetPort: 8081, publishedPort: 8081, publishMode: "ingress" },
        ]),
    ),
  },
  {
    policy: "disallow-plaintext-mqtt",
    change: "mosquitto publishes 1883",
    apply: mutate(SERVICE, "iot-mosquitto", (p) =>
      p.endpointSpec.ports.push({
        name: "mqtt",
        protocol: "tcp",
        targetPort: 1883,
        publishedPort: 1883,
        publishMode: "ingress",
      }),
    ),
  },
  {
    policy: "disallow-sensitive-port-publishing",
    change: "the gateway publishes its metrics port 8405",
    apply: mutate(SERVICE, "iot-gateway", (p) =>
      p.endpointSpec.ports.push({
        name: "metrics",
        protocol: "tcp",
        targetPort: 8405,
        publishedPort: 8405,
        publishMode: "ingress",
      }),
    ),
  },
  {
    policy: "disallow-host-port-conflicts",
    change: "the gateway's HTTP port moves to 8883, which mosquitto publishes",
    apply: mutate(
      SERVICE,
      "iot-gateway",
      (p) => (p.endpointSpec.ports.find((x: any) => x.publishedPort === 80).publishedPort = 8883),
    ),
  },
  {
    policy: "disallow-privileged-host-ports",
    change: "mosquitto publishes on 883",
    apply: mutate(SERVICE, "iot-mosquitto", (p) => (p.endpointSpec.ports[0].publishedPort = 883)),
  },
  {
    policy: "enforce-publish-mode",
    change: "the gateway publishes HTTPS in host mode",
    apply: mutate(SERVICE, "iot-gateway", (p) => (p.endpointSpec.ports[0].publishMode = "host")),
  },
  {
    policy: "require-encrypted-overlay-networks",
    change: "the mqtt network is not encrypted",
    apply: mutate(NETWORK, "iot-net-iot-mqtt-network", (p) => (p.options = {})),
  },
  {
    policy: "require-strong-private-keys",
    change: "the broker key uses P-224",
    apply: mutate("tls:index/privateKey:PrivateKey", "iot-pki-mosquitto-key", (p) => (p.ecdsaCurve = "P224")),
  },
  {
    policy: "limit-certificate-validity",
    change: "the gateway certificate lives 800 days",
    apply: mutate(
      "tls:index/locallySignedCert:LocallySignedCert",
      "iot-pki-gateway-cert",
      (p) => (p.validityPeriodHours = 800 * 24),
    ),
  },
  {
    policy: "require-leaf-certificate-usage",
    change: "the node-red client certificate loses client_auth",
    apply: mutate(
      "tls:index/locallySignedCert:LocallySignedCert",
      "iot-pki-mqtt-client-node-red-cert",
      (p) => (p.allowedUses = ["digital_signature", "key_encipherment"]),
    ),
  },
  {
    policy: "require-leaf-certificate-sans",
    change: "the broker certificate request names no hosts",
    apply: mutate("tls:index/certRequest:CertRequest", "iot-pki-mosquitto-csr", (p) => (p.dnsNames = [])),
  },
  {
    policy: "restrict-cert-signing-to-ca",
    change: "the gateway certificate may sign certificates",
    apply: mutate("tls:index/locallySignedCert:LocallySignedCert", "iot-pki-gateway-cert", (p) =>
      p.allowedUses.push("cert_signing"),
    ),
  },
  {
    policy: "require-private-keys-in-secrets",
    change: "the broker's certificate config carries the key",
    apply: mutate(
      "docker:index/serviceConfig:ServiceConfig",
      "iot-mosquitto-server-crt",
      (p) => (p.data = base64(KEY_PEM)),
    ),
  },
  {
    policy: "require-healthcheck",
    change: "grafana has no health check",
    apply: mutate(SERVICE, "iot-grafana", (p) => delete containerSpec(p).healthcheck),
  },
  {
    policy: "disallow-docker-socket-mount",
    change: "prometheus mounts the Docker socket",
    apply: mutate(SERVICE, "iot-prometheus", (p) =>
      containerSpec(p).mounts.push({ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock" }),
    ),
  },
  {
    policy: "disallow-sensitive-host-mounts",
    change: "node-red bind-mounts /etc",
    apply: mutate(SERVICE, "iot-node-red", (p) =>
      containerSpec(p).mounts.push({ type: "bind", source: "/etc", target: "/host/etc" }),
    ),
  },
  {
    policy: "disallow-dangerous-capabilities",
    change: "nats adds SYS_ADMIN",
    apply: mutate(SERVICE, "iot-nats", (p) => (containerSpec(p).capAdds = ["SYS_ADMIN"])),
  },
  {
    policy: "require-dropped-capabilities",
    change: "redis keeps default capabilities",
    apply: mutate(SERVICE, "iot-redis", (p) => (containerSpec(p).capDrops = [])),
  },
  {
    policy: "require-memory-limit",
    change: "influxdb has no memory limit",
    apply: mutate(SERVICE, "iot-influxdb", (p) => delete p.taskSpec.resources.limits.memoryBytes),
  },
  {
    policy: "require-bounded-restart-policy",
    change: "grafana restarts without limit",
    apply: mutate(SERVICE, "iot-grafana", (p) => (p.taskSpec.restartPolicy.maxAttempts = 0)),
  },
  {
    policy: "require-pinned-image",
    change: "redis runs redis:latest",
    apply: mutate(SERVICE, "iot-redis", (p) => (containerSpec(p).image = "redis:latest")),
  },
  {
    policy: "disallow-secrets-in-env",
    change: "influxdb gets its admin password inline",
    apply: mutate(SERVICE, "iot-influxdb", (p) => (containerSpec(p).env.DOCKER_INFLUXDB_INIT_PASSWORD = "changeme")),
  },
  {
    policy: "require-non-root-user",
    change: "nats runs as root",
    apply: mutate(SERVICE, "iot-nats", (p) => (containerSpec(p).user = "0:0")),
  },
  {
    policy: "require-read-only-root-filesystem",
    change: "grafana's root filesystem is writable",
    apply: mutate(SERVICE, "iot-grafana", (p) => (containerSpec(p).readOnly = false)),
  },
  {
    policy: "disallow-secrets-in-env",
    change: "node-red gets a Pulumi secret in its environment",
    apply: mutate(SERVICE, "iot-node-red", (p, _all, secret) => (containerSpec(p).env.GREETING = secret("hello"))),
  },
  {
    policy: "disallow-secrets-in-env",
    change: "grafana's InfluxDB URL carries a password",
    apply: mutate(
      SERVICE,
      "iot-grafana",
      (p) => (containerSpec(p).env.INFLUX_URL = "http://admin:changeme@influxdb:8086"),
    ),
  },
  {
    policy: "disallow-secrets-in-commands",
    change: "redis gets its password on the command line",
    apply: mutate(SERVICE, "iot-redis", (p) => containerSpec(p).commands.push("--requirepass", "changeme")),
  },
  {
    policy: "disallow-credentials-in-configs",
    change: "redis's config sets requirepass",
    apply: mutate(
      CONFIG,
      "iot-redis-redis-conf",
      editText((t) => `${t}requirepass changeme\n`),
    ),
  },
  {
    policy: "disallow-plaintext-mqtt",
    change: "the broker's health-check listener is no longer bound to loopback",
    apply: mutate(
      CONFIG,
      "iot-mosquitto-mosquitto-conf",
      editText((t) => t.replace("listener 1883 127.0.0.1", "listener 1883")),
    ),
  },
  {
    policy: "require-mqtt-client-certificates",
    change: "the broker stops requiring client certificates",
    apply: mutate(
      CONFIG,
      "iot-mosquitto-mosquitto-conf",
      editText((t) => t.replace("require_certificate true", "require_certificate false")),
    ),
  },
  {
    policy: "require-admin-source-allowlist",
    change: "the gateway's admin allowlist admits every address",
    apply: mutate(
      CONFIG,
      "iot-gateway-haproxy-cfg",
      editText((t) => t.replace(/acl admin_src src .*/, "acl admin_src src 0.0.0.0/0")),
    ),
  },
  {
    policy: "require-admin-source-allowlist",
    change: "the Node-RED editor route loses its deny rule",
    apply: mutate(
      CONFIG,
      "iot-gateway-haproxy-cfg",
      editText((t) => t.replace(/ *http-request deny deny_status 403 if host_node_red !admin_src\n/, "")),
    ),
  },
  {
    policy: "require-pinned-stateful-services",
    change: "grafana runs two replicas on its volume",
    apply: mutate(SERVICE, "iot-grafana", (p) => (p.mode.replicated.replicas = 2)),
  },
];

/**
 * A standalone container added next to the services, hardened as the pack asks (a legacy tool an operator runs
 * beside the stack). A file it is given carries a Pulumi secret, so each export form wraps part of it.
 */
const CONTAINER = "docker:index/container:Container";
const DIGEST = `sha256:${"b".repeat(64)}`;
function hardenedContainer(secret: Secret): StackResource {
  const props = {
    name: "legacy-logger",
    image: `example/legacy-logger:1.2.3@${DIGEST}`,
    networkMode: "none",
    envs: ["LOG_LEVEL=info", "TOKEN_FILE=/run/token"],
    uploads: [{ file: "/run/token", content: secret("t0k3n-value") }],
    user: "1000:1000",
    readOnly: true,
    capabilities: { drops: ["ALL"] },
    securityOpts: ["no-new-privileges:true"],
    healthcheck: { tests: ["CMD", "true"], interval: "10s", timeout: "5s", retries: 3 },
    memory: 128,
    restart: "on-failure",
    maxRetryCount: 5,
  };
  return {
    urn: "urn:pulumi:prod::iot-swarm-net::docker:index/container:Container::legacy-logger",
    type: CONTAINER,
    id: "legacy-logger-id",
    custom: true,
    inputs: structuredClone(props),
    outputs: structuredClone(props),
  };
}

/** The stack plus the hardened container with `change` applied to its inputs and outputs. */
const withContainer =
  (change: (props: any) => void) =>
  (base: readonly StackResource[], secret: Secret = secretFor("evaluation")): StackResource[] => {
    const added = hardenedContainer(secret);
    change(added.inputs);
    change(added.outputs);
    return [...structuredClone(base), added];
  };

mutations.push(
  {
    policy: "require-image-digest",
    change: "redis runs a tag without its digest",
    apply: mutate(SERVICE, "iot-redis", (p) => (containerSpec(p).image = "redis:7.4.1-alpine")),
  },
  {
    policy: "disallow-privileged-containers",
    change: "a standalone container runs privileged",
    apply: withContainer((p) => (p.privileged = true)),
  },
  {
    policy: "disallow-host-namespaces",
    change: "a standalone container shares the host's PID namespace",
    apply: withContainer((p) => (p.pidMode = "host")),
  },
  {
    policy: "require-container-security-options",
    change: "a standalone container drops no-new-privileges",
    apply: withContainer((p) => (p.securityOpts = [])),
  },
  {
    policy: "require-container-security-options",
    change: "a standalone container runs seccomp unconfined",
    apply: withContainer((p) => p.securityOpts.push("seccomp=unconfined")),
  },
);

describe("the reference prod stack", () => {
  it("has no mandatory violation under policies/config/prod.json", async () => {
    expect((await mandatory(prod)).map((v) => `${v.policyName}: ${v.message}`)).toEqual([]);
  });

  it("has no advisory violation either: its stateful services are pinned to one node, its images to their digests", async () => {
    const advisory = (await check(prod)).violations.filter((v) => v.enforcementLevel === "advisory");
    expect(advisory.map((v) => `${v.policyName}: ${v.message}`)).toEqual([]);
  });

  it("gives the same result from a stack export as from the evaluation", async () => {
    const exported = parseStackExport(JSON.stringify(toStackExport(prod)), "export.json");
    expect((await check(exported)).lines).toEqual((await check(prod)).lines);
  });

  it("passes in the shape of a first preview, where network ids are unknown", async () => {
    expect((await mandatory(asFirstPreview(prod))).map((v) => v.message)).toEqual([]);
  });

  it("is still segmented by the engine's property dependencies in a first preview", async () => {
    const mutated = mutations[0].apply(prod);
    const redis = mutated.find((r) => r.type === SERVICE && r.urn.endsWith("::iot-redis"))!;
    const frontend = mutated.find((r) => r.type === NETWORK && r.outputs?.name === "iot-frontend-network")!;
    (redis.propertyDependencies as Record<string, string[]>).taskSpec = [
      ...(redis.propertyDependencies?.taskSpec ?? []),
      frontend.urn,
    ];
    const inPreview = (await mandatory(asFirstPreview(mutated))).map((v) => v.message);
    expect(inPreview).toEqual((await mandatory(mutated)).map((v) => v.message));
    expect(inPreview).toContainEqual(
      expect.stringMatching(/^service "redis" and service "grafana" can reach each other on "iot-frontend-network"/),
    );
  });
});

/** Network ids unknown, service network references unknown: what `pulumi preview` sees on a new stack. */
function asFirstPreview(resources: readonly StackResource[]): StackResource[] {
  return structuredClone(resources).map((r) => {
    if (r.type === NETWORK) {
      delete r.outputs!.id;
      return { ...r, id: undefined };
    }
    if (r.type === SERVICE) {
      for (const props of [r.inputs!, r.outputs!]) {
        for (const n of (props as any).taskSpec.networksAdvanceds) n.id = UNKNOWN_STRING_SENTINEL;
      }
    }
    return r;
  });
}

const key = (v: { policyName: string; message: string; urn?: string }) =>
  `${v.policyName}\u0000${v.message}\u0000${v.urn}`;

describe("one-property mutations of the prod stack", () => {
  it("cover at least 15 rules", () => {
    expect(new Set(mutations.map((m) => m.policy)).size).toBeGreaterThanOrEqual(15);
  });
});

describe.each(FORMS)("the prod stack as %s", (form) => {
  let baseline: CheckResult;
  beforeAll(async () => {
    baseline = await check(stacks[form]);
  });

  it("has no mandatory violation, and the same report as the evaluation", async () => {
    expect(baseline.violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
    expect(baseline.lines).toEqual((await check(prod)).lines);
  });

  it("has no new violation with a hardened standalone container added", async () => {
    const before = new Set(baseline.violations.map(key));
    const added = (await check(withContainer(() => undefined)(stacks[form], secretFor(form)))).violations;
    expect(added.filter((v) => !before.has(key(v))).map((v) => `${v.policyName}: ${v.message}`)).toEqual([]);
  });

  it.each(mutations.map((m) => [m.policy, m.change, m] as const))(
    "%s catches: %s (and no other mandatory rule does)",
    async (policy, _change, m) => {
      const before = new Set(baseline.violations.map(key));
      const added = (await check(m.apply(stacks[form], secretFor(form)))).violations.filter((v) => !before.has(key(v)));
      expect(added.filter((v) => v.policyName === policy).length).toBeGreaterThan(0);
      expect(added.filter((v) => v.policyName !== policy && v.enforcementLevel === "mandatory")).toEqual([]);
    },
  );
});
