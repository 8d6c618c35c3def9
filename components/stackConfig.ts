/** Reads this stack's `iot-swarm-net:*` config through Pulumi and hands it to the pure parser. */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, ConfigProblem, parseStackConfig, StackConfigError } from "../model/config";
import { NetworkPlan, planNetworks } from "../model/networks";
import { resolveTopology } from "../model/resolve";
import { rotationProblems } from "../model/rotations";
import { Topology } from "../model/types";

export interface LoadedConfig {
  readonly topology: Topology;
  /** The network plan; computed here so a subnet collision is a config error before any resource exists. */
  readonly plan: NetworkPlan;
  /** A CA the user brings (prod); the key stays a Pulumi secret. */
  readonly externalCa?: { readonly certPem: string; readonly keyPem: pulumi.Output<string> };
}

export function loadStackConfig(): LoadedConfig {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
  }
  const parsed = parseStackConfig(raw);
  const topology = resolveTopology(parsed);
  const { plan, problems } = planAndCheck(topology);
  if (problems.length > 0) throw new StackConfigError(problems);
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const keyPem = config.getSecret("caKeyPem");
  return {
    topology,
    plan: plan!,
    externalCa: parsed.caCertPem && keyPem ? { certPem: parsed.caCertPem, keyPem } : undefined,
  };
}

/** The checks that need a resolved topology, all of them in one run. */
function planAndCheck(topology: Topology): { plan?: NetworkPlan; problems: ConfigProblem[] } {
  const problems = rotationProblems(topology);
  try {
    return { plan: planNetworks(topology), problems };
  } catch (e) {
    if (!(e instanceof StackConfigError)) throw e;
    return { problems: [...problems, ...e.problems] };
  }
}
