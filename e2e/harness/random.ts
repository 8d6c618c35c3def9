/**
 * Test stand-in for the Pulumi `random` provider: realises RandomPassword in-process with
 * Node's CSPRNG, honouring the provider's character-class inputs and minimums, so passwords
 * the program hands to Redis, NATS, InfluxDB and Grafana are real secrets of the shape asked for.
 */
import * as crypto from "node:crypto";

/** Resource tokens this module realises. */
export const RANDOM_TYPES = ["random:index/randomPassword:RandomPassword"] as const;

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NUMERIC = "0123456789";
/** The provider's default special characters. */
const SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

function pick(alphabet: string, n: number): string[] {
  return Array.from({ length: n }, () => alphabet[crypto.randomInt(alphabet.length)]);
}

/** A password as the provider builds it: minimums per class first, the rest from all enabled classes, shuffled. */
export function randomPassword(inputs: Record<string, any>): Record<string, unknown> {
  const length = Number(inputs.length);
  if (!Number.isInteger(length) || length < 1)
    throw new Error(`e2e harness: RandomPassword length must be a positive integer, got ${inputs.length}`);
  const on = (v: unknown) => v === undefined || v === null || Boolean(v);
  const numeric = on(inputs.numeric) && on(inputs.number);
  const classes = [
    { on: on(inputs.lower), chars: LOWER, min: Number(inputs.minLower ?? 0) },
    { on: on(inputs.upper), chars: UPPER, min: Number(inputs.minUpper ?? 0) },
    { on: numeric, chars: NUMERIC, min: Number(inputs.minNumeric ?? 0) },
    { on: on(inputs.special), chars: inputs.overrideSpecial ?? SPECIAL, min: Number(inputs.minSpecial ?? 0) },
  ].filter((c) => c.on && c.chars.length > 0);
  if (classes.length === 0) throw new Error("e2e harness: RandomPassword with every character class disabled");
  const chars = classes.flatMap((c) => pick(c.chars, c.min));
  if (chars.length > length)
    throw new Error(`e2e harness: RandomPassword minimums (${chars.length}) exceed length ${length}`);
  chars.push(...pick(classes.map((c) => c.chars).join(""), length - chars.length));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = crypto.randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  const result = chars.join("");
  return {
    ...inputs,
    length,
    lower: on(inputs.lower),
    upper: on(inputs.upper),
    numeric,
    number: numeric,
    special: on(inputs.special),
    minLower: Number(inputs.minLower ?? 0),
    minUpper: Number(inputs.minUpper ?? 0),
    minNumeric: Number(inputs.minNumeric ?? 0),
    minSpecial: Number(inputs.minSpecial ?? 0),
    result,
    // A bcrypt hash needs a bcrypt implementation; nothing in the program reads it.
    bcryptHash: "",
  };
}

export async function realiseRandom(type: string, inputs: Record<string, any>): Promise<Record<string, unknown>> {
  switch (type) {
    case "random:index/randomPassword:RandomPassword":
      return randomPassword(inputs);
    default:
      throw new Error(`e2e harness: unsupported random resource type ${type}`);
  }
}
