/**
 * Credentials written into a plain config file: Redis `requirepass`/`masterauth` and inline ACL passwords
 * (`user x on >password`), HAProxy `userlist` users and `stats auth`, NATS `password:`/`token:`, Grafana
 * `admin_password =`, InfluxDB and Telegraf `token =`, Mosquitto bridge `remote_password`, Prometheus
 * `password:`/`bearer_token:`, and URLs with a password, in any of the `key value`, `key = value` and
 * `key: value` syntaxes. Settings that point at a file or a variable (`password_file`, `$__file{...}`,
 * `${TOKEN}`) pass. Pure; findings name the line and the setting, never the value.
 */
import { isReferenceValue, nameTokens } from "./secretPatterns";

export interface ConfigCredentialFinding {
  /** 1-based line number. */
  readonly line: number;
  /** What was found, e.g. `requirepass` or `user … insecure-password`. */
  readonly setting: string;
}

/** A key's last token that makes it a credential setting. */
const CREDENTIAL_LAST_TOKENS: ReadonlySet<string> = new Set([
  "PASSWORD",
  "PASSWD",
  "PASS",
  "PASSPHRASE",
  "SECRET",
  "TOKEN",
  "CREDENTIALS",
  "REQUIREPASS",
  "MASTERAUTH",
]);
/** Keys ending in KEY that name a secret key (a bare `key` in a config file is usually something else). */
const CREDENTIAL_KEY_SUFFIX = /(api|private|secret|access|signing|encryption)key$/;

/** Values that hold nothing: empty, a YAML/JSON/NATS block opener, a boolean, a number, null. */
const EMPTY_OR_PLAIN = /^(|""|''|\{|\[|\||>|~|null|true|false|yes|no|on|off|-?\d+(\.\d+)?)$/i;

export function isCredentialKey(key: string): boolean {
  const tokens = nameTokens(key);
  const last = tokens[tokens.length - 1];
  if (last === undefined) return false;
  return CREDENTIAL_LAST_TOKENS.has(last) || CREDENTIAL_KEY_SUFFIX.test(tokens.join("").toLowerCase());
}

function holdsSecret(rawValue: string): boolean {
  const value = rawValue
    .trim()
    .replace(/[,;]$/, "")
    .replace(/^(["'])(.*)\1$/, "$2")
    .trim();
  return !EMPTY_OR_PLAIN.test(value) && !isReferenceValue(value);
}

const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@'"]*:[^/\s@'"]+@/i;
/** `key: value` / `key = value` pairs anywhere on a line (NATS writes `{ user: a, password: b }` on one line). */
const PAIR = /(?:^|[\s{,;])"?([A-Za-z_][A-Za-z0-9_.-]*)"?\s*[:=]\s*("[^"]*"|'[^']*'|\$(?:__\w+)?\{[^}]*\}|[^\s,;}#]+)/g;
/** `key value` at the start of a line (Redis, Mosquitto). */
const SPACED = /^([A-Za-z_][A-Za-z0-9_.-]*)\s+([^\s=:]\S*)/;

function lineFindings(line: string): string[] {
  const found: string[] = [];
  const text = line.trim().replace(/^-\s+/, "");
  if (text === "" || /^(#|;|\/\/)/.test(text)) return found;
  if (URL_WITH_PASSWORD.test(text)) found.push("a URL with a password");
  const haproxyUser = /^user\s+\S+\s+(insecure-password|password)\s+\S+/.exec(text);
  if (haproxyUser) found.push(`user … ${haproxyUser[1]}`);
  else if (/^user\s+\S+(\s+\S+)*\s+>\S+/.test(text)) found.push("user … >password");
  if (/^stats\s+auth\s+[^\s:]+:\S+/.test(text)) found.push("stats auth user:password");
  const spaced = SPACED.exec(text);
  if (spaced && isCredentialKey(spaced[1]) && holdsSecret(spaced[2])) found.push(spaced[1]);
  for (const [, key, value] of text.matchAll(PAIR)) {
    if (isCredentialKey(key) && holdsSecret(value) && !found.includes(key)) found.push(key);
  }
  return found;
}

/** Every credential set inline in the config file `text`. */
export function configCredentialFindings(text: string): ConfigCredentialFinding[] {
  return text.split(/\r?\n/).flatMap((line, i) => lineFindings(line).map((setting) => ({ line: i + 1, setting })));
}
