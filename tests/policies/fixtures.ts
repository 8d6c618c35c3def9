/**
 * Happy-path resources for policy tests: each factory returns a resource that passes every policy;
 * a test changes one property with `edit` and expects exactly the rule it targets to report.
 */
import { FakeResource, fakeUrn } from "../../policies/offline/harness";
import { secretWrapper } from "../../policies/lib/secrets";
import { TYPES } from "../../policies/lib/workloads";

export { TYPES };

export const DIGEST = `sha256:${"a".repeat(64)}`;
const MiB = 1024 * 1024;

/** A deep copy of `resource` with `change` applied to its props. */
export function edit(resource: FakeResource, change: (props: any) => void): FakeResource {
  const props = structuredClone(resource.props);
  change(props);
  return { ...resource, props };
}

export const urnOf = (r: FakeResource) => r.urn ?? fakeUrn(r.type, r.name);

export interface NetworkOptions {
  readonly kind?: "tier" | "link" | "egress";
  readonly tier?: string;
}

export function network(name: string, options: NetworkOptions = {}): FakeResource {
  const kind = options.kind ?? "tier";
  return {
    type: TYPES.network,
    name: `net-${name}`,
    id: `${name}-id`,
    props: {
      id: `${name}-id`,
      name,
      driver: "overlay",
      internal: kind !== "egress",
      attachable: false,
      options: { encrypted: "true" },
      ipamConfigs: [{ subnet: "10.231.1.0/24", gateway: "10.231.1.1" }],
      labels: [
        { label: "iot.network-kind", value: kind },
        { label: "iot.tiers", value: kind === "tier" ? (options.tier ?? name) : "" },
      ],
    },
  };
}

export interface ServiceOptions {
  readonly role?: string;
  readonly tiers?: readonly string[];
  /** Outgoing declared flows, `server:port`. */
  readonly flows?: readonly string[];
  /** Credentials it holds as a client, `server:credential` (the `iot.credentials` label). */
  readonly credentials?: readonly string[];
  /** Swarm secrets it mounts, by id (the secret's name is `<id>-name`). */
  readonly secrets?: readonly string[];
  /** Network ids (or names) the service joins. */
  readonly networks?: readonly string[];
  readonly ports?: readonly { targetPort: number; publishedPort?: number; protocol?: string; publishMode?: string }[];
}

export function service(name: string, options: ServiceOptions = {}): FakeResource {
  return {
    type: TYPES.service,
    name: `svc-${name}`,
    id: `${name}-service-id`,
    props: {
      name,
      labels: [
        { label: "iot.role", value: options.role ?? name },
        { label: "iot.tiers", value: (options.tiers ?? []).join(",") },
        { label: "iot.flows", value: (options.flows ?? []).join(",") },
        { label: "iot.credentials", value: (options.credentials ?? []).join(",") },
      ],
      mode: { replicated: { replicas: 1 } },
      endpointSpec: {
        mode: "vip",
        ports: (options.ports ?? []).map((p) => ({ protocol: "tcp", publishMode: "ingress", ...p })),
      },
      taskSpec: {
        containerSpec: {
          image: `example/${name}:1.2.3@${DIGEST}`,
          env: { LOG_LEVEL: "info" },
          user: "1000:1000",
          readOnly: true,
          capDrops: ["ALL"],
          healthcheck: {
            tests: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"],
            interval: "10s",
            timeout: "5s",
            retries: 3,
          },
          mounts: [{ type: "volume", source: `${name}-data`, target: "/data" }],
          secrets: (options.secrets ?? []).map((id) => ({
            secretId: id,
            secretName: `${id}-name`,
            fileName: `/run/secrets/${id}`,
          })),
          configs: [],
        },
        networksAdvanceds: (options.networks ?? []).map((id) => ({ id, aliases: [] })),
        resources: { limits: { memoryBytes: 256 * MiB, nanoCpus: 500_000_000 } },
        restartPolicy: { condition: "on-failure", delay: "5s", maxAttempts: 5, window: "120s" },
        // Its volume lives on one node: the one that carries the iot.state label.
        placement: { constraints: ["node.labels.iot.state == true"] },
      },
    },
  };
}

export function container(name: string, networkName: string): FakeResource {
  return {
    type: TYPES.container,
    name: `ctr-${name}`,
    id: `${name}-container-id`,
    props: {
      name,
      image: `example/${name}:1.2.3@${DIGEST}`,
      networkMode: networkName,
      networksAdvanced: [{ name: networkName }],
      envs: ["LOG_LEVEL=info"],
      user: "1000:1000",
      readOnly: true,
      capabilities: { drops: ["ALL"] },
      securityOpts: ["no-new-privileges:true"],
      healthcheck: { tests: ["CMD", "true"], interval: "10s", timeout: "5s", retries: 3 },
      memory: 256,
      restart: "on-failure",
      maxRetryCount: 5,
      ports: [],
      mounts: [],
    },
  };
}

export function privateKey(name: string): FakeResource {
  return { type: TYPES.privateKey, name, props: { algorithm: "ECDSA", ecdsaCurve: "P256" } };
}

export function caCert(name = "ca"): FakeResource {
  return {
    type: TYPES.selfSignedCert,
    name,
    props: {
      isCaCertificate: true,
      validityPeriodHours: 87600,
      allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
      subject: { commonName: "Test CA" },
      dnsNames: [],
      certPem: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
    },
  };
}

export function certRequest(name: string, dnsNames: readonly string[]): FakeResource {
  const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${name}\n-----END CERTIFICATE REQUEST-----\n`;
  return {
    type: TYPES.certRequest,
    name,
    props: { dnsNames: [...dnsNames], subject: { commonName: dnsNames[0] ?? name }, certRequestPem: pem },
  };
}

/** A leaf signed by the CA from `request`, linked the way the engine records it. */
export function leafCert(
  name: string,
  request: FakeResource,
  usage: "server_auth" | "client_auth" = "server_auth",
): FakeResource {
  return {
    type: TYPES.locallySignedCert,
    name,
    props: {
      certRequestPem: request.props.certRequestPem,
      validityPeriodHours: 24 * 365,
      earlyRenewalHours: 24 * 30,
      allowedUses: ["digital_signature", "key_encipherment", usage],
      certPem: `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n`,
    },
    propertyDependencies: { certRequestPem: [urnOf(request)] },
    dependencies: [urnOf(request)],
  };
}

export const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

export function serviceConfig(name: string, content: string): FakeResource {
  return { type: TYPES.serviceConfig, name, props: { name, data: base64(content) } };
}

export function secret(name: string, content: string): FakeResource {
  return { type: TYPES.secret, name, props: { name, data: base64(content) } };
}

/**
 * A small compliant swarm stack: a gateway on the edge tier with its own egress network, publishing
 * 443 and 80; an app on the backend tier that the gateway reaches through a declared flow; a broker on
 * the mqtt tier publishing 8883 that the app reaches through a declared flow, with its own client key; and
 * the broker's TLS.
 */
export function happyStack(): FakeResource[] {
  const edge = network("edge");
  const backend = network("backend");
  const mqtt = network("mqtt");
  const gatewayEgress = network("gateway-egress", { kind: "egress" });
  const brokerEgress = network("broker-egress", { kind: "egress" });
  const csr = certRequest("broker-csr", ["mqtt.example.com", "broker"]);
  return [
    edge,
    backend,
    mqtt,
    gatewayEgress,
    brokerEgress,
    service("gateway", {
      tiers: ["edge"],
      flows: ["app:8080"],
      networks: ["edge-id", "backend-id", "gateway-egress-id"],
      ports: [
        { targetPort: 8443, publishedPort: 443 },
        { targetPort: 8080, publishedPort: 80 },
      ],
    }),
    service("app", {
      tiers: ["backend"],
      flows: ["broker:8883"],
      credentials: ["broker:mqtt-client-app"],
      secrets: ["app-client-key"],
      networks: ["backend-id", "mqtt-id"],
    }),
    service("broker", {
      tiers: ["mqtt"],
      networks: ["mqtt-id", "broker-egress-id"],
      ports: [{ targetPort: 8883, publishedPort: 8883 }],
    }),
    privateKey("ca-key"),
    caCert(),
    privateKey("broker-key"),
    csr,
    leafCert("broker-cert", csr),
    secret("broker-key-secret", "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n"),
    serviceConfig("broker-cert-config", "-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n"),
  ];
}

/** The happy stack with the resource named `name` replaced by `change(resource)`. */
export function changeIn(
  stack: FakeResource[],
  name: string,
  change: (r: FakeResource) => FakeResource,
): FakeResource[] {
  if (!stack.some((r) => r.name === name)) throw new Error(`no resource named ${name} in the fixture`);
  return stack.map((r) => (r.name === name ? change(r) : r));
}

export const byName = (stack: FakeResource[], name: string): FakeResource => {
  const found = stack.find((r) => r.name === name);
  if (!found) throw new Error(`no resource named ${name} in the fixture`);
  return found;
};

/** A value wrapped as a Pulumi secret, in the form `pulumi stack export` writes (ciphertext) or `--show-secrets` (plaintext). */
export const asSecret = (value: unknown, form: "ciphertext" | "plaintext" = "ciphertext") => secretWrapper(value, form);

/** The broker's Mosquitto config: a loopback-only plaintext listener for the health check, mTLS on 8883. */
export const MOSQUITTO_CONF = [
  "per_listener_settings true",
  "persistence true",
  "persistence_location /mosquitto/data/",
  "",
  "listener 1883 127.0.0.1",
  "allow_anonymous true",
  "",
  "listener 8883",
  "cafile /mosquitto/certs/ca.crt",
  "certfile /mosquitto/certs/server.crt",
  "keyfile /run/secrets/mosquitto-server.key",
  "require_certificate true",
  "use_identity_as_username true",
  "allow_anonymous false",
  "",
].join("\n");

/** The gateway's HAProxy config: Grafana for everyone, the Node-RED editor only from the admin network. */
export const HAPROXY_CFG = [
  "global",
  "  maxconn 4096",
  "",
  "frontend https",
  "  bind :8443 ssl crt /run/secrets/gateway.pem",
  "  acl admin_src src 10.50.0.0/24",
  "  acl host_grafana hdr(host),field(1,:) -i grafana.example.com",
  "  acl host_node_red hdr(host),field(1,:) -i node-red.example.com",
  "  http-request deny deny_status 403 if host_node_red !admin_src",
  "  use_backend grafana_3000 if host_grafana",
  "  use_backend node_red_1880 if host_node_red",
  "  default_backend not_found",
  "",
  "backend grafana_3000",
  "  server-template grafana 10 tasks.grafana:3000 check resolvers docker init-addr none",
  "",
  "backend node_red_1880",
  "  server-template node_red 10 tasks.node-red:1880 check resolvers docker init-addr none",
  "",
  "backend not_found",
  "  http-request deny deny_status 404",
  "",
].join("\n");
