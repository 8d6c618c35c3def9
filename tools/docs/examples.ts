/**
 * Worked examples the docs show, produced by calling the real validation on changed copies of a
 * reference stack's config, so an example cannot drift from the code it describes.
 */
import { stringify } from "yaml";
import { CONFIG_NAMESPACE } from "../../model/config";
import { ReferenceStack, stackModel, StackModel } from "./model";

export interface ConfigExample {
  /** The changed keys, as they would be written in `Pulumi.<stack>.yaml`. */
  readonly yaml: string;
  /** What resolving the changed config reports: the error message, or the resolved model. */
  readonly error?: string;
  readonly model?: StackModel;
}

/** Resolves `base` with `changes` applied (top-level keys replaced) and captures the outcome. */
export function tryConfig(base: StackModel, changes: Readonly<Record<string, unknown>>): ConfigExample {
  const raw: Record<string, string> = { ...base.raw };
  for (const [key, value] of Object.entries(changes)) raw[key] = typeof value === "string" ? value : JSON.stringify(value);
  const yaml = stringify({ config: Object.fromEntries(Object.entries(changes).map(([k, v]) => [`${CONFIG_NAMESPACE}:${k}`, v])) }).trimEnd();
  try {
    return { yaml, model: stackModel(base.stack as ReferenceStack, raw) };
  } catch (e) {
    return { yaml, error: (e as Error).message };
  }
}
