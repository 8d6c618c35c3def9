/**
 * Encryption and TLS rules: encrypted overlays, strong keys, short-lived leaves with SANs and the right
 * usage, signing reserved to the CA, and private keys delivered only as Docker secrets.
 */
import * as docker from "@pulumi/docker";
import {
  PolicyConfigSchema,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
  validateResourceOfType,
} from "@pulumi/policy";
import * as tls from "@pulumi/tls";
import { mapsTo } from "./lib/catalog";
import { configOf, stringList } from "./lib/config";
import { arr, at, bool, decodeBase64, isKnown, Maybe, num, str, strings, UNKNOWN } from "./lib/values";
import { describeListener, isMosquittoConfig, mosquittoListeners } from "./lib/mosquitto";
import { describeConfig, forServiceConfigs } from "./lib/serviceConfigs";
import { containerView, describe, serviceView, TYPES } from "./lib/workloads";

const PRIVATE_KEY_PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

export const requireEncryptedOverlayNetworks: ResourceValidationPolicy = {
  name: "require-encrypted-overlay-networks",
  description: "Overlay networks encrypt their data plane (IPsec), so traffic between nodes is never in clear text.",
  severity: "high",
  remediationSteps:
    'Set `options: { encrypted: "true" }` on the overlay network (iot-swarm-net: encryptOverlays: true). ' +
    "The nodes need the xt_u32 kernel module and ESP (IP protocol 50) open between them.",
  ...mapsTo("tls", { cis: ["7.3"] }),
  validateResource: validateResourceOfType(docker.Network, (props, args, reportViolation) => {
    const driver = str(at(props, "driver"));
    if (driver !== "overlay") return;
    const options = at(props, "options");
    if (options === UNKNOWN) return;
    const encrypted = at(options, "encrypted");
    if (encrypted === UNKNOWN) return;
    const name = str(at(props, "name"));
    const displayName = isKnown(name) ? name : args.name;
    if (encrypted === undefined) {
      reportViolation(
        `overlay network "${displayName}" is not encrypted: traffic between nodes crosses the network in clear text.`,
      );
    } else if (typeof encrypted === "string" && /^(false|0|no|off)$/i.test(encrypted.trim())) {
      reportViolation(
        `overlay network "${displayName}" sets encrypted="${encrypted}"; set "true" so the intent is unambiguous.`,
      );
    }
  }),
};

const keySchema: PolicyConfigSchema = {
  properties: {
    minRsaBits: { type: "integer", minimum: 2048, default: 2048, description: "Smallest RSA modulus allowed." },
    allowedCurves: stringList("ECDSA curves allowed (the provider defaults to P224 when unset).", [
      "P256",
      "P384",
      "P521",
    ]),
  },
};

export const requireStrongPrivateKeys: ResourceValidationPolicy = {
  name: "require-strong-private-keys",
  description: "Private keys are at least ECDSA P-256 or RSA 2048 (Ed25519 is accepted).",
  severity: "high",
  remediationSteps:
    'Use `algorithm: "ECDSA", ecdsaCurve: "P256"` (or P384), or RSA with rsaBits >= 2048. Replacing the key reissues the certificates that use it.',
  ...mapsTo("tls", {
    beyond:
      "Docker catalogs do not look at key material; the bar follows NIST SP 800-57 and the CA/Browser Forum baseline.",
  }),
  configSchema: keySchema,
  validateResource: validateResourceOfType(tls.PrivateKey, (props, args, reportViolation) => {
    const { minRsaBits, allowedCurves } = configOf<{ minRsaBits: number; allowedCurves: string[] }>(keySchema, args);
    const algorithm = str(at(props, "algorithm"));
    if (!isKnown(algorithm)) return;
    switch (algorithm.toUpperCase()) {
      case "RSA": {
        const bits = num(at(props, "rsaBits")) ?? 2048;
        if (isKnown(bits) && bits < minRsaBits)
          reportViolation(`RSA key "${args.name}" has ${bits} bits; at least ${minRsaBits} are required.`);
        return;
      }
      case "ECDSA": {
        const curve = str(at(props, "ecdsaCurve")) ?? "P224";
        if (isKnown(curve) && !allowedCurves.includes(curve.toUpperCase())) {
          reportViolation(`ECDSA key "${args.name}" uses curve ${curve}; allowed curves: ${allowedCurves.join(", ")}.`);
        }
        return;
      }
      case "ED25519":
        return;
      default:
        reportViolation(
          `key "${args.name}" uses algorithm "${algorithm}"; use ECDSA (P-256 or stronger), RSA (${minRsaBits}+ bits) or ED25519.`,
        );
    }
  }),
};

const validitySchema: PolicyConfigSchema = {
  properties: {
    maxLeafValidityDays: {
      type: "integer",
      minimum: 1,
      default: 397,
      description: "Longest validity of a leaf certificate, in days.",
    },
    maxCaValidityDays: {
      type: "integer",
      minimum: 1,
      default: 3650,
      description: "Longest validity of a CA certificate, in days.",
    },
  },
};

function isCa(props: unknown): boolean {
  return bool(at(props, "isCaCertificate")) === true;
}

export const limitCertificateValidity: ResourceValidationPolicy = {
  name: "limit-certificate-validity",
  description:
    "Leaf certificates are valid for at most the configured maximum (397 days by default); CA certificates for at most 10 years.",
  severity: "medium",
  remediationSteps:
    "Lower validityPeriodHours (iot-swarm-net: tls.validityDays) and keep earlyRenewalHours so `pulumi up` renews before expiry.",
  ...mapsTo("tls", {
    beyond: "Docker catalogs do not inspect certificates; 397 days is the CA/Browser Forum limit clients enforce.",
  }),
  configSchema: validitySchema,
  validateResource: [
    validateResourceOfType(tls.LocallySignedCert, (props, args, reportViolation) =>
      checkValidity(props, args, reportViolation),
    ),
    validateResourceOfType(tls.SelfSignedCert, (props, args, reportViolation) =>
      checkValidity(props, args, reportViolation),
    ),
  ],
};

function checkValidity(props: unknown, args: ResourceValidationArgs, reportViolation: ReportViolation): void {
  const { maxLeafValidityDays, maxCaValidityDays } = configOf<{
    maxLeafValidityDays: number;
    maxCaValidityDays: number;
  }>(validitySchema, args);
  const hours = num(at(props, "validityPeriodHours"));
  if (!isKnown(hours)) return;
  const ca = isCa(props);
  const maxDays = ca ? maxCaValidityDays : maxLeafValidityDays;
  if (hours > maxDays * 24) {
    reportViolation(
      `${ca ? "CA" : "leaf"} certificate "${args.name}" is valid for ${Math.round(hours / 24)} days (${hours} hours); the maximum is ${maxDays} days.`,
    );
  }
}

export const requireLeafCertificateUsage: ResourceValidationPolicy = {
  name: "require-leaf-certificate-usage",
  description: "Every leaf certificate is restricted to server or client authentication (extended key usage).",
  severity: "medium",
  remediationSteps:
    'Add "server_auth" (servers) or "client_auth" (mTLS clients) to allowedUses, next to "digital_signature" and "key_encipherment".',
  ...mapsTo("tls", {
    beyond:
      "Docker catalogs do not inspect certificates; a leaf without an extended key usage is valid for any purpose.",
  }),
  validateResource: [
    validateResourceOfType(tls.LocallySignedCert, (props, args, reportViolation) =>
      checkUsage(props, args, reportViolation),
    ),
    validateResourceOfType(tls.SelfSignedCert, (props, args, reportViolation) =>
      checkUsage(props, args, reportViolation),
    ),
  ],
};

function checkUsage(props: unknown, args: ResourceValidationArgs, reportViolation: ReportViolation): void {
  if (isCa(props)) return;
  const uses = arr(at(props, "allowedUses"));
  if (uses === UNKNOWN) return;
  if (!uses.includes("server_auth") && !uses.includes("client_auth")) {
    reportViolation(
      `leaf certificate "${args.name}" allows ${uses.length > 0 ? uses.join(", ") : "no uses"} but neither server_auth nor client_auth.`,
    );
  }
}

export const restrictCertSigningToCa: ResourceValidationPolicy = {
  name: "restrict-cert-signing-to-ca",
  description: "Only the CA certificate may sign certificates; a leaf never carries cert_signing or the CA flag.",
  severity: "high",
  remediationSteps:
    'Remove "cert_signing" (and "crl_signing") from the leaf\'s allowedUses and `isCaCertificate`; issue leaves from the one CA.',
  ...mapsTo("tls", {
    beyond: "Docker catalogs do not inspect certificates; a leaf that can sign turns one stolen service key into a CA.",
  }),
  validateResource: [
    validateResourceOfType(tls.LocallySignedCert, (props, args, reportViolation) => {
      const uses = strings(at(props, "allowedUses"));
      if (isCa(props)) {
        reportViolation(`certificate "${args.name}" is issued by the CA but is itself a CA (isCaCertificate: true).`);
      } else if (uses.includes("cert_signing") || uses.includes("crl_signing")) {
        reportViolation(
          `leaf certificate "${args.name}" allows ${uses.filter((u) => u.endsWith("_signing")).join(" and ")}.`,
        );
      }
    }),
    validateResourceOfType(tls.SelfSignedCert, (props, args, reportViolation) => {
      const uses = strings(at(props, "allowedUses"));
      if (!isCa(props) && uses.includes("cert_signing")) {
        reportViolation(
          `self-signed certificate "${args.name}" allows cert_signing without being the CA (isCaCertificate is not set).`,
        );
      }
    }),
  ],
};

function sansOf(props: unknown): Maybe<number> {
  let count = 0;
  for (const key of ["dnsNames", "ipAddresses", "uris"]) {
    const items = arr(at(props, key));
    if (items === UNKNOWN) return UNKNOWN;
    count += items.length;
  }
  return count;
}

/** The CertRequest a LocallySignedCert signs: through the engine's property dependencies, else by PEM. */
function certRequestOf(cert: PolicyResource, requests: readonly PolicyResource[]): PolicyResource | undefined {
  const viaDependency = (cert.propertyDependencies?.["certRequestPem"] ?? []).find((r) => r.type === TYPES.certRequest);
  if (viaDependency) return viaDependency;
  const pem = str(at(cert.props, "certRequestPem"));
  if (!isKnown(pem)) return undefined;
  return requests.find((r) => str(at(r.props, "certRequestPem")) === pem);
}

export const requireLeafCertificateSans: StackValidationPolicy = {
  name: "require-leaf-certificate-sans",
  description:
    "Every server certificate names its hosts in subject alternative names (clients ignore the common name).",
  severity: "medium",
  remediationSteps:
    "Add the service name, its aliases and its external host names to the certificate request's dnsNames (or ipAddresses).",
  ...mapsTo("tls", {
    beyond:
      "Docker catalogs do not inspect certificates; without SANs, clients that verify host names reject the certificate.",
  }),
  validateStack: (args, reportViolation) => {
    const requests = args.resources.filter((r) => r.type === TYPES.certRequest);
    for (const cert of args.resources) {
      if (cert.type !== TYPES.locallySignedCert && cert.type !== TYPES.selfSignedCert) continue;
      if (isCa(cert.props)) continue;
      const uses = arr(at(cert.props, "allowedUses"));
      if (uses === UNKNOWN || !uses.includes("server_auth")) continue;
      const source = cert.type === TYPES.selfSignedCert ? cert : certRequestOf(cert, requests);
      if (!source) continue;
      if (sansOf(source.props) === 0) {
        reportViolation(
          `server certificate "${cert.name}" has no subject alternative names${source === cert ? "" : ` (its request "${source.name}" sets no dnsNames, ipAddresses or uris)`}`,
          cert.urn,
        );
      }
    }
  },
};

export const requirePrivateKeysInSecrets: StackValidationPolicy = {
  name: "require-private-keys-in-secrets",
  description:
    "Private key material reaches services only as a docker.Secret, never in a service config, an environment variable or an uploaded file.",
  severity: "critical",
  remediationSteps:
    "Deliver the key as a docker.Secret mounted with mode 0400 and point the service at its path (e.g. MQTT_KEY_FILE=/run/secrets/...).",
  ...mapsTo("tls", { cis: ["7.4"] }),
  validateStack: (args, reportViolation) => {
    const fromPrivateKey = (r: PolicyResource, property: string) =>
      (r.propertyDependencies?.[property] ?? []).find((dep) => dep.type === TYPES.privateKey);
    for (const r of args.resources) {
      if (r.type === TYPES.serviceConfig) {
        const data = str(at(r.props, "data"));
        const name = str(at(r.props, "name"));
        const label = `service config "${isKnown(name) ? name : r.name}"`;
        if (isKnown(data)) {
          const text = decodeBase64(data) ?? data;
          if (PRIVATE_KEY_PEM.test(text))
            reportViolation(
              `${label} holds a private key; Swarm configs are not encrypted at rest and any service may mount them`,
              r.urn,
            );
        } else if (data === UNKNOWN) {
          const key = fromPrivateKey(r, "data");
          if (key)
            reportViolation(
              `${label} is built from the output of private key "${key.name}"; deliver it as a docker.Secret`,
              r.urn,
            );
        }
      } else if (r.type === TYPES.service || r.type === TYPES.container) {
        const w = r.type === TYPES.service ? serviceView(r.props, r.name) : containerView(r.props, r.name);
        for (const { name, value } of w.env) {
          if (isKnown(value) && PRIVATE_KEY_PEM.test(value)) {
            reportViolation(`${describe(w)} carries a private key in environment variable ${name}`, r.urn);
          }
        }
        if (r.type === TYPES.container) {
          const envKey = fromPrivateKey(r, "envs");
          const envs = arr(at(r.props, "envs"));
          if (envKey && (envs === UNKNOWN || envs.some((e) => str(e) === UNKNOWN))) {
            reportViolation(`${describe(w)} builds its environment from private key "${envKey.name}"`, r.urn);
          }
          const uploads = arr(at(r.props, "uploads"));
          if (uploads !== UNKNOWN) {
            for (const upload of uploads) {
              const content = str(at(upload, "content"));
              const contentBase64 = str(at(upload, "contentBase64"));
              const text = isKnown(content)
                ? content
                : isKnown(contentBase64)
                  ? (decodeBase64(contentBase64) ?? "")
                  : "";
              if (PRIVATE_KEY_PEM.test(text)) {
                const file = str(at(upload, "file"));
                reportViolation(`${describe(w)} uploads a private key to ${isKnown(file) ? file : "a file"}`, r.urn);
              }
            }
          }
        }
      }
    }
  },
};

export const requireMqttClientCertificates: ResourceValidationPolicy = {
  name: "require-mqtt-client-certificates",
  description:
    "Every Mosquitto TLS listener reachable from the network requires client certificates (require_certificate true).",
  severity: "high",
  remediationSteps:
    "Set `require_certificate true` and `cafile` on the listener, issue each client a certificate from the stack's CA, " +
    "and map certificate names to ACL users with `use_identity_as_username true` (iot-swarm-net: mqtt.requireClientCertificate).",
  ...mapsTo("tls", {
    beyond:
      "Docker catalogs do not read broker configs; without client certificates any client that reaches the port can connect, and the broker cannot tell devices apart.",
  }),
  validateResource: forServiceConfigs((c, _args, reportViolation) => {
    if (!isKnown(c.text) || !isMosquittoConfig(c.text)) return;
    for (const l of mosquittoListeners(c.text)) {
      if (l.tls !== "certificate" || l.loopback || l.requireCertificate) continue;
      reportViolation(
        `${describeConfig(c)} accepts TLS clients without a client certificate on MQTT ${describeListener(l)} ` +
          "(require_certificate is not true).",
      );
    }
  }),
};

export const tlsPolicies = [
  requireEncryptedOverlayNetworks,
  requireStrongPrivateKeys,
  limitCertificateValidity,
  requireLeafCertificateUsage,
  requireLeafCertificateSans,
  restrictCertSigningToCa,
  requirePrivateKeysInSecrets,
  requireMqttClientCertificates,
];
