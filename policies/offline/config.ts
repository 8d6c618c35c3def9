/**
 * Policy config files, as `pulumi preview --policy-pack-config <file>` reads them:
 *
 *   { "all": "mandatory",
 *     "require-image-digest": "advisory",
 *     "restrict-port-publishers": { "enforcementLevel": "mandatory", "allowedPublishers": ["gateway"] } }
 *
 * `all` sets every policy's level, a policy's own entry overrides it, and properties are checked against
 * the policy's configSchema with its defaults filled in, as the Pulumi CLI does.
 */
import { EnforcementLevel, Policies, PolicyConfigSchema } from "@pulumi/policy";
import { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { defaultsOf } from "../lib/config";
import { InputError } from "./resources";

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

export interface ResolvedPolicyConfig {
  readonly enforcementLevel: EnforcementLevel;
  /** Config properties with schema defaults applied (what `args.getConfig()` returns). */
  readonly properties: Record<string, unknown>;
}

export type ResolvedPackConfig = ReadonlyMap<string, ResolvedPolicyConfig>;

function isLevel(value: unknown): value is EnforcementLevel {
  return typeof value === "string" && (LEVELS as readonly string[]).includes(value);
}

/** Validates `value` against the subset of JSON Schema policies use; returns problems as `path: message`. */
export function validateAgainstSchema(
  value: unknown,
  schema: PolicyConfigJSONSchema | boolean,
  path: string,
): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: is not allowed`];
  const problems: string[] = [];
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const typeOf = (v: unknown) =>
    v === null
      ? "null"
      : Array.isArray(v)
        ? "array"
        : typeof v === "number"
          ? Number.isInteger(v)
            ? "integer"
            : "number"
          : typeof v;
  if (types.length > 0) {
    const actual = typeOf(value);
    const ok = types.some((t) => t === actual || (t === "number" && actual === "integer"));
    if (!ok) return [`${path}: must be ${types.join(" or ")}, but ${JSON.stringify(value)} was provided`];
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    problems.push(
      `${path}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}, but ${JSON.stringify(value)} was provided`,
    );
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum)
      problems.push(`${path}: must be at least ${schema.minimum}, but ${value} was provided`);
    if (schema.maximum !== undefined && value > schema.maximum)
      problems.push(`${path}: must be at most ${schema.maximum}, but ${value} was provided`);
  }
  if (typeof value === "string" && schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
    problems.push(`${path}: must match ${schema.pattern}, but ${JSON.stringify(value)} was provided`);
  }
  if (Array.isArray(value) && schema.items !== undefined && !Array.isArray(schema.items)) {
    value.forEach((item, i) =>
      problems.push(...validateAgainstSchema(item, schema.items as PolicyConfigJSONSchema | boolean, `${path}[${i}]`)),
    );
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const definition = schema.properties?.[key] ?? schema.additionalProperties;
      if (definition !== undefined) problems.push(...validateAgainstSchema(item, definition, `${path}.${key}`));
    }
    for (const key of schema.required ?? [])
      if (!(key in (value as object))) problems.push(`${path}.${key}: is required`);
  }
  return problems;
}

/**
 * Resolves a policy config document against the pack: every policy gets its enforcement level and its
 * config. Unknown policies, unknown properties and bad values are errors (a typo must not silently
 * relax a rule).
 */
export function resolvePackConfig(
  doc: unknown,
  policies: Policies,
  packDefault: EnforcementLevel,
  source: string,
): ResolvedPackConfig {
  const problems: string[] = [];
  const entries = doc === undefined ? {} : doc;
  if (entries === null || typeof entries !== "object" || Array.isArray(entries)) {
    throw new InputError(`${source}: a policy config must be a JSON object of policy names`);
  }
  const byName = new Map(policies.map((p) => [p.name, p]));
  const given = entries as Record<string, unknown>;
  let all: EnforcementLevel | undefined;
  if ("all" in given) {
    if (isLevel(given.all)) all = given.all;
    else problems.push(`all: must be one of ${LEVELS.join(", ")}, but ${JSON.stringify(given.all)} was provided`);
  }
  for (const key of Object.keys(given)) {
    if (key !== "all" && !byName.has(key)) problems.push(`${key}: no such policy in the pack`);
  }
  const resolved = new Map<string, ResolvedPolicyConfig>();
  for (const policy of policies) {
    const entry = given[policy.name];
    const schema: PolicyConfigSchema = policy.configSchema ?? { properties: {} };
    let level: EnforcementLevel = all ?? policy.enforcementLevel ?? packDefault;
    const properties = defaultsOf(schema);
    if (entry !== undefined) {
      if (isLevel(entry)) {
        level = entry;
      } else if (entry !== null && typeof entry === "object" && !Array.isArray(entry)) {
        for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
          if (key === "enforcementLevel") {
            if (isLevel(value)) level = value;
            else
              problems.push(
                `${policy.name}.enforcementLevel: must be one of ${LEVELS.join(", ")}, but ${JSON.stringify(value)} was provided`,
              );
            continue;
          }
          const definition = schema.properties[key];
          if (definition === undefined) {
            const known = Object.keys(schema.properties);
            problems.push(
              `${policy.name}.${key}: unknown config property${known.length > 0 ? ` (properties: ${known.join(", ")})` : " (the policy takes none)"}`,
            );
            continue;
          }
          const found = validateAgainstSchema(value, definition, `${policy.name}.${key}`);
          problems.push(...found);
          if (found.length === 0) properties[key] = value;
        }
      } else {
        problems.push(
          `${policy.name}: must be an enforcement level or an object, but ${JSON.stringify(entry)} was provided`,
        );
      }
    }
    for (const key of schema.required ?? [])
      if (!(key in properties)) problems.push(`${policy.name}.${key}: is required`);
    resolved.set(policy.name, { enforcementLevel: level, properties });
  }
  if (problems.length > 0) {
    throw new InputError(
      `${source}: invalid policy config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  }
  return resolved;
}
