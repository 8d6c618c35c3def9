/**
 * Runs the real program in-process under Pulumi mocks and records every resource registration,
 * with its URN, parent and dependencies, so the plan, the policy checker, the bench and the tests
 * all look at what `pulumi up` would register.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { formatPropertyPath, unwrapSecrets } from "../policies/lib/secrets";
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
      const inputs = unwrapSecrets(args.inputs, ({ path }) => secretInputs.push(formatPropertyPath(path))) as Record<
        string,
        any
      >;
      recorded.set(`${args.type}::${args.name}`, {
        id: result.id ?? "",
        inputs,
        outputs: unwrapSecrets(result.state) as Record<string, any>,
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
  // A registration whose inputs wait on a provider call (an image's registry digest) is sent after the
  // runtime's own wait may have returned: wait again until no new registration arrives.
  for (let seen = -1; seen !== runtime.registered.length;) {
    seen = runtime.registered.length;
    await waitForRegistrations();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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
