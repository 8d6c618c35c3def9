/** Reads this stack's `iot-swarm-net:*` config through Pulumi and hands it to the pure parser. */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE } from "../model/config";
import { NetworkPlan } from "../model/networks";
import { parseAndResolveStackConfig } from "../model/resolve";
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
  // Schema, validation, rotation and planning problems come out together, in one StackConfigError.
  const { config: parsed, topology, plan } = parseAndResolveStackConfig(raw);
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const keyPem = config.getSecret("caKeyPem");
  return {
    topology,
    plan,
    externalCa: parsed.caCertPem && keyPem ? { certPem: parsed.caCertPem, keyPem } : undefined,
  };
}
