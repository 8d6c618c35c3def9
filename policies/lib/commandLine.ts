/**
 * Secrets on a command line (`commands`, `args`, a health check): options that take a password
 * (`--requirepass x`, `--password=x`, `-p x`), `NAME=value` assignments, and arguments that are a key or a
 * URL with a password. Shell scripts (`sh -c "redis-server --requirepass x"`) are split into words first.
 * Pure; findings never contain the value.
 */
import { isReferenceValue, secretContentReason, secretNameToken } from "./secretPatterns";
import { secretEnvReason } from "./secretEnv";

export interface CommandLineFinding {
  /** Index of the argument (element of the list) that holds the secret. */
  readonly index: number;
  readonly reason: string;
}

interface Word {
  readonly text: string;
  readonly index: number;
  /** The argument is unknown here (computed during a preview): it is nothing and hides nothing. */
  readonly unknown?: boolean;
}

/** Values an option takes that are not secrets (`--auth-token-enabled true`). */
const PLAIN_VALUES: ReadonlySet<string> = new Set(["", "true", "false", "yes", "no", "on", "off", "none", "null"]);

/**
 * Shell words of one argument: split on unquoted whitespace outside `$(...)`, quotes removed. An argument
 * without spaces is one word; `sh -c "a --password x"` gives the script's words.
 */
export function shellWords(text: string): string[] {
  const found: string[] = [];
  let word = "";
  let started = false;
  let quote: string | undefined;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (/\s/.test(c) && depth === 0) {
      if (started) found.push(word);
      word = "";
      started = false;
    } else {
      if (c === "(" && text[i - 1] === "$") depth++;
      else if (c === ")" && depth > 0) depth--;
      word += c;
      started = true;
    }
  }
  if (started) found.push(word);
  return found;
}

function words(args: readonly (string | undefined)[]): Word[] {
  return args.flatMap((arg, index) =>
    arg === undefined ? [{ text: "", index, unknown: true }] : shellWords(arg).map((text) => ({ text, index })),
  );
}

function optionReason(option: string, name: string, value: string): string | undefined {
  if (PLAIN_VALUES.has(value.toLowerCase()) || isReferenceValue(value)) return undefined;
  // `-p` is MySQL's, Redis-cli's and many tools' password option; a port, a path or another option is not a password.
  if (option === "-p") return /^\d+$/.test(value) || value.includes(":") ? undefined : `"-p" takes a password inline`;
  const token = secretNameToken(name);
  return token ? `"${option}" takes a secret inline (its name contains ${token})` : undefined;
}

/** Every argument of `args` that carries a secret inline, with why (one finding per argument); `undefined` is unknown. */
export function commandLineSecrets(args: readonly (string | undefined)[]): CommandLineFinding[] {
  const found = new Map<number, string>();
  const note = (index: number, reason: string | undefined) => {
    if (reason !== undefined && !found.has(index)) found.set(index, reason);
  };
  args.forEach((arg, index) => {
    const content = arg === undefined ? undefined : secretContentReason(arg);
    if (content) note(index, content.replace(/^its value/, "it"));
  });
  const list = words(args);
  list.forEach((word, i) => {
    const withValue = /^(--?)([A-Za-z][A-Za-z0-9._-]*)=(.*)$/.exec(word.text);
    if (withValue) {
      note(word.index, optionReason(`${withValue[1]}${withValue[2]}`, withValue[2], withValue[3]));
      return;
    }
    const option = /^--?([A-Za-z][A-Za-z0-9._-]*)$/.exec(word.text);
    const next = list[i + 1];
    if (option && next !== undefined && !next.text.startsWith("-")) {
      if (!next.unknown) note(next.index, optionReason(word.text, option[1], next.text));
      return;
    }
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(word.text);
    if (assignment) {
      const reason = secretEnvReason(assignment[1], assignment[2]);
      if (reason) note(word.index, `${assignment[1]}= sets a secret inline (${reason})`);
    }
  });
  return [...found.entries()].sort(([a], [b]) => a - b).map(([index, reason]) => ({ index, reason }));
}
