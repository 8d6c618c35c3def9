/**
 * The provider's Diff, from the rule table: compare the program's inputs with the state the last create or
 * update left (../read.ts), field by field. The SDK treats a value left out and the type's zero value as equal
 * (hcl2shim.ValuesSDKEquivalent), applies schema defaults, keeps the state of an Optional+Computed field the
 * program leaves out, and compares a TypeSet without regard to order. Any changed field whose rule says
 * replace makes the step a replacement; otherwise it is an update in place.
 */
import { contractOf, FieldRule, OnChange, ResourceContract } from "./rules";

type Dict = Record<string, unknown>;

export interface FieldChange {
  readonly path: string;
  readonly onChange: OnChange;
  readonly from: unknown;
  readonly to: unknown;
}

/** Every leaf path of `value` (`[]` for list elements), the way the rule table names inputs. */
export function leafPaths(value: unknown, prefix = ""): string[] {
  if (Array.isArray(value)) {
    const paths = value.flatMap((v) => leafPaths(v, `${prefix}[]`));
    return paths.length > 0 ? [...new Set(paths)] : [prefix];
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Dict).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return [prefix];
    return [...new Set(entries.flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k)))];
  }
  return [prefix];
}

/** The rule that classifies an input path: an exact rule, or a `whole` rule above it. */
export function classify(contract: ResourceContract, path: string): FieldRule | undefined {
  return contract.rules.find(
    (rule) =>
      rule.path === path ||
      (rule.whole === true && (path.startsWith(`${rule.path}.`) || path.startsWith(`${rule.path}[]`))),
  );
}

/** Input paths of a resource that no rule of its type's contract classifies. */
export function unclassifiedInputs(type: string, inputs: Dict): string[] {
  const contract = contractOf(type);
  return leafPaths(inputs).filter((path) => path !== "" && !classify(contract, path));
}

const at = (value: unknown, path: string): unknown =>
  path
    .split(".")
    .reduce<unknown>((v, key) => (v !== null && typeof v === "object" ? (v as Dict)[key] : undefined), value);

const isZero = (v: unknown): boolean =>
  v === undefined ||
  v === null ||
  v === "" ||
  v === 0 ||
  v === false ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every(isZero));

/** A canonical text of a value: zero fields dropped, keys sorted, set elements sorted. */
function canonical(value: unknown, set: boolean): string {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v as Dict)
          .filter(([, x]) => !isZero(x))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, x]) => [k, walk(x)]),
      );
    }
    return v;
  };
  if (isZero(value)) return "";
  const normal = walk(value);
  if (set && Array.isArray(normal)) return JSON.stringify(normal.map((e) => JSON.stringify(e)).sort());
  return JSON.stringify(normal);
}

const pemText = (v: unknown) => (typeof v === "string" ? v.replace(/\r\n/g, "\n").trim() : v);

function changeOf(rule: FieldRule, config: Dict, state: Dict): FieldChange | undefined {
  let want = at(config, rule.path);
  if (want === undefined && rule.computed) return undefined;
  if (want === undefined) want = rule.default;
  let have = at(state, rule.path);
  if (have === undefined && rule.default !== undefined) have = rule.default;
  const [a, b] = rule.pem ? [pemText(want), pemText(have)] : [want, have];
  if (canonical(a, rule.set === true) === canonical(b, rule.set === true)) return undefined;
  return { path: rule.path, onChange: rule.onChange, from: have, to: want };
}

/** What the next `pulumi up` would do to a resource whose last applied state is `state`. */
export function diffInputs(type: string, config: Dict, state: Dict): FieldChange[] {
  const contract = contractOf(type);
  const unclassified = unclassifiedInputs(type, config);
  if (unclassified.length > 0) {
    throw new Error(
      `e2e harness: ${type} sets inputs the provider contract does not classify: ${unclassified.join(", ")}`,
    );
  }
  return contract.rules.flatMap((rule) => changeOf(rule, config, state) ?? []);
}
