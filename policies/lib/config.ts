/**
 * Policy config: each policy declares a `configSchema` whose defaults are the safe values, and reads it
 * through `args.getConfig()`. The Pulumi CLI fills defaults from the schema; `configOf` fills them too, so
 * a policy behaves the same when it runs with no config at all (tests, the offline checker).
 */
import { PolicyConfigSchema } from "@pulumi/policy";

export function defaultsOf(schema: PolicyConfigSchema): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [key, definition] of Object.entries(schema.properties)) {
    if (typeof definition === "object" && definition.default !== undefined)
      defaults[key] = structuredClone(definition.default);
  }
  return defaults;
}

/** The policy's config with schema defaults under the values the CLI (or the offline checker) passed. */
export function configOf<T extends object>(schema: PolicyConfigSchema, args: { getConfig<C extends object>(): C }): T {
  const given = args.getConfig<Record<string, unknown>>() ?? {};
  const values: Record<string, unknown> = defaultsOf(schema);
  for (const [key, value] of Object.entries(given)) if (value !== undefined) values[key] = value;
  return values as T;
}

/** `{ type: "array", items: { type: "string" }, default }` with a description. */
export function stringList(description: string, defaults: readonly string[]) {
  return { type: "array" as const, items: { type: "string" as const }, default: [...defaults], description };
}

export function integerList(description: string, defaults: readonly number[]) {
  return {
    type: "array" as const,
    items: { type: "integer" as const, minimum: 1, maximum: 65535 },
    default: [...defaults],
    description,
  };
}
