/**
 * Runs the real program in-process under Pulumi mocks and records every resource registration,
 * with its URN, parent and dependencies, so the plan, the policy checker, the bench and the tests
 * all look at what `pulumi up` would register.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { PlanMocks } from "./mocks";
import { Registration, setMocksWithRegistrations, waitForRegistrations } from "./runtimeHooks";
import { PROJECT_NAME, PROJECT_ROOT, readStackConfig } from "./stackFile";

export interface RecordedResource extends Registration {
  readonly id: string;
  readonly inputs: Record<string, any>;
  readonly outputs: Record<string, any>;
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

export async function evaluateProgram(options: EvaluateOptions): Promise<Evaluation> {
  const config = options.config ?? readStackConfig(options.stack).config;
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
  const runtime = await setMocksWithRegistrations(mocks, PROJECT_NAME, options.stack);
  const program = await (options.load ?? (() => import(path.join(PROJECT_ROOT, "index"))))();
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) {
    if (key === "default" || key === "__esModule") continue;
    outputs[key] = await resolveValue(value);
  }
  await waitForRegistrations();
  const resources = runtime.registered.map((registration): RecordedResource => {
    const r = recorded.get(`${registration.type}::${registration.name}`);
    return {
      ...registration,
      id: r?.id ?? "",
      inputs: r?.inputs ?? {},
      outputs: r?.outputs ?? {},
      secretInputs: r?.secretInputs ?? [],
    };
  });
  return { stack: options.stack, resources, outputs };
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
