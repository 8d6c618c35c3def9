/**
 * The model the docs are generated from: the reference stacks (dev and prod) resolved from their
 * `Pulumi.<stack>.yaml` through the same parser and planner the program uses. Pure and fast: no Pulumi run.
 */
import { CONFIG_NAMESPACE, parseStackConfig, StackConfig } from "../../model/config";
import { NetworkPlan, planNetworks } from "../../model/networks";
import { resolveTopology } from "../../model/resolve";
import { Topology } from "../../model/types";
import { readStackConfig } from "../stackFile";

/** The stacks every doc describes, in column order. */
export const REFERENCE_STACKS = ["dev", "prod"] as const;
export type ReferenceStack = (typeof REFERENCE_STACKS)[number];

export interface StackModel {
  readonly stack: ReferenceStack;
  /** Raw config values without the namespace, as `parseStackConfig` takes them. */
  readonly raw: Readonly<Record<string, string>>;
  readonly config: StackConfig;
  readonly topology: Topology;
  readonly plan: NetworkPlan;
}

export type DocsModel = Readonly<Record<ReferenceStack, StackModel>>;

/** Config values of a stack file with the `iot-swarm-net:` prefix stripped. */
export function rawStackConfig(stack: string): Record<string, string> {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(readStackConfig(stack).config)) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
  }
  return raw;
}

export function stackModel(stack: ReferenceStack, raw: Readonly<Record<string, string>> = rawStackConfig(stack)): StackModel {
  const config = parseStackConfig(raw);
  const topology = resolveTopology(config);
  return { stack, raw, config, topology, plan: planNetworks(topology) };
}

export function loadDocsModel(): DocsModel {
  return { dev: stackModel("dev"), prod: stackModel("prod") };
}
