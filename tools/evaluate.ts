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
  /** Dotted paths of inputs that are Pulumi secrets (their values are unwrapped in `inputs`). */
  readonly secretInputs: readonly string[];
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
  const base = options.mocks ?? new PlanMocks();
  const recorded = new Map<
    string,
    { id: string; inputs: Record<string, any>; outputs: Record<string, any>; secretInputs: string[] }
  >();
  const mocks: pulumi.runtime.Mocks = {
    newResource: async (args) => {
      const result = await base.newResource(args);
      const secretInputs: string[] = [];
      const inputs = unwrapSecrets(args.inputs, "", secretInputs) as Record<string, any>;
      recorded.set(`${args.type}::${args.name}`, {
        id: result.id ?? "",
        inputs,
        outputs: unwrapSecrets(result.state, "", []) as Record<string, any>,
        secretInputs,
      });
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
    req
      .getPropertydependenciesMap()
      .forEach((deps: any, key: string) => (propertyDependencies[key] = deps.getUrnsList()));
    const entry = {
      type: req.getType(),
      name: req.getName(),
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
      propertyDependencies,
      custom: req.getCustom(),
    };
    return register(req, (err: unknown, res: any) => {
      if (!err && res) {
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
          secretInputs: r?.secretInputs ?? [],
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

// The runtime's marker for a secret value inside deserialized properties.
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** Replaces secret wrappers with their values, collecting the paths that were secret. */
export function unwrapSecrets(value: unknown, path: string, secretPaths: string[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, `${path}[${i}]`, secretPaths));
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SECRET_SIG] === SECRET_VALUE) {
      secretPaths.push(path);
      return unwrapSecrets(obj.value, path, []);
    }
    return Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [k, unwrapSecrets(v, path ? `${path}.${k}` : k, secretPaths)]),
    );
  }
  return value;
}
