/**
 * Turns parsed stack config into the Topology the components deploy: merge (merge.ts), then validate
 * (validate.ts), then plan the networks (networks.ts). All problems are thrown together, each naming its config
 * key, before any resource exists.
 */
import { ConfigProblem, configKey, parseStackConfig, StackConfig, StackConfigError } from "./config";
import { mergeTopology } from "./merge";
import { NetworkPlan, planNetworks } from "./networks";
import { rotationProblems } from "./rotations";
import { relatedKeys, salvageStackConfig } from "./salvage";
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

export interface ParsedStackConfig extends ResolvedStackConfig {
  readonly config: StackConfig;
}

/**
 * Parses raw config values and resolves them, reporting the schema's problems together with the cross-field,
 * rotation and planning problems of the rest of the config (see salvage.ts). A cross-field problem under a key
 * the schema rejected, or above or below one, is left out: it would only repeat the cause.
 */
export function parseAndResolveStackConfig(raw: Readonly<Record<string, unknown>>): ParsedStackConfig {
  let shapeProblems: readonly ConfigProblem[];
  try {
    const config = parseStackConfig(raw);
    return { config, ...resolveStackConfig(config) };
  } catch (e) {
    if (!(e instanceof StackConfigError)) throw e;
    shapeProblems = e.problems;
  }
  throw new StackConfigError([...shapeProblems, ...crossFieldProblemsOfSalvage(raw, shapeProblems)]);
}

function crossFieldProblemsOfSalvage(
  raw: Readonly<Record<string, unknown>>,
  shapeProblems: readonly ConfigProblem[],
): ConfigProblem[] {
  const salvaged = salvageStackConfig(raw);
  if (!salvaged) return [];
  const rejected = [...salvaged.dropped.map(configKey), ...shapeProblems.map((p) => p.key)];
  try {
    resolveStackConfig(salvaged.config);
    return [];
  } catch (e) {
    // Anything but a config problem here is a consequence of the values dropped; the schema's problems explain it.
    if (!(e instanceof StackConfigError)) return [];
    return e.problems.filter((p) => !rejected.some((key) => relatedKeys(key, p.key)));
  }
}
