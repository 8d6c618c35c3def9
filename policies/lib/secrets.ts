/**
 * Pulumi secrets in recorded resource properties: the one place that knows how the engine writes them.
 *
 * A secret is an object `{ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ... }` holding
 * - `value`: the value itself (the engine's gRPC wire format, what mocks and the analyzer receive);
 * - `plaintext`: the value as JSON text (`pulumi stack export --show-secrets`);
 * - `ciphertext`: the encrypted value (a default `pulumi stack export`).
 *
 * `unwrapSecrets` replaces each wrapper with its value; an encrypted value becomes `ENCRYPTED_SECRET_SENTINEL`, which is
 * not the engine's "unknown" (computed during a preview) but "secret, and unreadable here". An optional collector
 * receives the path of every secret it unwraps.
 *
 * The real analyzer never shows a rule the wrapper: `@pulumi/policy` (server.js, deserialize.js) unwraps secrets to
 * plain values before `validateResource` and `validateStack` run, so under `pulumi preview` a secret reads like any
 * other value and rules judge it by name and content. The offline checker keeps the paths it collected on the props
 * (`markSecretPaths`), and `secretAt` tells a rule that a value was a Pulumi secret in either export form.
 *
 * Pure: no Pulumi imports, no I/O, inputs are never modified (the program's tools may import it).
 */
import { ENCRYPTED_SECRET_SENTINEL, plain } from "./values";

export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** How a secret was written: in memory (`value`), `--show-secrets` (`plaintext`) or encrypted (`ciphertext`). */
export type SecretForm = "value" | "plaintext" | "ciphertext";

/** A property path: object keys and array indexes from the root (`["taskSpec", "containerSpec", "env", "X"]`). */
export type PropertyPath = readonly (string | number)[];

export interface FoundSecret {
  readonly path: PropertyPath;
  readonly form: SecretForm;
}

/**
 * Plain records and arrays are walked; anything else (Buffers, assets, class instances) is a leaf. A plain
 * record's prototype is some realm's `Object.prototype` (structuredClone and vm contexts make other realms').
 */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * `value` with every secret wrapper replaced by its value (`ENCRYPTED_SECRET_SENTINEL` when encrypted).
 * `onSecret` is called once per outermost secret, with its path and form; secrets nested inside a secret are
 * part of it and not reported again.
 */
export function unwrapSecrets(value: unknown, onSecret?: (found: FoundSecret) => void): unknown {
  return unwrap(value, [], onSecret);
}

function unwrap(value: unknown, path: (string | number)[], onSecret?: (found: FoundSecret) => void): unknown {
  if (Array.isArray(value)) return value.map((item, i) => unwrap(item, [...path, i], onSecret));
  if (!isPlainObject(value)) return value;
  if (value[SECRET_SIG_KEY] === SECRET_SIG) {
    const [form, inner] = secretContent(value);
    onSecret?.({ path, form });
    return unwrap(inner, path);
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v, [...path, k], onSecret)]));
}

function secretContent(wrapper: Record<string, unknown>): [SecretForm, unknown] {
  if ("value" in wrapper) return ["value", wrapper.value];
  if (typeof wrapper.plaintext === "string") {
    try {
      return ["plaintext", JSON.parse(wrapper.plaintext)];
    } catch {
      // The engine always writes JSON; a hand-written export may hold the bare string.
      return ["plaintext", wrapper.plaintext];
    }
  }
  return ["ciphertext", ENCRYPTED_SECRET_SENTINEL];
}

/**
 * `value` with the values at `paths` wrapped as secrets (what the engine records for a program's secret inputs).
 * `wrap` builds each wrapper; `secretWrapper` gives the engine's three forms. Paths that do not exist are ignored.
 */
export function wrapSecretPaths(
  value: unknown,
  paths: readonly PropertyPath[],
  wrap: (plainValue: unknown, path: PropertyPath) => unknown,
): unknown {
  let result = structuredClone(value);
  // Outermost first, so a path inside an already wrapped value is not wrapped twice.
  const sorted = [...paths].sort((a, b) => a.length - b.length);
  const wrapped: PropertyPath[] = [];
  for (const path of sorted) {
    if (wrapped.some((w) => isPrefix(w, path))) continue;
    if (path.length === 0) {
      result = wrap(result, path);
      wrapped.push(path);
      continue;
    }
    const parent = path.slice(0, -1).reduce<unknown>((node, key) => childOf(node, key), result);
    const last = path[path.length - 1];
    if (parent === null || typeof parent !== "object" || !(last in parent)) continue;
    (parent as Record<string | number, unknown>)[last] = wrap((parent as Record<string | number, unknown>)[last], path);
    wrapped.push(path);
  }
  return result;
}

function childOf(node: unknown, key: string | number): unknown {
  return node !== null && typeof node === "object" ? (node as Record<string | number, unknown>)[key] : undefined;
}

/** A secret wrapper in one of the engine's forms; `ciphertext` stands in for what the stack's secrets provider writes. */
export function secretWrapper(plainValue: unknown, form: SecretForm, ciphertext = "v1:AAAAAAAAAAAAAAAA:AAAA"): unknown {
  switch (form) {
    case "value":
      return { [SECRET_SIG_KEY]: SECRET_SIG, value: plainValue };
    case "plaintext":
      return { [SECRET_SIG_KEY]: SECRET_SIG, plaintext: JSON.stringify(plainValue) };
    case "ciphertext":
      return { [SECRET_SIG_KEY]: SECRET_SIG, ciphertext };
  }
}

const SIMPLE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `["a", "b", 0, "c.d"]` -> `a.b[0]["c.d"]` (keys that are not simple names are quoted). */
export function formatPropertyPath(path: PropertyPath): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else if (SIMPLE_KEY.test(key)) text += text === "" ? key : `.${key}`;
    else text += `[${JSON.stringify(key)}]`;
  }
  return text;
}

/** The inverse of `formatPropertyPath`; throws on text it did not produce. */
export function parsePropertyPath(text: string): PropertyPath {
  const path: (string | number)[] = [];
  // A name (after a dot unless first), an index, or a quoted key.
  const token = /(^|\.)([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  let at = 0;
  while (at < text.length) {
    token.lastIndex = at;
    const match = token.exec(text);
    if (!match || (match[2] !== undefined && (match[1] === "") !== (at === 0))) {
      throw new Error(`not a property path: ${JSON.stringify(text)} (at ${at})`);
    }
    if (match[2] !== undefined) path.push(match[2]);
    else if (match[3] !== undefined) path.push(Number(match[3]));
    else path.push(JSON.parse(match[4]) as string);
    at = token.lastIndex;
  }
  return path;
}

const SECRET_PATHS = Symbol("iot.secretPaths");

/**
 * Records on `props` (a fresh object from `unwrapSecrets`) which paths held secrets, so rules can ask `secretAt`.
 * The record is a non-enumerable symbol property: it is invisible to `Object.entries`, spread and JSON.
 */
export function markSecretPaths<T extends object>(props: T, paths: readonly PropertyPath[]): T {
  Object.defineProperty(props, SECRET_PATHS, { value: paths.map((p) => [...p]), enumerable: false });
  return props;
}

/**
 * Whether the value at `path` below `props` is, or lies inside, a Pulumi secret: `"encrypted"` when the export
 * held it encrypted, `"plaintext"` when its value is known, `undefined` when it is not a secret or nobody can tell
 * (the real analyzer unwraps secrets before rules run).
 */
export function secretAt(props: unknown, path: PropertyPath): "encrypted" | "plaintext" | undefined {
  let node: unknown = plain(props);
  const marked = (isPlainObjectLike(node) && (node as { [SECRET_PATHS]?: PropertyPath[] })[SECRET_PATHS]) || [];
  const isMarked = marked.some((p) => isPrefix(p, path));
  for (const key of path) {
    if (node === ENCRYPTED_SECRET_SENTINEL) return "encrypted";
    node = childOf(node, key);
  }
  if (node === ENCRYPTED_SECRET_SENTINEL) return "encrypted";
  return isMarked ? "plaintext" : undefined;
}

function isPlainObjectLike(value: unknown): value is object {
  return value !== null && typeof value === "object";
}

function isPrefix(prefix: PropertyPath, path: PropertyPath): boolean {
  return prefix.length <= path.length && prefix.every((key, i) => key === path[i]);
}
