/**
 * Turns parsed stack config into the Topology the components deploy: merge (merge.ts), then validate
 * (validate.ts). All problems are thrown together, each naming its config key, before any resource exists.
 */
import { StackConfig, StackConfigError } from "./config";
import { mergeTopology } from "./merge";
import { Topology } from "./types";
import { validateTopology } from "./validate";

export function resolveTopology(config: StackConfig): Topology {
  const topology = mergeTopology(config);
  const problems = validateTopology(config, topology);
  if (problems.length > 0) throw new StackConfigError(problems);
  return topology;
}
