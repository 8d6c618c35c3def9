/**
 * The program: reads the stack config, rejects a bad one before any resource exists, and registers the stack.
 * index.ts runs it once and exports what it returns; the tests run it again and again in one process.
 */
import * as pulumi from "@pulumi/pulumi";
import { IotStack, STACK_COMPONENT } from "./iotStack";
import { loadStackConfig } from "./stackConfig";

export function runProgram() {
  const { topology, plan, externalCa } = loadStackConfig();
  const stack = new IotStack(STACK_COMPONENT, { topology, plan, stack: pulumi.getStack(), externalCa });
  return {
    environment: topology.environment,
    /** service -> services it can reach: attached to a network of the same id. Equals `intendedReachability`. */
    reachability: stack.reachability,
    intendedReachability: stack.intent,
    discovery: stack.discovery,
    publishedPorts: stack.publishedPorts,
    /** Each service's health URL, in-swarm addresses and external URLs. */
    endpoints: stack.endpoints,
    networks: stack.networks.ids,
    caCertPem: stack.caCertPem,
    /** Config settings accepted but dangerous in prod, each with its config key. */
    warnings: stack.warnings,
  };
}
