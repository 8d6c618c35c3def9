/**
 * Reading resource properties the way CrossGuard hands them over.
 *
 * During `pulumi preview`, values computed by providers (a new network's id, a certificate's PEM) are
 * unknown. CrossGuard wraps `props` in a proxy that throws on reading an unknown value, which turns the
 * whole policy into an advisory "can't run during preview" note. The rules here must keep working with
 * unknowns (segmentation falls back to dependencies), so they read the proxy's plain target and treat
 * the engine's unknown sentinels explicitly: `UNKNOWN` is "cannot be told yet", `undefined` is "not set".
 */

/** The engine's sentinels for unknown values (boolean, number, string, array, asset, archive, object). */
const UNKNOWN_SENTINELS: ReadonlySet<string> = new Set([
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

/** The engine's sentinel for an unknown string: a value computed during the update (a preview cannot know it). */
export const UNKNOWN_STRING_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * What the offline checker puts where a `pulumi stack export` holds an encrypted secret (`ciphertext`). It is not
 * one of the engine's sentinels: an encrypted value is set and secret, not computed. Rules that only need the value
 * read it as `UNKNOWN`; rules that care whether a value is secret ask `secretAt` (lib/secrets.ts).
 */
export const ENCRYPTED_SECRET_SENTINEL = "[encrypted pulumi secret]";

/** A value that exists but cannot be known before the update (or is encrypted in a state file). */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;
/** `undefined`: not set. `UNKNOWN`: set, but not knowable here. */
export type Maybe<T> = T | Unknown | undefined;

/** An engine sentinel (computed during the update) or an encrypted secret: set, but its value cannot be read here. */
export function isUnknownValue(value: unknown): boolean {
  return typeof value === "string" && (UNKNOWN_SENTINELS.has(value) || value === ENCRYPTED_SECRET_SENTINEL);
}

/** The plain object behind CrossGuard's unknown-checking proxy (or the value itself when it is not proxied). */
export function plain<T>(value: T): T {
  if (
    value !== null &&
    typeof value === "object" &&
    (value as { __isSpecialProxy?: unknown }).__isSpecialProxy === true
  ) {
    return (value as unknown as { __getSpecialProxyTarget: T }).__getSpecialProxyTarget;
  }
  return value;
}

/** Reads `path` below `value`; `UNKNOWN` as soon as any step is unknown, `undefined` when any step is absent. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let current: unknown = plain(value);
  for (const key of path) {
    if (isUnknownValue(current)) return UNKNOWN;
    if (current === null || current === undefined || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  if (isUnknownValue(current)) return UNKNOWN;
  return current === null ? undefined : current;
}

export function str(value: unknown): Maybe<string> {
  if (value === UNKNOWN || isUnknownValue(value)) return UNKNOWN;
  return typeof value === "string" ? value : undefined;
}

export function num(value: unknown): Maybe<number> {
  if (value === UNKNOWN || isUnknownValue(value)) return UNKNOWN;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return undefined;
}

export function bool(value: unknown): Maybe<boolean> {
  if (value === UNKNOWN || isUnknownValue(value)) return UNKNOWN;
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}

/** The elements of a known array; `UNKNOWN` when the array itself is unknown, `[]` when absent. */
export function arr(value: unknown): unknown[] | Unknown {
  if (value === UNKNOWN || isUnknownValue(value)) return UNKNOWN;
  return Array.isArray(value) ? value : [];
}

/** Known strings of an array; unknown elements and an unknown array are dropped (callers that care use `arr`). */
export function strings(value: unknown): string[] {
  const items = arr(value);
  if (items === UNKNOWN) return [];
  return items.filter((v): v is string => typeof v === "string" && !isUnknownValue(v));
}

export function isKnown<T>(value: Maybe<T>): value is T {
  return value !== undefined && value !== UNKNOWN;
}

/** Docker labels as the docker provider models them: a list of `{ label, value }` (a plain map is accepted too). */
export function labelsOf(props: unknown): Map<string, string> {
  const labels = new Map<string, string>();
  const value = at(props, "labels");
  if (Array.isArray(value)) {
    for (const entry of value) {
      const key = str(at(entry, "label"));
      const val = str(at(entry, "value"));
      if (isKnown(key)) labels.set(key, isKnown(val) ? val : "");
    }
  } else if (value !== null && typeof value === "object") {
    for (const [key, val] of Object.entries(value as Record<string, unknown>)) {
      if (typeof val === "string" && !isUnknownValue(val)) labels.set(key, val);
    }
  }
  return labels;
}

/** `a, b ,c` -> ["a", "b", "c"], empty entries dropped. */
export function commaList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Decodes base64 text; `undefined` when the text is not base64. */
export function decodeBase64(text: string): string | undefined {
  const compact = text.replace(/\s+/g, "");
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, "base64").toString("utf8");
}

/** The resource name at the end of a URN (`...::iot-redis` -> `iot-redis`). */
export function urnName(urn: string): string {
  const parts = urn.split("::");
  return parts[parts.length - 1] ?? urn;
}
