/**
 * What a service's file is: a template delivered as a Swarm config or secret. Contents that only exist
 * at deploy time (certificates, keys, generated passwords) appear as `{{placeholders}}` resolved by the
 * components: `{{ca.cert}}`, `{{cert.<leaf>}}`, `{{key.<leaf>}}`, `{{password.<id>}}`, `{{expiry.<leaf>}}`.
 * A file holding any key or password is a secret; everything else is a config.
 */

export type FileKind = "config" | "secret";

export interface FileSpec {
  /** Unique within the service; part of the Swarm object name. */
  readonly name: string;
  readonly target: string;
  readonly mode: number;
  readonly kind: FileKind;
  readonly template: string;
}

export interface ServiceFiles {
  readonly files: readonly FileSpec[];
  /** Environment pointing at files (`*_FILE`), merged over the service's plain env. */
  readonly env: Readonly<Record<string, string>>;
}

export const NO_FILES: ServiceFiles = { files: [], env: {} };

const PLACEHOLDER = /\{\{\s*(ca|cert|key|password|expiry)(?:\.([a-z0-9-]+))?\s*\}\}/g;
const SECRET_REFS = new Set(["key", "password"]);

export interface Placeholder {
  /** `expiry.<leaf>` is the certificate's end of validity in Unix seconds. */
  readonly kind: "ca" | "cert" | "key" | "password" | "expiry";
  readonly name: string;
}

export function placeholders(template: string): Placeholder[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => ({ kind: m[1] as Placeholder["kind"], name: m[2] ?? "" }));
}

/**
 * Replaces each placeholder with `value(index)`, in the order `placeholders` lists them. Other
 * `{{ }}` text (Prometheus and Grafana templates) is left alone.
 */
export function fillPlaceholders(template: string, value: (index: number) => string): string {
  let i = 0;
  return template.replace(PLACEHOLDER, () => value(i++));
}

/** A template holding a key or password must travel as a Docker secret. */
export function requiresSecret(template: string): boolean {
  return placeholders(template).some((p) => SECRET_REFS.has(p.kind));
}

/** A world-readable config file. */
export const configFile = (name: string, target: string, template: string): FileSpec => ({
  name,
  target,
  mode: 0o444,
  kind: "config",
  template,
});

/** An owner-only secret file (keys, passwords). */
export const secretFile = (name: string, target: string, template: string): FileSpec => ({
  name,
  target,
  mode: 0o400,
  kind: "secret",
  template,
});

/** Secrets are mounted where Docker puts them by default. */
export const secretPath = (name: string) => `/run/secrets/${name}`;
