/**
 * What a secret looks like by name and by content. Shared by the rules on environment variables, command lines
 * and config files. Pure: no imports, so the program can use it through secretEnv.ts.
 *
 * Messages built from these reasons never include the value itself.
 */

/** Name tokens that say the value is a credential (names are split on anything but letters and digits). */
const SECRET_NAME_TOKENS: ReadonlySet<string> = new Set([
  "PASSWORD",
  "PASSWD",
  "PASS",
  "PASSPHRASE",
  "SECRET",
  "SECRETS",
  "TOKEN",
  "KEY",
  "APIKEY",
  "PRIVATEKEY",
  "CREDENTIAL",
  "CREDENTIALS",
  // Redis spells its password options this way (`--requirepass`, `masterauth`).
  "REQUIREPASS",
  "MASTERAUTH",
]);

/** A last token that makes the name describe the secret rather than hold it (`TOKEN_TTL`, `AWS_ACCESS_KEY_ID`). */
const DESCRIPTIVE_LAST_TOKENS: ReadonlySet<string> = new Set([
  "ID",
  "NAME",
  "USER",
  "USERNAME",
  "URL",
  "URI",
  "HOST",
  "PORT",
  "TTL",
  "LENGTH",
  "ALGORITHM",
  "AUDIENCE",
  "ISSUER",
  "HEADER",
  "ENABLED",
  "TYPE",
  "SIZE",
  "BITS",
]);

/** Qualifiers that make KEY a non-secret key (`SSH_PUBLIC_KEY`, `CACHE_KEY`). */
const NON_SECRET_KEY_QUALIFIERS: ReadonlySet<string> = new Set(["PUBLIC", "CACHE", "SORT", "PARTITION", "ROUTING"]);

/** Names that point at the secret instead of holding it: `X_FILE`, `X__FILE` (Grafana), `X_PATH`, `X_DIR`. */
const REFERENCE_NAME = /(^|[^A-Za-z0-9])(FILE|PATH|DIR)$/i;

export function nameTokens(name: string): string[] {
  return name
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
}

/** Words that mark a credential even at the end of a longer token (`PGPASSWORD`, `CSRFTOKEN`, `XAPIKEY`). */
const SECRET_WORD_SUFFIX = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|APIKEY|PRIVATEKEY)$/;

/** The token of `name` that marks it as holding a credential, or `undefined`. */
export function secretNameToken(name: string): string | undefined {
  if (REFERENCE_NAME.test(name)) return undefined;
  const tokens = nameTokens(name);
  if (tokens.length === 0 || DESCRIPTIVE_LAST_TOKENS.has(tokens[tokens.length - 1])) return undefined;
  const isKeyOfAnotherKind = (i: number) => tokens.slice(0, i).some((q) => NON_SECRET_KEY_QUALIFIERS.has(q));
  return tokens.find(
    (t, i) => (SECRET_NAME_TOKENS.has(t) && !(t === "KEY" && isKeyOfAnotherKind(i))) || SECRET_WORD_SUFFIX.test(t),
  );
}

/**
 * Values that point at a secret instead of holding it: a file (`/run/secrets/x`, any absolute path), a variable
 * the shell or the application expands (`$X`, `${X}`, `$(cat ...)`, Grafana's `$__file{...}`), a template.
 */
export function isReferenceValue(value: string): boolean {
  const v = value.trim();
  return (
    /^\/[^\s;,]*$/.test(v) ||
    /^\.{1,2}\/\S*$/.test(v) ||
    /^\$(\{[^}]*\}|\([^)]*\)|[A-Za-z_][A-Za-z0-9_]*)$/.test(v) ||
    /^\$__(file|env|vault)\{[^}]*\}$/.test(v) ||
    /^\{\{.*\}\}$/.test(v) ||
    /^%\([^)]*\)s?$/.test(v)
  );
}

const PRIVATE_KEY_PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i;
const PASSWORD_SETTING =
  /(^|[;&?\s])(password|passwd|pwd|pass|secret|token|api[_-]?key|access[_-]?key|sharedaccesskey)=[^;&\s]+/i;

/** Token formats whose prefix names their issuer. */
const KNOWN_TOKENS: readonly { readonly pattern: RegExp; readonly kind: string }[] = [
  { pattern: /^(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}$|^github_pat_[A-Za-z0-9_]{50,}$/, kind: "a GitHub token" },
  { pattern: /^glpat-[A-Za-z0-9_-]{20,}$/, kind: "a GitLab token" },
  { pattern: /^xox[abprs]-[A-Za-z0-9-]{10,}$/, kind: "a Slack token" },
  { pattern: /^(AKIA|ASIA)[A-Z0-9]{16}$/, kind: "an AWS access key" },
  { pattern: /^(sk|rk)_live_[A-Za-z0-9]{20,}$/, kind: "a Stripe key" },
  { pattern: /^AIza[A-Za-z0-9_-]{35}$/, kind: "a Google API key" },
  { pattern: /^npm_[A-Za-z0-9]{36}$/, kind: "an npm token" },
  { pattern: /^eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*$/, kind: "a JSON Web Token" },
];

/** Bits per character of `text` (Shannon entropy of its character frequencies). */
export function entropyPerChar(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * A long run of base64/base62 characters mixing upper case, lower case and digits at near-random entropy.
 * Hex (commit ids, digests), UUIDs, host names, paths and words fall short of one of the conditions.
 */
export function looksLikeRandomToken(value: string): boolean {
  const v = value.trim();
  return (
    v.length >= 32 &&
    /^[A-Za-z0-9+/=_.~-]+$/.test(v) &&
    /[A-Z]/.test(v) &&
    /[a-z]/.test(v) &&
    /[0-9]/.test(v) &&
    entropyPerChar(v) >= 4.5
  );
}

/** Why `value` looks like a credential by its content alone, or `undefined`. */
export function secretContentReason(value: string): string | undefined {
  if (PRIVATE_KEY_PEM.test(value)) return "its value is a private key";
  if (URL_WITH_PASSWORD.test(value)) return "its value is a URL with a password";
  if (PASSWORD_SETTING.test(value)) return "its value holds a password setting";
  const known = KNOWN_TOKENS.find((t) => t.pattern.test(value.trim()));
  if (known) return `its value looks like ${known.kind}`;
  if (looksLikeRandomToken(value)) return "its value looks like a random token";
  return undefined;
}
