/**
 * The resources the offline checker evaluates, in the shape of `pulumi stack export`
 * (`deployment.resources[]`): urn, type, id, inputs, outputs, parent, dependencies, propertyDependencies.
 * The in-process evaluation of the program produces the same shape. Secrets stay wrapped here, as the export
 * writes them; the runner unwraps them (lib/secrets.ts).
 */
import { urnName } from "../lib/values";

export interface StackResource {
  readonly urn: string;
  readonly type: string;
  readonly id?: string;
  readonly custom?: boolean;
  readonly inputs?: Record<string, unknown>;
  readonly outputs?: Record<string, unknown>;
  readonly parent?: string;
  readonly dependencies?: readonly string[];
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

/** Thrown for input the checker cannot read; the CLI turns it into exit code 2. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

/** Resource name as the engine reports it: the last URN segment. */
export const resourceName = (r: StackResource) => urnName(r.urn);

/** Reads a `pulumi stack export` document (or a bare `{ resources: [...] }`) and checks its shape. */
export function parseStackExport(text: string, source: string): StackResource[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${source} is not JSON: ${(e as Error).message}`);
  }
  const container = doc as { deployment?: { resources?: unknown }; resources?: unknown } | null;
  const resources = container?.deployment?.resources ?? container?.resources;
  if (!Array.isArray(resources)) {
    throw new InputError(`${source} has no deployment.resources array; expected the output of \`pulumi stack export\``);
  }
  return resources.map((entry, i) => {
    const r = entry as Partial<StackResource> | null;
    if (r === null || typeof r !== "object" || typeof r.urn !== "string" || typeof r.type !== "string") {
      throw new InputError(`${source}: deployment.resources[${i}] needs a string urn and type`);
    }
    const urns = (value: unknown, field: string): string[] => {
      if (value === undefined || value === null) return [];
      if (!Array.isArray(value) || value.some((u) => typeof u !== "string")) {
        throw new InputError(`${source}: deployment.resources[${i}].${field} must be a list of URNs`);
      }
      return value as string[];
    };
    const propertyDependencies: Record<string, string[]> = {};
    if (r.propertyDependencies !== undefined && r.propertyDependencies !== null) {
      if (typeof r.propertyDependencies !== "object")
        throw new InputError(`${source}: deployment.resources[${i}].propertyDependencies must be an object`);
      for (const [key, value] of Object.entries(r.propertyDependencies))
        propertyDependencies[key] = urns(value, `propertyDependencies.${key}`);
    }
    return {
      urn: r.urn,
      type: r.type,
      id: typeof r.id === "string" ? r.id : undefined,
      custom: r.custom,
      inputs: (r.inputs ?? {}) as Record<string, unknown>,
      outputs: (r.outputs ?? {}) as Record<string, unknown>,
      parent: typeof r.parent === "string" && r.parent !== "" ? r.parent : undefined,
      dependencies: urns(r.dependencies, "dependencies"),
      propertyDependencies,
    };
  });
}

/** The stack name inside the first resource URN (`urn:pulumi:<stack>::<project>::...`). */
export function stackNameOf(resources: readonly StackResource[]): string | undefined {
  for (const r of resources) {
    const match = /^urn:pulumi:([^:]+)::/.exec(r.urn);
    if (match) return match[1];
  }
  return undefined;
}

/** A stack export document for `resources` (what `pulumi stack export` writes, minus the manifest details). */
export function toStackExport(resources: readonly StackResource[]): {
  version: number;
  deployment: { manifest: Record<string, unknown>; resources: StackResource[] };
} {
  return {
    version: 3,
    deployment: {
      manifest: { time: new Date(0).toISOString(), magic: "", version: "" },
      resources: resources.map((r) => ({ ...r })),
    },
  };
}
