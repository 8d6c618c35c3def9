/**
 * What of a config the schema rejected can still be checked across fields. Without this, one typo in a port
 * would hide every cross-field problem (an undeclared flow target, a subnet collision) until the next run.
 *
 * Each value the schema rejects is dropped, so its key falls back to the catalog or the schema default; a key the
 * schema keeps rejecting after that is dropped one level up. Salvage gives up (and only the schema's problems are
 * reported) when that would drop a required top-level key, a top-level list or object, or an element of a list:
 * dropping a list element would shift its siblings' keys, and dropping a whole list (tiers, say) would turn one
 * mistake into several unrelated-looking ones about what referred to it.
 */
import { z } from "zod";
import { decodeConfigValues, StackConfig, stackConfigSchema } from "./config";

type Path = readonly PropertyKey[];

export interface SalvagedConfig {
  /** The config with every rejected value dropped. */
  readonly config: StackConfig;
  /** The paths dropped, e.g. `["services", "grafana", "replicas"]`. */
  readonly dropped: readonly Path[];
}

/** Enough for every nested level of the schema, several times over. */
const MAX_ROUNDS = 16;

export function salvageStackConfig(raw: Readonly<Record<string, unknown>>): SalvagedConfig | undefined {
  const values = structuredClone(decodeConfigValues(raw));
  const dropped: Path[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const result = stackConfigSchema.safeParse(values);
    if (result.success) return { config: result.data, dropped };
    for (const issue of result.error.issues) {
      const paths = issuePaths(issue);
      for (const path of paths) {
        const target = dropped.some((d) => samePath(d, path)) ? path.slice(0, -1) : path;
        if (!droppable(values, target)) return undefined;
        dropAt(values, target);
        dropped.push(target);
      }
    }
  }
  return undefined;
}

/** True when `a` is `b`, or one lies under the other: a problem there shares its cause with the dropped key. */
export function relatedKeys(a: string, b: string): boolean {
  return a === b || b.startsWith(`${a}.`) || b.startsWith(`${a}[`) || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
}

function issuePaths(issue: z.core.$ZodIssue): Path[] {
  if (issue.code === "unrecognized_keys") return issue.keys.map((k) => [...issue.path, k]);
  return [issue.path];
}

/** A top-level scalar, or a key inside an object below the top level; never a list element. */
function droppable(values: Record<string, unknown>, path: Path): boolean {
  if (path.length === 0) return false;
  if (path.length === 1) {
    const value = values[path[0] as string];
    return value === undefined || value === null || typeof value !== "object";
  }
  const parent = valueAt(values, path.slice(0, -1));
  return parent !== null && typeof parent === "object" && !Array.isArray(parent);
}

function dropAt(values: Record<string, unknown>, path: Path): void {
  const parent = valueAt(values, path.slice(0, -1)) as Record<PropertyKey, unknown>;
  delete parent[path[path.length - 1]];
}

function valueAt(values: unknown, path: Path): unknown {
  let value = values;
  for (const part of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value;
}

function samePath(a: Path, b: Path): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}
