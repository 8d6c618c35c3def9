/**
 * The stack config schema: every `iot-swarm-net:*` key in `Pulumi.<stack>.yaml` is parsed here, once.
 * Shape errors come from zod; cross-field rules from validate.ts (after merge.ts). Both name the exact config key.
 */
import { z } from "zod";

export const CONFIG_NAMESPACE = "iot-swarm-net";

// Certificate validity limits. The pack's `limit-certificate-validity` defaults to the same two values
// (policies/tls.ts); tests/contracts/certificateLimits.test.ts fails when they drift apart.

/** Browsers and most clients reject leaf certificates valid for longer than this (the CA/Browser Forum limit). */
export const MAX_LEAF_VALIDITY_DAYS = 397;
/** Ten years: the longest CA validity the pack accepts. */
export const MAX_CA_VALIDITY_DAYS = 3650;

const port = z.number().int().min(1, "must be between 1 and 65535").max(65535, "must be between 1 and 65535");
const cidr = z
  .string()
  .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/, "must be an IPv4 CIDR such as 10.20.0.0/16");
const hostname = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
    "must be a lower-case DNS name",
  );
/** A NATS subject: dot-separated tokens, `*` for one token, `>` for the rest (last only). */
const NATS_SUBJECT = /^(?:>|(?:[^\s.*>"'\\]+|\*)(?:\.(?:[^\s.*>"'\\]+|\*))*(?:\.>)?)$/;
const NATS_SUBJECT_MESSAGE = "must be a NATS subject such as events.> or sensors.*.state";

/** Keys whose values are secrets: no message ever prints them (see `describeIssue`). */
const secrets = z.registry<{ readonly secret: true }>();
const secret = <T extends z.core.$ZodType>(schema: T): T => {
  secrets.add(schema, { secret: true });
  return schema;
};

const dnsLabel = z
  .string()
  .regex(/^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "must be a lower-case DNS label (a-z, 0-9, -; not ending in -)");

const portSchema = z.strictObject({
  name: dnsLabel,
  port,
  protocol: z.enum(["tcp", "udp"]).default("tcp"),
  appProtocol: z.enum(["http", "https", "mqtt", "mqtts", "redis", "nats", "metrics"]),
  purpose: z.string().min(1),
  published: port.optional(),
});

const healthSchema = z.strictObject({
  test: z.array(z.string()).min(2),
  intervalSeconds: z.number().positive().default(10),
  timeoutSeconds: z.number().positive().default(5),
  retries: z.number().int().min(1).default(3),
  startPeriodSeconds: z.number().min(0).default(20),
  httpPath: z.string().startsWith("/").optional(),
  portName: z.string().optional(),
});

const resourcesSchema = z.strictObject({
  cpus: z.number().positive().max(64),
  memoryMb: z.number().int().min(16),
  reservedCpus: z.number().min(0).max(64),
  reservedMemoryMb: z.number().int().min(0),
});

/** Per-service overrides of the reference catalog; a service not in the catalog must give the required fields. */
const serviceSchema = z.strictObject({
  image: z.string().min(1).optional(),
  tiers: z.array(dnsLabel).min(1).optional(),
  role: dnsLabel.optional(),
  ports: z.array(portSchema).optional(),
  /** Host ports by port name, e.g. `{ https: 8443 }`; `null` unpublishes. */
  publish: z.record(z.string(), port.nullable()).optional(),
  health: healthSchema.optional(),
  replicas: z.number().int().optional(),
  aliases: z.array(z.string()).optional(),
  endpointMode: z.enum(["vip", "dnsrr"]).optional(),
  singleton: z.boolean().optional(),
  uid: z.number().int().min(0).optional(),
  gid: z.number().int().min(0).optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
  capAdd: z.array(z.string()).optional(),
  resources: resourcesSchema.partial().optional(),
  placement: z.array(z.string().min(1)).optional(),
  /**
   * The hostname of the node that keeps this service's volumes. Without it, a service with volumes is pinned to
   * the node labelled `iot.state=true`, which exactly one node carries.
   */
  stateNode: hostname.optional(),
  env: z.record(z.string(), z.string()).optional(),
  command: z.array(z.string()).optional(),
  externalEndpoints: z.array(z.strictObject({ name: dnsLabel, host: hostname, port })).optional(),
});

const FLOW_ENTRY_SHAPE = 'must be "client -> server:port" or { flow: "client -> server:port", permissions: {...} }';

/** What a flow's client may do on a server that authenticates it; validate.ts checks the kind fits the server. */
const flowPermissionsSchema = z.strictObject({
  /** NATS: subjects the client may publish and subscribe to; nothing else. */
  subjects: z
    .strictObject({
      publish: z.array(z.string().regex(NATS_SUBJECT, NATS_SUBJECT_MESSAGE)).default([]),
      subscribe: z.array(z.string().regex(NATS_SUBJECT, NATS_SUBJECT_MESSAGE)).default([]),
    })
    .optional(),
  /** Redis: key patterns the client may touch (`~` is added), e.g. `sensors:*`. */
  keys: z
    .array(z.string().regex(/^[^\s~%&][^\s]*$/, "must be a Redis key pattern such as sensors:* (no spaces, no ~)"))
    .optional(),
  /** Redis: ACL command rules, e.g. `+@read`, `+set`, `-del`; `-@dangerous` always follows them. */
  commands: z
    .array(
      z.string().regex(/^[+-](@[a-z]+|[a-z][a-z|]*)$/, "must be a Redis ACL command rule such as +@read, +get or -del"),
    )
    .optional(),
  /** InfluxDB: the bucket the client's v1 user reads or writes (its database in the v1 API), e.g. `telemetry`. */
  bucket: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
      "must be an InfluxDB bucket name such as telemetry (letters, digits, _ . -)",
    )
    .optional(),
  /** InfluxDB: `read`, `write` or `read-write` on that bucket. */
  access: z.enum(["read", "write", "read-write"], { error: 'must be "read", "write" or "read-write"' }).optional(),
});

/** A flow entry: the text alone, or the text with permissions. Strings become `{ flow }`. */
const flowEntrySchema = z.preprocess(
  (value) => (typeof value === "string" ? { flow: value } : value),
  z.strictObject({ flow: z.string(), permissions: flowPermissionsSchema.optional() }, { error: FLOW_ENTRY_SHAPE }),
);

const tierSchema = z.strictObject({
  name: dnsLabel,
  network: dnsLabel.optional(),
  description: z.string().default(""),
  attachable: z.boolean().default(false),
});

export const stackConfigSchema = z.strictObject({
  environment: z.enum(["dev", "prod", "e2e"]),
  domain: hostname.default("localhost"),
  /** Encrypt overlay data traffic (IPsec); defaults to on in prod. */
  encryptOverlays: z.boolean().optional(),
  publishMode: z.enum(["ingress", "host"]).default("ingress"),
  /** The swarm shares hosts with CapRover, which owns 80, 443 and 3000. */
  caproverCoexistence: z.boolean().default(false),
  subnetPool: cidr.default("10.231.0.0/16"),
  subnetPrefixLength: z.number().int().min(16).max(28).default(24),
  /** Link networks carry two services each, so they are smaller than tier networks. */
  linkSubnetPrefixLength: z.number().int().min(16).max(28).default(26),
  /** Subnets pinned by network name, e.g. to resolve two planned networks landing on one subnet. */
  subnets: z.record(z.string(), cidr).default({}),
  /** Subnets already used on the site's LAN; overlays must not overlap them. */
  lanSubnets: z.array(cidr).default([]),
  /** Source ranges allowed on the gateway's admin routes (Node-RED editor, InfluxDB UI). */
  adminCidrs: z.array(cidr).default(["127.0.0.1/32"]),
  tiers: z.array(tierSchema).default([]),
  services: z.record(z.string(), serviceSchema).default({}),
  /**
   * Extra gateway routes, each served at `<subdomain>.<domain>` on an HTTP port of the service; the gateway needs
   * a declared flow to the backend. A subdomain is served once; a reference route's subdomain may be reused only
   * for the same service (to change its port or admin flag).
   */
  routes: z
    .array(
      z.strictObject({
        subdomain: dnsLabel,
        service: dnsLabel,
        port,
        admin: z.boolean().default(true),
        /**
         * Serve an administrative UI (Node-RED editor, InfluxDB UI) with `admin: false`, open beyond adminCidrs.
         * Without it such a route must stay admin-only.
         */
        publicAdminUi: z.boolean().default(false),
        purpose: z.string().default(""),
      }),
    )
    .default([]),
  /**
   * Pin each image to its registry digest at deploy time (the provider pins a tag-only image on create, so an
   * unpinned one shows as changed on the next run). Off only for images no registry serves.
   */
  pinImageDigests: z.boolean().default(true),
  /** Platforms the services' tasks run on (node OS and architecture). */
  platforms: z
    .array(z.strictObject({ os: z.string().min(1), architecture: z.string().min(1) }))
    .min(1)
    .default([{ os: "linux", architecture: "amd64" }]),
  /**
   * Rotation generations by credential: a generated password's id or a certificate's name. Changing a value
   * replaces that credential (a new password, a new key and certificate) and rolls only the services using it.
   */
  rotations: z.record(z.string(), z.union([z.string().min(1), z.number().int()])).default({}),
  /**
   * Extra flows, each `"client -> server:port"`, or `{ flow: "client -> server:port", permissions }` to scope the
   * identity the client gets on the server (see model/identity.ts). A reference flow repeated here takes its
   * permissions.
   */
  flows: z.array(flowEntrySchema).default([]),
  tls: z
    .strictObject({
      validityDays: z.number().int().min(1).default(365),
      earlyRenewalDays: z.number().int().min(0).default(30),
      caValidityDays: z
        .number()
        .int()
        .min(30)
        .max(MAX_CA_VALIDITY_DAYS, `must be at most ${MAX_CA_VALIDITY_DAYS} days (10 years)`)
        .default(MAX_CA_VALIDITY_DAYS),
      organization: z.string().min(1).default("IoT Swarm"),
      mqttHostname: hostname.optional(),
      mqttClients: z.array(dnsLabel).default(["node-red", "mqtt-exporter"]),
      /** Change this value to re-issue every leaf certificate now (same keys), ahead of earlyRenewalDays. */
      reissue: z.union([z.string().min(1), z.number().int()]).optional(),
    })
    .prefault({}),
  mqtt: z
    .strictObject({
      requireClientCertificate: z.boolean().default(true),
      acl: z
        .array(
          z.strictObject({
            user: z.string().min(1),
            access: z.enum(["read", "write", "readwrite"]),
            topic: z.string(),
          }),
        )
        .default([
          { user: "node-red", access: "read", topic: "devices/#" },
          { user: "node-red", access: "write", topic: "commands/#" },
          { user: "mqtt-exporter", access: "read", topic: "$SYS/#" },
        ]),
    })
    .prefault({}),
  /** Bring-your-own CA (prod): PEM certificate and a secret PEM key; both or neither. */
  caCertPem: z.string().startsWith("-----BEGIN CERTIFICATE-----", "must be a PEM certificate").optional(),
  caKeyPem: secret(z.string().includes("PRIVATE KEY-----", { message: "must be a PEM private key" }).optional()),
});

/** The top-level config keys marked secret in the schema (`caKeyPem`). */
export const SECRET_CONFIG_KEYS: ReadonlySet<string> = new Set(
  Object.entries(stackConfigSchema.shape)
    .filter(([, schema]) => secrets.has(schema))
    .map(([key]) => key),
);

export type StackConfig = z.infer<typeof stackConfigSchema>;
export type ServiceOverride = z.infer<typeof serviceSchema>;

/** One bad config value: `key` is the full config key path, e.g. `iot-swarm-net:services.grafana.replicas`. */
export interface ConfigProblem {
  readonly key: string;
  readonly message: string;
}

export class StackConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n"),
    );
    this.name = "StackConfigError";
  }
}

export function configKey(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path;
  let key = `${CONFIG_NAMESPACE}:${String(head ?? "")}`;
  for (const part of rest) key += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return key;
}

/**
 * Parses raw config values (keys without the namespace; values as Pulumi gives them, strings
 * holding JSON for objects) into a typed StackConfig, or throws StackConfigError.
 */
export function parseStackConfig(raw: Readonly<Record<string, unknown>>): StackConfig {
  const values = decodeConfigValues(raw);
  const result = stackConfigSchema.safeParse(values);
  if (!result.success) {
    throw new StackConfigError(
      result.error.issues.map((issue) => {
        const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys.join(", ")] : issue.path;
        const message = issue.code === "unrecognized_keys" ? "unknown config key" : issue.message;
        return { key: configKey(path), message: describeIssue(message, issue.path, values) };
      }),
    );
  }
  return result.data;
}

/** Key material is never echoed, whichever key it was put under. */
const PRIVATE_KEY_MATERIAL = /PRIVATE KEY/;

/** The schema's message with the offending value, unless the key is secret or the value holds key material. */
function describeIssue(message: string, path: readonly PropertyKey[], values: Record<string, unknown>): string {
  let value: unknown = values;
  for (const part of path)
    value = value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[part] : undefined;
  if (value === undefined || typeof value === "object") return message;
  if (SECRET_CONFIG_KEYS.has(String(path[0])) || PRIVATE_KEY_MATERIAL.test(String(value))) {
    return `${message} (the value is secret and not shown)`;
  }
  return `${message}, but ${JSON.stringify(value)} was provided`;
}

/** Raw config values with each JSON-encoded one decoded (see `decodeConfigValue`). */
export function decodeConfigValues(raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) values[key] = decodeConfigValue(value);
  return values;
}

/** Pulumi hands every config value over as a string; objects, numbers and booleans arrive JSON-encoded. */
function decodeConfigValue(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const trimmed = value.trim();
  if (/^[[{]/.test(trimmed) || trimmed === "true" || trimmed === "false" || /^-?\d+(\.\d+)?$/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}
