/**
 * Swarm placement constraint syntax, as swarmkit parses it: `<attribute> ==|!= <value>`. Swarm accepts any
 * key and silently matches no node for one it does not know, so a typo leaves a service pending forever;
 * here only the attributes Swarm defines are accepted.
 */

/** Attributes Swarm matches on; `node.labels.` and `engine.labels.` take a label key after them. */
const ATTRIBUTES = ["node.id", "node.hostname", "node.role", "node.platform.os", "node.platform.arch"];
const LABEL_PREFIXES = ["node.labels.", "engine.labels."];
const CONSTRAINT = /^\s*([^=!\s]+)\s*(==|!=)\s*(.*?)\s*$/;
/** swarmkit's patterns for a constraint's key and value. */
const KEY = /^[a-z_][a-z0-9\-_.]+$/i;
const VALUE = /^[a-z0-9:\-_\s.*()?+[\]\\^$|/]+$/i;
const ROLES = ["manager", "worker"];

/** Why a constraint is not valid Swarm syntax, or undefined when it is. */
export function constraintProblem(text: string): string | undefined {
  const match = CONSTRAINT.exec(text);
  if (!match) return `must read "<attribute> == <value>" or "<attribute> != <value>", but "${text}" was provided`;
  const [, attribute, , value] = match;
  const prefix = LABEL_PREFIXES.find((p) => attribute.startsWith(p));
  if (!KEY.test(attribute) || (prefix ? attribute.length === prefix.length : !ATTRIBUTES.includes(attribute))) {
    return (
      `unknown attribute "${attribute}"; Swarm matches ${ATTRIBUTES.join(", ")}, ` +
      `${LABEL_PREFIXES.map((p) => `${p}<key>`).join(" and ")}`
    );
  }
  if (!VALUE.test(value)) return `"${value}" is not a valid constraint value for ${attribute}`;
  if (attribute === "node.role" && !ROLES.includes(value.toLowerCase())) {
    return `node.role is "manager" or "worker", but "${value}" was provided`;
  }
  return undefined;
}
