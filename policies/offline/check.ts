/**
 * The offline checker's core: pick the policy config for a stack, run the pack over recorded resources
 * and render the result. tools/policyCheck.ts adds the command line; tests call this directly.
 */
import * as fs from "fs";
import * as path from "path";
import { Policies } from "@pulumi/policy";
import { allPolicies, DEFAULT_ENFORCEMENT, PACK_NAME } from "../pack";
import { resolvePackConfig } from "./config";
import { countByLevel, formatSummary, formatViolation, sortViolations } from "./format";
import { InputError, StackResource } from "./resources";
import { runPolicies, Violation } from "./run";

export const POLICY_CONFIG_DIR = path.resolve(__dirname, "..", "config");

export interface CheckOptions {
  readonly resources: readonly StackResource[];
  /** Stack name: selects policies/config/<stack>.json when no config file is given. */
  readonly stack?: string;
  /** A policy config file to use instead of the stack's. */
  readonly policyConfigFile?: string;
  readonly policies?: Policies;
}

export interface CheckResult {
  readonly violations: readonly Violation[];
  readonly lines: readonly string[];
  /** 0: no mandatory violation; 1: at least one. */
  readonly exitCode: 0 | 1;
  readonly configSource: string;
}

/** The policy config file for a stack, if the repository has one. */
export function stackPolicyConfigFile(stack: string | undefined): string | undefined {
  if (!stack || !/^[A-Za-z0-9_.-]+$/.test(stack)) return undefined;
  const file = path.join(POLICY_CONFIG_DIR, `${stack}.json`);
  return fs.existsSync(file) ? file : undefined;
}

export function readPolicyConfigFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(
      `cannot read policy config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`policy config ${file} is not JSON: ${(e as Error).message}`);
  }
}

export async function checkResources(options: CheckOptions): Promise<CheckResult> {
  const policies = options.policies ?? allPolicies;
  const file = options.policyConfigFile ?? stackPolicyConfigFile(options.stack);
  const relative = file ? path.relative(process.cwd(), file) || file : undefined;
  const configSource = relative ? `policy config ${relative}` : `no policy config: pack default ${DEFAULT_ENFORCEMENT}`;
  const config = resolvePackConfig(
    file ? readPolicyConfigFile(file) : undefined,
    policies,
    DEFAULT_ENFORCEMENT,
    relative ?? "pack defaults",
  );
  const result = await runPolicies(options.resources, policies, config);
  const violations = sortViolations(
    result.violations,
    policies.map((p) => p.name),
  );
  const lines = [
    ...violations.map(formatViolation),
    ...(violations.length > 0 ? [""] : []),
    ...formatSummary(result, { packName: PACK_NAME, stack: options.stack, configSource }),
  ];
  return { violations, lines, exitCode: countByLevel(violations).mandatory > 0 ? 1 : 0, configSource };
}
