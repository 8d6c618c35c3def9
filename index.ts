/**
 * iot-swarm-net: the networking, service discovery and security of the IoT monitoring stack on Docker Swarm.
 * `pulumi up` deploys it; `npm run plan -- --stack <name>` reviews it without the Pulumi CLI.
 */
import * as pulumi from "@pulumi/pulumi";
import { IotStack, STACK_COMPONENT } from "./components/iotStack";
import { loadStackConfig } from "./components/stackConfig";

const { topology, plan, externalCa } = loadStackConfig();
const stack = new IotStack(STACK_COMPONENT, { topology, plan, stack: pulumi.getStack(), externalCa });

export const environment = topology.environment;
/**
 * service -> services it can reach: those attached to a network of the same id (from the registered network
 * resources, not planned names). Equals `intendedReachability`.
 */
export const reachability = stack.reachability;
export const intendedReachability = stack.intent;
export const discovery = stack.discovery;
export const publishedPorts = stack.publishedPorts;
/** Each service's health URL, in-swarm addresses and external URLs. */
export const endpoints = stack.endpoints;
export const networks = stack.networks.ids;
export const caCertPem = stack.caCertPem;
/** Config settings accepted but dangerous in prod, each with its config key; `npm run plan` prints them. */
export const warnings = stack.warnings;
