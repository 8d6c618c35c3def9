/**
 * Turns parsed stack config into the Topology the components deploy: merge (merge.ts), then validate
 * (validate.ts), then plan the networks (networks.ts). All problems are thrown together, each naming its config
 * key, before any resource exists.
 */
import { ConfigProblem, StackConfig, StackConfigError } from "./config";
import { mergeTopology } from "./merge";
import { NetworkPlan, planNetworks } from "./networks";
import { rotationProblems } from "./rotations";
import { Topology } from "./types";
import { validateTopology } from "./validate";

/** Merges and validates; throws StackConfigError with every cross-field problem. Does not plan networks. */
export function resolveTopology(config: StackConfig): Topology {
  const topology = mergeTopology(config);
  const problems = validateTopology(config, topology);
  if (problems.length > 0) throw new StackConfigError(problems);
  return topology;
}

export interface ResolvedStackConfig {
  readonly topology: Topology;
  /** The network plan; part of resolving, so a subnet collision is a config error like any other. */
  readonly plan: NetworkPlan;
}

/**
 * Merges, validates, checks rotations and plans the networks, and reports the problems of all of them in one
 * StackConfigError: a validation problem does not hide a subnet collision, nor the other way round. A planning
 * problem under a key validation already rejected is left out (it would only repeat the cause), and so is a
 * failure to plan at all when validation has already explained why.
 */
export function resolveStackConfig(config: StackConfig): ResolvedStackConfig {
  const topology = mergeTopology(config);
  const problems: ConfigProblem[] = [...validateTopology(config, topology), ...rotationProblems(topology)];
  let plan: NetworkPlan | undefined;
  try {
    plan = planNetworks(topology);
  } catch (e) {
    if (e instanceof StackConfigError) {
      const rejected = new Set(problems.map((p) => p.key));
      problems.push(...e.problems.filter((p) => !rejected.has(p.key)));
    } else if (problems.length === 0) {
      throw e;
    }
  }
  if (problems.length > 0 || !plan) throw new StackConfigError(problems);
  return { topology, plan };
}
