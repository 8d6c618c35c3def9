/**
 * The real providers' contract, as one table per resource type: for every input, what a change does on the
 * next `pulumi up` (replace or update in place), how it is compared (as a set, with the provider's default),
 * and which source file says so. Sources: kreuzwerker/terraform-provider-docker v4.5.0 (the `upstream` pinned by
 * pulumi-docker; paths under internal/provider/), hashicorp/terraform-provider-tls (internal/provider/) and
 * hashicorp/terraform-provider-random. What the docker provider reads back is in ../read.ts.
 *
 * A path names a Pulumi input (`taskSpec.containerSpec.image`); `[]` stands for every element of a list. A rule
 * marked `whole` compares the collection at its path as one value and covers everything below it.
 * tests/harnessContract.test.ts fails when the program sets an input no rule classifies.
 */

export type OnChange = "replace" | "update";

export interface FieldRule {
  readonly path: string;
  /** What a change of this field does. */
  readonly onChange: OnChange;
  /** Compare the collection at `path` as one value (and classify everything below it). */
  readonly whole?: boolean;
  /** A TypeSet: element order does not matter. After a create or update the state keeps the planned set. */
  readonly set?: boolean;
  /** Optional+Computed: leaving it out keeps what the provider read back. */
  readonly computed?: boolean;
  /** The schema default when the program leaves it out. */
  readonly default?: unknown;
  /** Read never writes it: the state keeps the planned value. */
  readonly notRead?: boolean;
  /** Compare PEM text ignoring line endings and surrounding space (requireReplaceIfStateContainsPEMString). */
  readonly pem?: boolean;
  /** File the rule is read from. */
  readonly source: string;
}

export interface ResourceContract {
  readonly type: string;
  /** The bridge asks for delete-before-replace when the name input is set explicitly (autonamed otherwise). */
  readonly explicitNameDeletesFirst: boolean;
  readonly rules: readonly FieldRule[];
}

const SVC = "terraform-provider-docker internal/provider/resource_docker_service.go";
const NET = "terraform-provider-docker internal/provider/resource_docker_network.go";
const CFG = "terraform-provider-docker internal/provider/resource_docker_config.go";
const SEC = "terraform-provider-docker internal/provider/resource_docker_secret.go";
const VOL = "terraform-provider-docker internal/provider/resource_docker_volume.go";
const TLS_KEY = "terraform-provider-tls internal/provider/resource_private_key.go";
const TLS_CSR = "terraform-provider-tls internal/provider/resource_cert_request.go";
const TLS_SELF = "terraform-provider-tls internal/provider/resource_self_signed_cert.go";
const TLS_LOCAL = "terraform-provider-tls internal/provider/resource_locally_signed_cert.go";
const RANDOM = "terraform-provider-random internal/provider/resource_password.go";

const u = (path: string, extra: Partial<FieldRule> = {}, source = SVC): FieldRule => ({
  path,
  onChange: "update",
  source,
  ...extra,
});
const r = (path: string, extra: Partial<FieldRule> = {}, source = SVC): FieldRule => ({
  path,
  onChange: "replace",
  source,
  ...extra,
});

const cs = "taskSpec.containerSpec";
const rollout = (block: "updateConfig" | "rollbackConfig"): FieldRule[] => [
  u(`${block}.parallelism`, { default: 1 }),
  u(`${block}.delay`, { default: "0s" }),
  u(`${block}.failureAction`, { default: "pause" }),
  u(`${block}.monitor`, { default: "5s" }),
  // A string in the schema, read back with one decimal; suppressEquivalentFloatRatio hides 0 vs 0.0.
  u(`${block}.maxFailureRatio`, { default: "0.0" }),
  u(`${block}.order`, { default: "stop-first" }),
];

export const SERVICE: ResourceContract = {
  type: "docker:index/service:Service",
  explicitNameDeletesFirst: true,
  rules: [
    r("name"),
    r("auth", { whole: true, notRead: true }),
    u("labels", { whole: true, set: true, computed: true }),
    // `mode` is ForceNew on its element count only; its children update in place (the SDK does not pass a
    // block's ForceNew to Resource children), and Swarm refuses a replicated/global switch.
    u("mode.replicated.replicas", { default: 1 }),
    u("mode.global", { default: false }),
    u("endpointSpec.mode", { computed: true }),
    u("endpointSpec.ports", { whole: true }),
    u(`${cs}.image`),
    // Container labels have ForceNew children (labelSchema).
    r(`${cs}.labels`, { whole: true, set: true }),
    u(`${cs}.commands`, { whole: true }),
    u(`${cs}.args`, { whole: true }),
    u(`${cs}.hostname`),
    u(`${cs}.env`, { whole: true }),
    u(`${cs}.dir`),
    u(`${cs}.user`),
    u(`${cs}.groups`, { whole: true }),
    u(`${cs}.privileges`, { whole: true }),
    u(`${cs}.readOnly`),
    u(`${cs}.mounts`, { whole: true, set: true }),
    u(`${cs}.stopSignal`),
    u(`${cs}.stopGracePeriod`, { computed: true }),
    u(`${cs}.healthcheck.tests`, { whole: true }),
    u(`${cs}.healthcheck.interval`, { default: "0s" }),
    u(`${cs}.healthcheck.timeout`, { default: "0s" }),
    u(`${cs}.healthcheck.startPeriod`, { default: "0s" }),
    u(`${cs}.healthcheck.retries`, { default: 0 }),
    r(`${cs}.hosts`, { whole: true, set: true }),
    u(`${cs}.dnsConfig`, { whole: true, computed: true }),
    u(`${cs}.secrets`, { whole: true, set: true }),
    u(`${cs}.configs`, { whole: true, set: true }),
    u(`${cs}.isolation`, { default: "default" }),
    r(`${cs}.sysctl`, { whole: true }),
    u(`${cs}.capAdds`, { whole: true }),
    u(`${cs}.capDrops`, { whole: true }),
    u(`${cs}.init`, { computed: true }),
    u("taskSpec.resources.limits.nanoCpus"),
    u("taskSpec.resources.limits.memoryBytes"),
    u("taskSpec.resources.reservation.nanoCpus"),
    u("taskSpec.resources.reservation.memoryBytes"),
    u("taskSpec.resources.reservation.genericResources", { whole: true }),
    u("taskSpec.restartPolicy.condition"),
    u("taskSpec.restartPolicy.delay"),
    u("taskSpec.restartPolicy.maxAttempts"),
    u("taskSpec.restartPolicy.window"),
    u("taskSpec.placement.constraints", { whole: true, set: true }),
    u("taskSpec.placement.prefs", { whole: true, set: true }),
    u("taskSpec.placement.maxReplicas"),
    u("taskSpec.placement.platforms", { whole: true, set: true }),
    u("taskSpec.forceUpdate", { computed: true }),
    u("taskSpec.runtime", { computed: true }),
    // Every child of networks_advanced (id, the deprecated name, aliases, driver_opts) is ForceNew.
    r("taskSpec.networksAdvanceds", { whole: true, set: true }),
    u("taskSpec.logDriver", { whole: true }),
    ...rollout("updateConfig"),
    ...rollout("rollbackConfig"),
    // Never read back: the provider waits on it during create and update only.
    u("convergeConfig", { whole: true, notRead: true }),
  ],
};

export const NETWORK: ResourceContract = {
  type: "docker:index/network:Network",
  explicitNameDeletesFirst: true,
  // No Update: every input is ForceNew.
  rules: [
    r("name", {}, NET),
    r("labels", { whole: true, set: true }, NET),
    r("driver", { computed: true }, NET),
    r("options", { whole: true, computed: true }, NET),
    r("internal", { computed: true }, NET),
    r("attachable", { default: false }, NET),
    r("ingress", { default: false }, NET),
    r("ipv6", { default: false }, NET),
    r("ipamDriver", { default: "default" }, NET),
    r("ipamOptions", { whole: true }, NET),
    r("ipamConfigs", { whole: true, set: true, computed: true }, NET),
    r("checkDuplicate", {}, NET),
  ],
};

export const SERVICE_CONFIG: ResourceContract = {
  type: "docker:index/serviceConfig:ServiceConfig",
  explicitNameDeletesFirst: true,
  rules: [r("name", {}, CFG), r("data", {}, CFG), r("dataRaw", {}, CFG), r("labels", { whole: true, set: true }, CFG)],
};

export const SECRET: ResourceContract = {
  type: "docker:index/secret:Secret",
  explicitNameDeletesFirst: true,
  // "secret data is not exposed via the API": Read sets only the id and name.
  rules: [
    r("name", {}, SEC),
    r("data", { notRead: true }, SEC),
    r("labels", { whole: true, set: true, notRead: true }, SEC),
  ],
};

export const VOLUME: ResourceContract = {
  type: "docker:index/volume:Volume",
  explicitNameDeletesFirst: true,
  rules: [
    r("name", { computed: true }, VOL),
    r("labels", { whole: true, set: true }, VOL),
    r("driver", { computed: true }, VOL),
    r("driverOpts", { whole: true }, VOL),
    r("cluster", { whole: true }, VOL),
  ],
};

export const PRIVATE_KEY: ResourceContract = {
  type: "tls:index/privateKey:PrivateKey",
  explicitNameDeletesFirst: false,
  rules: [
    r("algorithm", {}, TLS_KEY),
    r("rsaBits", { default: 2048 }, TLS_KEY),
    r("ecdsaCurve", { default: "P224" }, TLS_KEY),
  ],
};

const subject = (source: string) => r("subject", { whole: true }, source);

export const CERT_REQUEST: ResourceContract = {
  type: "tls:index/certRequest:CertRequest",
  explicitNameDeletesFirst: false,
  rules: [
    r("privateKeyPem", { pem: true }, TLS_CSR),
    r("dnsNames", { whole: true }, TLS_CSR),
    r("ipAddresses", { whole: true }, TLS_CSR),
    r("uris", { whole: true }, TLS_CSR),
    subject(TLS_CSR),
  ],
};

const certCommon = (source: string): FieldRule[] => [
  r("validityPeriodHours", {}, source),
  r("allowedUses", { whole: true }, source),
  // Updated in place; a value that puts the certificate inside its renewal window replaces it
  // (common_cert.go modifyPlanIfCertificateReadyForRenewal, see ../tlsRenewal.ts).
  u("earlyRenewalHours", { default: 0 }, source),
  r("isCaCertificate", { default: false }, source),
  r("maxPathLength", { computed: true }, source),
  r("setSubjectKeyId", { default: false }, source),
];

export const SELF_SIGNED_CERT: ResourceContract = {
  type: "tls:index/selfSignedCert:SelfSignedCert",
  explicitNameDeletesFirst: false,
  rules: [
    r("privateKeyPem", { pem: true }, TLS_SELF),
    r("dnsNames", { whole: true }, TLS_SELF),
    r("ipAddresses", { whole: true }, TLS_SELF),
    r("uris", { whole: true }, TLS_SELF),
    subject(TLS_SELF),
    r("setAuthorityKeyId", { default: false }, TLS_SELF),
    ...certCommon(TLS_SELF),
  ],
};

export const LOCALLY_SIGNED_CERT: ResourceContract = {
  type: "tls:index/locallySignedCert:LocallySignedCert",
  explicitNameDeletesFirst: false,
  rules: [
    r("certRequestPem", { pem: true }, TLS_LOCAL),
    r("caPrivateKeyPem", { pem: true }, TLS_LOCAL),
    r("caCertPem", { pem: true }, TLS_LOCAL),
    ...certCommon(TLS_LOCAL),
  ],
};

/** Every input of random_password is RequiresReplace (keepers: when its values change); there is no Update. */
export const RANDOM_PASSWORD: ResourceContract = {
  type: "random:index/randomPassword:RandomPassword",
  explicitNameDeletesFirst: false,
  rules: [
    r("length", {}, RANDOM),
    r("special", { default: true }, RANDOM),
    r("upper", { default: true }, RANDOM),
    r("lower", { default: true }, RANDOM),
    r("numeric", { default: true }, RANDOM),
    r("number", { default: true }, RANDOM),
    r("minSpecial", { default: 0 }, RANDOM),
    r("minUpper", { default: 0 }, RANDOM),
    r("minLower", { default: 0 }, RANDOM),
    r("minNumeric", { default: 0 }, RANDOM),
    r("overrideSpecial", {}, RANDOM),
    r("keepers", { whole: true }, RANDOM),
  ],
};

export const CONTRACTS: readonly ResourceContract[] = [
  SERVICE,
  NETWORK,
  SERVICE_CONFIG,
  SECRET,
  VOLUME,
  PRIVATE_KEY,
  CERT_REQUEST,
  SELF_SIGNED_CERT,
  LOCALLY_SIGNED_CERT,
  RANDOM_PASSWORD,
];

export function contractOf(type: string): ResourceContract {
  const contract = CONTRACTS.find((c) => c.type === type);
  if (!contract) throw new Error(`e2e harness: no provider contract for ${type}`);
  return contract;
}
