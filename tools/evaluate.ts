/**
 * Runs the real program in-process under Pulumi mocks and records every resource registration,
 * with its URN, parent and dependencies, so the plan, the policy checker, the bench and the tests
 * all look at what `pulumi up` would register.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { PlanMocks } from "./mocks";
import { PROJECT_NAME, PROJECT_ROOT, readStackConfig } from "./stackFile";

export interface RecordedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly parent?: string;
  readonly id: string;
  readonly inputs: Record<string, any>;
  readonly outputs: Record<string, any>;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
}

export interface Evaluation {
  readonly stack: string;
  readonly resources: RecordedResource[];
  /** The program's exports, resolved. */
  readonly outputs: Record<string, unknown>;
}

export interface EvaluateOptions {
  readonly stack: string;
  /** Config to use instead of `Pulumi.<stack>.yaml` (namespaced keys, string values). */
  readonly config?: Record<string, string>;
  readonly mocks?: pulumi.runtime.Mocks;
  /** Loads the program; the default imports index.ts. Jest passes one that isolates modules. */
  readonly load?: () => Promise<Record<string, unknown>>;
}

// Internal runtime hooks, pinned with @pulumi/pulumi: the mock monitor is the only place that sees
// parents and dependencies, and waitForRPCs is how the runtime itself waits for registrations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings");

export async function evaluateProgram(options: EvaluateOptions): Promise<Evaluation> {
  const config = options.config ?? readStackConfig(options.stack).config;
  const byUrn = new Map<string, RecordedResource>();
  const pending: { type: string; name: string; parent: string; dependencies: string[]; propertyDependencies: Record<string, string[]>; custom: boolean }[] = [];
  const base = options.mocks ?? new PlanMocks();
  const recorded = new Map<string, { id: string; inputs: Record<string, any>; outputs: Record<string, any> }>();
  const mocks: pulumi.runtime.Mocks = {
    newResource: async (args) => {
      const result = await base.newResource(args);
      recorded.set(`${args.type}::${args.name}`, { id: result.id ?? "", inputs: args.inputs, outputs: result.state });
      return result;
    },
    call: (args) => base.call(args),
  };

  pulumi.runtime.setAllConfig(config, []);
  await pulumi.runtime.setMocks(mocks, PROJECT_NAME, options.stack, false);
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: unknown, res: any) => void) => {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps: any, key: string) => (propertyDependencies[key] = deps.getUrnsList()));
    pending.push({
      type: req.getType(),
      name: req.getName(),
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
      propertyDependencies,
      custom: req.getCustom(),
    });
    return register(req, (err: unknown, res: any) => {
      if (!err && res) {
        const entry = pending.find((p) => p.type === req.getType() && p.name === req.getName())!;
        const r = recorded.get(`${entry.type}::${entry.name}`);
        byUrn.set(res.getUrn(), {
          urn: res.getUrn(),
          type: entry.type,
          name: entry.name,
          custom: entry.custom,
          parent: entry.parent || undefined,
          id: r?.id ?? "",
          inputs: r?.inputs ?? {},
          outputs: r?.outputs ?? {},
          dependencies: entry.dependencies,
          propertyDependencies: entry.propertyDependencies,
        });
      }
      callback(err, res);
    });
  };

  const program = await (options.load ?? (() => import(path.join(PROJECT_ROOT, "index"))))();
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) {
    if (key === "default" || key === "__esModule") continue;
    outputs[key] = await resolveValue(value);
  }
  await settings.waitForRPCs();
  return { stack: options.stack, resources: [...byUrn.values()], outputs };
}

/** Resolves an Output (or a structure holding Outputs) to its plain value. */
export async function resolveValue(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    return new Promise((resolve) => (value as pulumi.Output<unknown>).apply((v) => resolve(v)));
  }
  if (Array.isArray(value)) return Promise.all(value.map(resolveValue));
  if (value !== null && typeof value === "object") {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveValue(v)] as const));
    return Object.fromEntries(entries);
  }
  return value;
}
