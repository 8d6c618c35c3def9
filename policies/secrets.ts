/**
 * Secrets where anyone who can inspect a service reads them: environment variables, command lines and health
 * checks, and plain Swarm configs. Each is judged by name and by content; in the offline checker a value that was
 * a Pulumi secret is evidence too (the program marked it sensitive). Under `pulumi preview` the analyzer hands
 * rules secrets as plain values, so there only name and content count. CIS Docker Benchmark 7.4.
 */
import { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { mapsTo } from "./lib/catalog";
import { commandLineSecrets } from "./lib/commandLine";
import { configCredentialFindings } from "./lib/configCredentials";
import { configOf, stringList } from "./lib/config";
import { secretEnvReason } from "./lib/secretEnv";
import { describeConfig, forServiceConfigs } from "./lib/serviceConfigs";
import { isKnown } from "./lib/values";
import { describe, forWorkloads } from "./lib/workloads";

const PULUMI_SECRET = "its value is a Pulumi secret";

const envSchema: PolicyConfigSchema = {
  properties: {
    allowedNames: stringList(
      "Environment variable names that look like secrets but are not (reviewed exceptions).",
      [],
    ),
  },
};

export const disallowSecretsInEnv: ResourceValidationPolicy = {
  name: "disallow-secrets-in-env",
  description:
    "No environment variable carries a secret inline: judged by name (PASSWORD, SECRET, TOKEN, KEY), by value (private keys, URLs with passwords, tokens) and, offline, by the value being a Pulumi secret.",
  severity: "high",
  remediationSteps:
    "Deliver the value as a docker.Secret and pass its path instead (e.g. GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/...).",
  ...mapsTo("secrets", { cis: ["7.4"] }),
  configSchema: envSchema,
  validateResource: forWorkloads((w, args, reportViolation) => {
    const { allowedNames } = configOf<{ allowedNames: string[] }>(envSchema, args);
    const visible = "environment is visible to anyone who can inspect the service.";
    for (const { name, value, secret } of w.env) {
      if (allowedNames.includes(name)) continue;
      if (name === "*") {
        reportViolation(`${describe(w)} takes its whole environment from a Pulumi secret; ${visible}`);
        continue;
      }
      const reason = secret ? PULUMI_SECRET : isKnown(value) ? secretEnvReason(name, value) : undefined;
      if (reason) reportViolation(`${describe(w)} sets ${name} inline (${reason}); ${visible}`);
    }
  }),
};

export const disallowSecretsInCommands: ResourceValidationPolicy = {
  name: "disallow-secrets-in-commands",
  description:
    "No command line or health check carries a password or key inline (`--requirepass x`, `--password=x`, `-p x`, `PASSWORD=x`, a PEM key, a URL with a password).",
  severity: "high",
  remediationSteps:
    "Read the secret from a file: mount a docker.Secret and use the program's file option (e.g. Redis `include /run/secrets/auth.conf`, `--password-file /run/secrets/x`).",
  ...mapsTo("secrets", { cis: ["7.4"] }),
  validateResource: forWorkloads((w, _args, reportViolation) => {
    for (const { source, args } of w.commandLines) {
      const found = new Map<number, string>();
      args.forEach(({ secret }, i) => secret && found.set(i, "it is a Pulumi secret"));
      for (const { index, reason } of commandLineSecrets(args.map((a) => (isKnown(a.value) ? a.value : undefined))))
        if (!found.has(index)) found.set(index, reason);
      const where = source === "healthcheck" ? "its health check" : "its command line";
      for (const [index, reason] of [...found].sort(([a], [b]) => a - b)) {
        reportViolation(
          `${describe(w)} passes a secret on ${where} (argument ${index + 1}: ${reason}); ` +
            "arguments are visible to anyone who can inspect the service or list the node's processes.",
        );
      }
    }
  }),
};

export const disallowCredentialsInConfigs: ResourceValidationPolicy = {
  name: "disallow-credentials-in-configs",
  description:
    "No plain Swarm config sets a password or token inline (Redis requirepass, HAProxy userlist, NATS password, Grafana admin_password, tokens, URLs with passwords).",
  severity: "high",
  remediationSteps:
    "Move the setting into a docker.Secret and include or reference it from the config (Redis `include /run/secrets/...`, NATS `include`, Grafana `$__file{/run/secrets/...}`).",
  ...mapsTo("secrets", { cis: ["7.4"] }),
  validateResource: forServiceConfigs((c, _args, reportViolation) => {
    const exposure = "Swarm configs are not encrypted at rest and any service may mount them.";
    if (c.secret) {
      reportViolation(`${describeConfig(c)} is built from a Pulumi secret; ${exposure} Use a docker.Secret.`);
      return;
    }
    if (!isKnown(c.text)) return;
    for (const { line, setting } of configCredentialFindings(c.text)) {
      reportViolation(`${describeConfig(c)} sets a credential inline (line ${line}: ${setting}); ${exposure}`);
    }
  }),
};

export const secretPolicies = [disallowSecretsInEnv, disallowSecretsInCommands, disallowCredentialsInConfigs];
