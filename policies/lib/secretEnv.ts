/**
 * The environment-secret rule, in one place: the pack's `disallow-secrets-in-env` applies it to the resources a
 * stack declares, and the program applies it to stack config before any resource exists (model/validateServices.ts).
 * Pure: no Pulumi imports, no I/O, and no import but ./secretPatterns, so the program compiles with the pack's
 * dependencies absent (tests/contracts/envSecrets.test.ts checks this).
 */
import { isReferenceValue, secretContentReason, secretNameToken } from "./secretPatterns";

/**
 * Why the environment variable `name=value` carries a secret inline, or `undefined` when it does not.
 *
 * - By content: a private key, a URL with a password, a `password=` setting, a known token format or a random
 *   token, whatever the name.
 * - By name: a token such as PASSWORD, SECRET, TOKEN or KEY, unless the name or the value points at the secret
 *   instead of holding it (`*_FILE`, `*__FILE`, `*_PATH`, `*_DIR`; `/run/secrets/...` or another absolute path).
 * - An empty value holds nothing.
 *
 * The reason never contains the value.
 */
export function secretEnvReason(name: string, value: string): string | undefined {
  if (value.length === 0) return undefined;
  const content = secretContentReason(value);
  if (content) return content;
  if (isReferenceValue(value)) return undefined;
  const token = secretNameToken(name);
  return token ? `its name contains ${token}` : undefined;
}
