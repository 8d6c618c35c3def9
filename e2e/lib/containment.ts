/**
 * Keeps the stack under test on this machine: while the run lasts, a firewall rule in Docker's
 * DOCKER-USER chain rejects every new connection a container opens through docker_gwbridge
 * towards anything but this host (forwarded traffic; the host's own addresses are INPUT and stay
 * reachable). Without it, a probe from a task with an egress network towards another service's
 * overlay address (no overlay route, so the default route) or an upstream DNS forward of an
 * unknown name would leave the machine. The rule's packet counter says how many were stopped.
 * e2e/cleanup.sh removes a rule a killed run left behind.
 */
import { capture } from "./host";

export const CONTAINMENT_COMMENT = "iot-swarm-net e2e containment";
const RULE = [
  "DOCKER-USER",
  "-i",
  "docker_gwbridge",
  "-m",
  "conntrack",
  "--ctstate",
  "NEW",
  "-m",
  "comment",
  "--comment",
  CONTAINMENT_COMMENT,
  "-j",
  "REJECT",
];

export function containmentInstalled(): boolean {
  return capture("iptables", ["-C", ...RULE]).status === 0;
}

export function installContainment(): void {
  if (containmentInstalled()) return;
  const r = capture("iptables", ["-I", ...RULE.slice(0, 1), "1", ...RULE.slice(1)]);
  if (r.status !== 0)
    throw new Error(`could not install the containment rule (iptables ${r.status}): ${r.stderr.trim()}`);
}

/** Packets the rule rejected so far. */
export function containmentRejected(): number {
  const r = capture("iptables", ["-L", "DOCKER-USER", "-v", "-x", "-n"]);
  const line = r.stdout.split("\n").find((l) => l.includes(CONTAINMENT_COMMENT));
  return line ? Number(line.trim().split(/\s+/)[0]) || 0 : 0;
}

/** Removes every copy of the rule; true when none is left. */
export function removeContainment(): boolean {
  for (let i = 0; i < 10 && containmentInstalled(); i++) capture("iptables", ["-D", ...RULE]);
  return !containmentInstalled();
}
