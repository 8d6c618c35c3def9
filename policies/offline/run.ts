/**
 * Runs the pack's policies over recorded resources the way the CrossGuard analyzer does: resource
 * policies once per resource with its inputs, stack policies once with every resource's outputs, parent
 * and dependencies; props behind the same unknown-checking proxy; `notApplicable` ends one policy's run.
 */
import {
  EnforcementLevel,
  Policies,
  Policy,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { markSecretPaths, PropertyPath, unwrapSecrets } from "../lib/secrets";
import { ResolvedPackConfig } from "./config";
import { resourceName, StackResource } from "./resources";

// The analyzer's own proxy, so a rule that reads an unknown value fails here exactly as in a preview.
// Its typings export nothing (it is internal to @pulumi/policy), hence require and a local type.
interface AnalyzerProxy {
  unknownCheckingProxy<T>(value: T): T;
  UnknownValueError: new (...args: never[]) => Error;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxy: AnalyzerProxy = require("@pulumi/policy/proxy");

export type ReportedLevel = Exclude<EnforcementLevel, "disabled" | "remediate">;

export interface Violation {
  readonly policyName: string;
  readonly enforcementLevel: ReportedLevel;
  readonly severity?: string;
  readonly message: string;
  readonly urn?: string;
}

export class NotApplicableError extends Error {
  constructor(readonly reason?: string) {
    super(reason ?? "not applicable");
    this.name = "NotApplicableError";
  }
}

const throwNotApplicable = (reason?: string): never => {
  throw new NotApplicableError(reason);
};

const pulumiTypeOf = (resourceClass: unknown) => (resourceClass as { __pulumiType?: string } | undefined)?.__pulumiType;

export const isResourcePolicy = (p: Policy): p is ResourceValidationPolicy => "validateResource" in p;
export const isStackPolicy = (p: Policy): p is StackValidationPolicy => "validateStack" in p;

/** Unwrapped props, with the paths that held secrets recorded for `secretAt`. */
function unwrapProps(...sources: (Record<string, unknown> | undefined)[]): Record<string, unknown> {
  const paths: PropertyPath[] = [];
  const props: Record<string, unknown> = {};
  for (const source of sources) {
    Object.assign(props, unwrapSecrets(source ?? {}, ({ path }) => paths.push(path)) as Record<string, unknown>);
  }
  return markSecretPaths(props, paths);
}

/** Props a policy sees: inputs for resource policies, outputs (with the id) for stack policies. */
function propsOf(r: StackResource, kind: "inputs" | "outputs"): Record<string, unknown> {
  const hasInputs = Object.keys(r.inputs ?? {}).length > 0;
  if (kind === "inputs") return hasInputs ? unwrapProps(r.inputs) : unwrapProps(r.outputs);
  const props = unwrapProps(r.inputs, r.outputs);
  if (r.id && r.custom !== false && props.id === undefined) props.id = r.id;
  return props;
}

/** The `PolicyResource` objects a stack policy receives, with parents and dependencies linked. */
export function toPolicyResources(resources: readonly StackResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const made = resources.map((r) => {
    const props = proxy.unknownCheckingProxy(propsOf(r, "outputs"));
    const resource: PolicyResource = {
      type: r.type,
      props,
      urn: r.urn,
      name: resourceName(r),
      opts: {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        parent: r.parent,
      },
      dependencies: [],
      propertyDependencies: {},
      isType: (resourceClass) => pulumiTypeOf(resourceClass) === r.type,
      asType: (resourceClass) => (pulumiTypeOf(resourceClass) === r.type ? (props as never) : undefined),
    };
    byUrn.set(r.urn, resource);
    return { r, resource };
  });
  for (const { r, resource } of made) {
    if (r.parent) resource.parent = byUrn.get(r.parent);
    resource.dependencies = (r.dependencies ?? [])
      .map((u) => byUrn.get(u))
      .filter((d): d is PolicyResource => d !== undefined);
    for (const [key, urns] of Object.entries(r.propertyDependencies ?? {})) {
      resource.propertyDependencies[key] = urns
        .map((u) => byUrn.get(u))
        .filter((d): d is PolicyResource => d !== undefined);
    }
  }
  return made.map((m) => m.resource);
}

/** Freezes a props tree so sharing it between policies cannot leak one policy's edits into another. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}

/**
 * The args a resource policy receives for `r`. `inputs` may be passed pre-unwrapped (and frozen) so a
 * run over many policies unwraps each resource once.
 */
export function resourceArgs(
  r: StackResource,
  getConfig: () => Record<string, unknown>,
  inputs?: Record<string, unknown>,
): ResourceValidationArgs {
  const props = proxy.unknownCheckingProxy(inputs ?? propsOf(r, "inputs"));
  return {
    type: r.type,
    props,
    urn: r.urn,
    name: resourceName(r),
    opts: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
      parent: r.parent,
    },
    stackTags: new Map(),
    isType: (resourceClass) => pulumiTypeOf(resourceClass) === r.type,
    asType: (resourceClass) => (pulumiTypeOf(resourceClass) === r.type ? (props as never) : undefined),
    getConfig: <T extends object>() => getConfig() as T,
    notApplicable: throwNotApplicable,
  };
}

export function stackArgs(resources: PolicyResource[], getConfig: () => Record<string, unknown>): StackValidationArgs {
  return {
    resources,
    stackTags: new Map(),
    getConfig: <T extends object>() => getConfig() as T,
    notApplicable: throwNotApplicable,
  };
}

export interface RunResult {
  readonly violations: readonly Violation[];
  readonly resourceCount: number;
  readonly policyCount: number;
}

/** Runs every enabled policy of the pack over `resources` with the resolved config. */
export async function runPolicies(
  resources: readonly StackResource[],
  policies: Policies,
  config: ResolvedPackConfig,
): Promise<RunResult> {
  const violations: Violation[] = [];
  const stackResources = toPolicyResources(resources);
  // Unwrapping once per resource instead of once per policy and resource; policies only read props.
  const inputProps = resources.map((r) => deepFreeze(propsOf(r, "inputs")));
  let enabled = 0;
  for (const policy of policies) {
    const resolved = config.get(policy.name);
    const configured = resolved?.enforcementLevel ?? "advisory";
    if (configured === "disabled") continue;
    enabled++;
    // Violations of a remediating policy that still fail are reported as mandatory, as the analyzer does.
    const level: ReportedLevel = configured === "remediate" ? "mandatory" : configured;
    const getConfig = () => structuredClone(resolved?.properties ?? {});
    const push = (message: string, urn?: string) =>
      violations.push({ policyName: policy.name, enforcementLevel: level, severity: policy.severity, message, urn });
    const guard = async (run: () => unknown, urn?: string) => {
      try {
        await run();
      } catch (e) {
        if (e instanceof NotApplicableError) return;
        if (e instanceof proxy.UnknownValueError) {
          violations.push({
            policyName: policy.name,
            enforcementLevel: "advisory",
            message: `can't run policy '${policy.name}' during preview: ${(e as Error).message}`,
            urn,
          });
          return;
        }
        throw new Error(`policy ${policy.name} failed${urn ? ` on ${urn}` : ""}: ${(e as Error).stack ?? e}`);
      }
    };
    if (isResourcePolicy(policy) && policy.validateResource) {
      const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
      for (const [i, r] of resources.entries()) {
        for (const validate of validations) {
          // A resource policy always reports against the resource it validates.
          await guard(
            () => validate(resourceArgs(r, getConfig, inputProps[i]), (message) => push(message, r.urn)),
            r.urn,
          );
        }
      }
    } else if (isStackPolicy(policy)) {
      await guard(() =>
        policy.validateStack(stackArgs(stackResources, getConfig), (message, urn) => push(message, urn)),
      );
    }
  }
  return { violations, resourceCount: resources.length, policyCount: enabled };
}
