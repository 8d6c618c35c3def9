/**
 * The evaluated reference stacks in the two forms `pulumi stack export` writes: by default every secret is
 * `{ <sig>, ciphertext }`; with `--show-secrets` it is `{ <sig>, plaintext: <JSON text> }`. The program's secret
 * inputs are the paths tools/evaluate.ts records in `secretInputs`; the engine keeps the same paths of the
 * outputs secret too. Each document goes through JSON and the checker's own reader, as a file would.
 */
import { createHash } from "crypto";
import { parsePropertyPath, secretWrapper, wrapSecretPaths } from "../../policies/lib/secrets";
import { parseStackExport, StackResource, toStackExport } from "../../policies/offline/resources";
import { RecordedResource } from "../../tools/evaluate";
import { fromEvaluation } from "../../tools/policyCheck";

export type ExportForm = "ciphertext" | "plaintext";
export const EXPORT_FORMS: readonly ExportForm[] = ["ciphertext", "plaintext"];

/** Ciphertext in the shape the passphrase provider writes; its content only has to be stable and opaque. */
const ciphertextOf = (urn: string, path: string) =>
  `v1:${createHash("sha256").update(`${urn}#${path}`).digest("base64").slice(0, 16)}:${"A".repeat(24)}`;

/** A wrapper for `value` in `form`, as the export holds it. */
export const secretIn = (form: ExportForm | "value", value: unknown, label = "mutation") =>
  secretWrapper(value, form, ciphertextOf(label, JSON.stringify(value)));

/** Outputs the providers' schemas mark secret, which the engine stores encrypted whatever the program did. */
const SECRET_OUTPUTS: Readonly<Record<string, readonly string[]>> = {
  "tls:index/privateKey:PrivateKey": ["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"],
  "random:index/randomPassword:RandomPassword": ["result", "bcryptHash"],
};

export function asStackExport(recorded: readonly RecordedResource[], form: ExportForm): StackResource[] {
  const secretPaths = new Map(recorded.map((r) => [r.urn, r.secretInputs]));
  const resources = fromEvaluation(recorded).map((r) => {
    const paths = (secretPaths.get(r.urn) ?? []).map(parsePropertyPath);
    const outputPaths = [...paths, ...(SECRET_OUTPUTS[r.type] ?? []).map((key) => [key])];
    const wrap = (value: unknown, path: readonly (string | number)[]) =>
      secretWrapper(value, form, ciphertextOf(r.urn, path.join(".")));
    return {
      ...r,
      inputs: wrapSecretPaths(r.inputs, paths, wrap) as Record<string, unknown>,
      outputs: wrapSecretPaths(r.outputs, outputPaths, wrap) as Record<string, unknown>,
    };
  });
  return parseStackExport(JSON.stringify(toStackExport(resources)), `${form}-export.json`);
}
