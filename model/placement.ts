/**
 * Where tasks may run. A service that keeps state in a named volume keeps it on one node's disk: Swarm
 * must never start it anywhere else, or it starts on an empty volume. So every such service is pinned
 * to one node, either the node its config names (`services.<name>.stateNode`, a hostname) or the node
 * that carries the state label, which exactly one node of the swarm may carry.
 */

/** The node label that marks the node holding the stack's node-local state; exactly one node carries it. */
export const STATE_NODE_LABEL = "iot.state";

const ONE_NODE = /^\s*node\.(hostname|id|labels\.(\S+?))\s*==\s*(\S+)\s*$/;

/** Whether a placement constraint names one node: by hostname, by id, or by the state label. */
export function pinsToOneNode(constraint: string): boolean {
  const match = ONE_NODE.exec(constraint);
  return match !== null && (match[2] === undefined || match[2] === STATE_NODE_LABEL);
}

/** The constraint that pins a stateful service: its named node, else the node with the state label. */
export function statePin(stateNode: string | undefined): string {
  return stateNode !== undefined ? `node.hostname == ${stateNode}` : `node.labels.${STATE_NODE_LABEL} == true`;
}

/**
 * A service's constraints: the configured ones, plus the pin when it keeps state in a volume and none of the
 * configured constraints pins it already (two different pins could match no node at all).
 */
export function placementWithPin(
  configured: readonly string[],
  volumes: readonly unknown[],
  stateNode: string | undefined,
): string[] {
  if (volumes.length === 0 || (stateNode === undefined && configured.some(pinsToOneNode))) return [...configured];
  const pin = statePin(stateNode);
  return configured.includes(pin) ? [...configured] : [...configured, pin];
}

/** What the swarm's nodes must offer for one constraint, and how an operator provides it. */
export interface NodeRequirement {
  readonly constraint: string;
  readonly services: readonly string[];
  /** The most tasks of these services that one such node must hold at once. */
  readonly tasks: number;
  readonly howTo: string;
}

interface PlacedService {
  readonly name: string;
  readonly placement: readonly string[];
  readonly replicas: number;
}

/** Every distinct constraint of the stack with the services that need it, for `npm run plan` and the docs. */
export function nodeRequirements(services: readonly PlacedService[]): NodeRequirement[] {
  const byConstraint = new Map<string, PlacedService[]>();
  for (const s of services) for (const c of s.placement) byConstraint.set(c, [...(byConstraint.get(c) ?? []), s]);
  return [...byConstraint]
    .map(([constraint, placed]) => ({
      constraint,
      services: placed.map((s) => s.name),
      tasks: placed.reduce((sum, s) => sum + s.replicas, 0),
      howTo: howTo(constraint),
    }))
    .sort((a, b) => a.constraint.localeCompare(b.constraint));
}

function howTo(constraint: string): string {
  const label = /^\s*node\.labels\.(\S+?)\s*==\s*(\S+)\s*$/.exec(constraint);
  if (label) {
    const once = label[1] === STATE_NODE_LABEL ? " (one node only)" : "";
    return `docker node update --label-add ${label[1]}=${label[2]} <node>${once}`;
  }
  const role = /^\s*node\.role\s*(==|!=)\s*(\S+)\s*$/.exec(constraint);
  if (role) return role[1] === "==" ? `nodes joined as ${role[2]}s` : `nodes other than ${role[2]}s`;
  const host = /^\s*node\.hostname\s*==\s*(\S+)\s*$/.exec(constraint);
  if (host) return `a node whose hostname is ${host[1]}`;
  return "a node that meets it";
}
