/**
 * Names the program generates for Docker objects, in one place. Swarm accepts network and service names of
 * at most 63 characters that are valid DNS name components (letters, digits, `-` and `_`, starting and ending
 * with a letter or digit); configs and secrets allow 64 characters of `[a-zA-Z0-9-_.]`. A name that would be
 * longer keeps a readable prefix and ends in a hash of the full name, so two different names never meet.
 */
import { createHash } from "crypto";

/** Longest network or service name Swarm accepts. */
export const MAX_SWARM_NAME = 63;
/** Longest config or secret name Swarm accepts. */
export const MAX_SWARM_OBJECT_NAME = 64;
/** Hex digits of content hash a config or secret name ends in. */
export const OBJECT_HASH_LENGTH = 12;

/** Short stable hash of a text (hex). */
export function shortHash(text: string, length = 8): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * `name` when it fits in `max` characters; otherwise its first characters, a hyphen and a hash of the whole
 * name. Trailing separators are trimmed from the prefix so the result ends in an alphanumeric character.
 */
export function fitName(name: string, max = MAX_SWARM_NAME): string {
  if (name.length <= max) return name;
  const hash = shortHash(name);
  const prefix = name.slice(0, max - hash.length - 1).replace(/[-_.]+$/, "");
  return `${prefix}-${hash}`;
}

/** The overlay network of a tier when the stack config names none. */
export function tierNetworkName(tier: string): string {
  return fitName(`iot-${tier}-network`);
}

/**
 * The two-member network that carries the declared flows between two services sharing no tier. The pair is
 * unordered; `_` cannot occur in a service name, so no two pairs share a name.
 */
export function linkNetworkName(a: string, b: string): string {
  const [first, second] = [a, b].sort();
  return fitName(`iot-link-${first}_${second}`);
}

/** The one-member network through which a service publishes ports or reaches outside the swarm. */
export function egressNetworkName(service: string): string {
  return fitName(`iot-${service}-egress`);
}

/**
 * The Swarm config or secret holding one of a service's files: `<service>-<file, sanitised>-<content hash>`.
 * Its length depends only on the two names, so validation rejects a name that would make it too long.
 */
export function swarmObjectName(service: string, file: string, hash: string): string {
  return `${service}-${file.replace(/[^a-zA-Z0-9-]/g, "-")}-${hash}`;
}
