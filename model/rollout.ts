/**
 * How each service changes on day 2: the order of a rolling update (old and new task side by side, or not)
 * and of a replacement (successor created before the original is deleted, or after), and the Docker name that
 * makes a create-first replacement possible. Pure, so the plan, the docs and the tests read the same rules.
 */
import { fitName, shortHash } from "./naming";
import { PublishMode, ServiceSpec } from "./types";

export type UpdateOrder = "start-first" | "stop-first";
export type ReplacementOrder = "create-first" | "delete-first";

const publishes = (spec: ServiceSpec) => spec.ports.some((p) => p.published !== undefined);

/**
 * A rolling update starts each new task before stopping an old one, unless two tasks cannot run side by side:
 * a singleton (one process holds the state or the subscriptions) or a task holding a host-mode port.
 */
export function updateOrder(spec: ServiceSpec, publishMode: PublishMode): UpdateOrder {
  return spec.singleton || (publishes(spec) && publishMode === "host") ? "stop-first" : "start-first";
}

/**
 * A change Swarm cannot apply in place (network membership, aliases) replaces the service. A stateless
 * service that publishes nothing is replaced create-first: its successor runs beside it, under another Docker
 * name and the same discovery names, until the original is deleted, so the replacement costs no request. A
 * singleton (two copies would share a volume or split subscriptions) or a service publishing a port (the port
 * can be held by one service only) is deleted first: an outage of one task start.
 */
export function replacementOrder(spec: ServiceSpec): ReplacementOrder {
  return spec.singleton || publishes(spec) ? "delete-first" : "create-first";
}

/**
 * The Docker service name. A delete-first service keeps its own name. A create-first service needs a name its
 * successor does not share (Swarm refuses two services of one name), so its name ends in a hash of what forces
 * a replacement: the networks it joins and its aliases. A change of either gives the successor a new name.
 */
export function dockerServiceName(spec: ServiceSpec, networks: readonly string[]): string {
  if (replacementOrder(spec) === "delete-first") return spec.name;
  const identity = JSON.stringify({ networks: [...networks].sort(), aliases: [...spec.aliases].sort() });
  return fitName(`${spec.name}-${shortHash(identity)}`);
}

/**
 * Names the service answers to on every network it joins: its own name (when its Docker name differs), then
 * its aliases. Two generations of a create-first service carry the same names, so `<name>` and
 * `tasks.<name>` resolve to the tasks of both while they overlap.
 */
export function discoveryAliases(spec: ServiceSpec, dockerName: string): string[] {
  return dockerName === spec.name ? [...spec.aliases] : [spec.name, ...spec.aliases];
}
