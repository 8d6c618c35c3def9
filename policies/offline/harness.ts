/**
 * Running one policy in a test, as Pulumi's own policy tests do: the analyzer's args (real type tokens,
 * a `notApplicable` that throws, config validated against the policy's schema with defaults), with every
 * `reportViolation(message, urn)` collected into an array.
 */
import { Policy, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { resolvePackConfig } from "./config";
import { StackResource } from "./resources";
import { runPolicies, Violation } from "./run";

export type { Policy, ResourceValidationPolicy, StackValidationPolicy };

/** A resource as a test writes it: one set of props serves as inputs and outputs. */
export interface FakeResource {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
  /** Defaults to `urn:pulumi:test::iot::<type>::<name>`. */
  readonly urn?: string;
  readonly id?: string;
  readonly parent?: string;
  readonly dependencies?: readonly string[];
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

export const fakeUrn = (type: string, name: string) => `urn:pulumi:test::iot::${type}::${name}`;

export function toStackResource(r: FakeResource): StackResource {
  return {
    urn: r.urn ?? fakeUrn(r.type, r.name),
    type: r.type,
    id: r.id,
    custom: true,
    inputs: r.props,
    outputs: r.props,
    parent: r.parent,
    dependencies: r.dependencies ?? [],
    propertyDependencies: r.propertyDependencies ?? {},
  };
}

async function run(
  policy: Policy,
  resources: readonly FakeResource[],
  config?: Record<string, unknown>,
): Promise<Violation[]> {
  const resolved = resolvePackConfig(
    { [policy.name]: { enforcementLevel: "mandatory", ...config } },
    [policy],
    "mandatory",
    "test config",
  );
  const { violations } = await runPolicies(resources.map(toStackResource), [policy], resolved);
  return [...violations];
}

/** Violation messages of a resource policy on one resource (an empty array when it passes or does not apply). */
export async function runResourcePolicy(
  policy: ResourceValidationPolicy,
  resource: FakeResource,
  config?: Record<string, unknown>,
): Promise<string[]> {
  return (await run(policy, [resource], config)).map((v) => v.message);
}

/** Violations (message and URN) of a stack policy on a set of resources. */
export async function runStackPolicy(
  policy: StackValidationPolicy,
  resources: readonly FakeResource[],
  config?: Record<string, unknown>,
): Promise<Violation[]> {
  return run(policy, resources, config);
}
