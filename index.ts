/**
 * iot-swarm-net: the networking, service discovery and security of the IoT monitoring stack on Docker Swarm.
 * `pulumi up` deploys it; `npm run plan -- --stack <name>` reviews it without the Pulumi CLI.
 */
import { runProgram } from "./components/program";

const program = runProgram();

export const environment = program.environment;
/**
 * service -> services it can reach: those attached to a network of the same id (from the registered network
 * resources, not planned names). Equals `intendedReachability`.
 */
export const reachability = program.reachability;
export const intendedReachability = program.intendedReachability;
export const discovery = program.discovery;
export const publishedPorts = program.publishedPorts;
/** Each service's health URL, in-swarm addresses and external URLs. */
export const endpoints = program.endpoints;
export const networks = program.networks;
export const caCertPem = program.caCertPem;
/** Config settings accepted but dangerous in prod, each with its config key; `npm run plan` prints them. */
export const warnings = program.warnings;
