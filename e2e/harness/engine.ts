/**
 * The Pulumi engine's part of an update, for the harness: a state that outlives one program run, and for each
 * registration the step `pulumi up` would take (pulumi/pulumi pkg/resource/deploy/step_generator.go):
 *
 * - no state -> create; a diff with no change and the same replacementTrigger -> same (the recorded outputs
 *   are returned, as the engine does; nothing is read);
 * - changes that all update in place -> update; any change a rule says replaces, or a new replacementTrigger
 *   -> replace, delete-first when the resource options say so (`deleteBeforeReplace`) or else when the bridge
 *   does (an explicitly named docker resource, pkg/tfbridge/schema.go nameRequiresDeleteBeforeReplace),
 *   create-first otherwise;
 * - delete-first: the dependents whose own diff would replace them once the dependency's outputs are unknown
 *   go first (calculateDependentReplacements); a docker service references networks, configs and secrets
 *   inside `taskSpec`, which is not ForceNew, so it never does, and Docker then refuses the delete;
 * - create-first: the original is deleted after the program's last registration, with every resource the
 *   program no longer registers, dependents before what they depend on (deployment_executor.go performDeletes).
 */
import { diffInputs, FieldChange } from "./contract/diff";
import { contractOf } from "./contract/rules";
import type { Registration } from "../../tools/runtimeHooks";

type Dict = Record<string, any>;

export type StepOp = "same" | "create" | "update" | "replace" | "delete";

export interface Step {
  readonly op: StepOp;
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** For a replacement: which of the two existed first. */
  readonly order?: "create-first" | "delete-first";
  /** The fields that changed (with the replacementTrigger as `(replacementTrigger)`). */
  readonly changes?: readonly string[];
  /**
   * For a delete-first replacement: seconds from the original's delete until its successor was created (for a
   * service, converged), the time nothing of it existed.
   */
  readonly gapSeconds?: number;
}

export interface StateEntry {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly id?: string;
  readonly inputs: Dict;
  /** The provider's state after the last create or update. */
  readonly outputs: Dict;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly replacementTrigger?: unknown;
}

/** What the engine asks of a provider. */
export interface ProviderPort {
  create(type: string, name: string, inputs: Dict): Promise<{ id: string; state: Dict }>;
  update(entry: StateEntry, inputs: Dict): Promise<Dict>;
  delete(entry: StateEntry): Promise<void>;
  /** Changes beyond the inputs (a certificate inside its renewal window). */
  extraChanges?(entry: StateEntry, inputs: Dict): FieldChange[];
  /** The live state, for a refresh; `undefined` when the object is gone. */
  read?(entry: StateEntry): Promise<Dict | undefined>;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

const brief = (v: unknown) => {
  const text = JSON.stringify(v) ?? "undefined";
  return text.length > 160 ? `${text.slice(0, 160)}...` : text;
};

/** The fields that changed, as a failed step names them. */
function describeChanges(changes: readonly FieldChange[], triggered: boolean): string {
  const fields = changes.map((c) => `${c.path} ${brief(c.from)} -> ${brief(c.to)}`);
  return [...fields, ...(triggered ? ["replacementTrigger"] : [])].join("; ") || "no field";
}

export class DeployEngine {
  /** The stack's state: what the last update left. */
  readonly state = new Map<string, StateEntry>();
  steps: Step[] = [];
  private registered = new Set<string>();
  private pendingDeletes: StateEntry[] = [];
  /** Deleted ahead of a delete-first replacement of something they depend on; their create counts as replace. */
  private deletedEarly = new Set<string>();

  constructor(private readonly providerFor: (type: string) => ProviderPort) {}

  /** Starts an update; with `refresh`, reads every resource back first (`pulumi up --refresh`). */
  async begin(opts: { refresh?: boolean } = {}): Promise<void> {
    this.steps = [];
    this.registered = new Set();
    this.pendingDeletes = [];
    this.deletedEarly = new Set();
    if (!opts.refresh) return;
    for (const entry of [...this.state.values()]) {
      const provider = entry.custom ? this.providerFor(entry.type) : undefined;
      // tls and random keep everything in state; their Read changes nothing here.
      if (!provider?.read) continue;
      const read = await provider.read(entry);
      if (read === undefined) this.state.delete(entry.urn);
      else this.state.set(entry.urn, { ...entry, outputs: read });
    }
  }

  /** One registration of the program; returns the id and outputs the engine hands back to it. */
  async register(reg: Registration, inputs: Dict): Promise<{ id?: string; state: Dict }> {
    this.registered.add(reg.urn);
    const base = {
      urn: reg.urn,
      type: reg.type,
      name: reg.name,
      custom: reg.custom,
      dependencies: reg.dependencies,
      propertyDependencies: reg.propertyDependencies,
      replacementTrigger: reg.replacementTrigger,
    };
    if (!reg.custom) {
      this.state.set(reg.urn, { ...base, inputs, outputs: inputs });
      return { id: undefined, state: inputs };
    }
    const provider = this.providerFor(reg.type);
    const old = this.state.get(reg.urn);
    if (!old) {
      const created = await provider.create(reg.type, reg.name, inputs);
      this.state.set(reg.urn, { ...base, id: created.id, inputs, outputs: created.state });
      const op = this.deletedEarly.has(reg.urn) ? "replace" : "create";
      this.steps.push({
        op,
        urn: reg.urn,
        type: reg.type,
        name: reg.name,
        ...(op === "replace" ? { order: "delete-first" as const } : {}),
      });
      return { id: created.id, state: created.state };
    }
    const changes = [...diffInputs(reg.type, inputs, old.outputs), ...(provider.extraChanges?.(old, inputs) ?? [])];
    const triggered = !same(old.replacementTrigger, reg.replacementTrigger);
    const replace = triggered || changes.some((c) => c.onChange === "replace");
    const changed = [...changes.map((c) => c.path), ...(triggered ? ["(replacementTrigger)"] : [])];
    if (!replace && changes.length === 0) {
      this.state.set(reg.urn, { ...old, ...base, id: old.id, inputs, outputs: old.outputs });
      this.steps.push({ op: "same", urn: reg.urn, type: reg.type, name: reg.name });
      return { id: old.id, state: old.outputs };
    }
    if (!replace) {
      const outputs = await provider.update(old, inputs);
      this.state.set(reg.urn, { ...base, id: old.id, inputs, outputs });
      this.steps.push({ op: "update", urn: reg.urn, type: reg.type, name: reg.name, changes: changed });
      return { id: old.id, state: outputs };
    }
    const deleteFirst =
      reg.deleteBeforeReplace ?? (contractOf(reg.type).explicitNameDeletesFirst && inputs.name !== undefined);
    const why = (e: unknown) =>
      new Error(
        `${(e as Error).message} (replacing ${reg.name} ${deleteFirst ? "delete-first" : "create-first"} for ` +
          `${describeChanges(changes, triggered)})`,
      );
    const gapStart = Date.now();
    if (deleteFirst) {
      await this.deleteDependentsFirst(old).catch((e) => Promise.reject(why(e)));
      await provider.delete(old).catch((e) => Promise.reject(why(e)));
      this.state.delete(reg.urn);
    } else {
      this.pendingDeletes.push(old);
    }
    const created = await provider.create(reg.type, reg.name, inputs).catch((e) => Promise.reject(why(e)));
    this.state.set(reg.urn, { ...base, id: created.id, inputs, outputs: created.state });
    this.steps.push({
      op: "replace",
      urn: reg.urn,
      type: reg.type,
      name: reg.name,
      order: deleteFirst ? "delete-first" : "create-first",
      changes: changed,
      ...(deleteFirst ? { gapSeconds: Math.round((Date.now() - gapStart) / 100) / 10 } : {}),
    });
    return { id: created.id, state: created.state };
  }

  /**
   * Before a delete-first replacement: the resources depending on `root` (transitively) whose diff, with the
   * inputs that came from a replaced resource unknown, replaces them. An unknown input replaces only when its
   * own top-level rule does; a block such as a service's `taskSpec` is not ForceNew itself.
   */
  private async deleteDependentsFirst(root: StateEntry): Promise<void> {
    const replaced = new Set([root.urn]);
    const doomed: StateEntry[] = [];
    for (const entry of this.dependencyOrder([...this.state.values()])) {
      if (entry.urn === root.urn || !entry.custom) continue;
      const unknown = Object.entries(entry.propertyDependencies)
        .filter(([, deps]) => deps.some((d) => replaced.has(d)))
        .map(([key]) => key);
      const contract = contractOf(entry.type);
      if (unknown.some((key) => contract.rules.find((r) => r.path === key)?.onChange === "replace")) {
        replaced.add(entry.urn);
        doomed.push(entry);
      }
    }
    for (const entry of doomed.reverse()) {
      await this.providerFor(entry.type).delete(entry);
      this.state.delete(entry.urn);
      this.deletedEarly.add(entry.urn);
    }
  }

  /** Ends the update: deletes replaced originals and what the program no longer registers, dependents first. */
  async finish(): Promise<void> {
    const gone = [...this.state.values()].filter((e) => !this.registered.has(e.urn));
    for (const e of gone) this.state.delete(e.urn);
    const toDelete = [...this.pendingDeletes, ...gone];
    for (const entry of this.dependencyOrder(toDelete).reverse()) {
      if (entry.custom) await this.providerFor(entry.type).delete(entry);
      if (gone.includes(entry)) this.steps.push({ op: "delete", urn: entry.urn, type: entry.type, name: entry.name });
    }
    this.pendingDeletes = [];
  }

  /** `entries` with every one after those it depends on (among themselves). */
  private dependencyOrder(entries: readonly StateEntry[]): StateEntry[] {
    const ordered: StateEntry[] = [];
    const placed = new Set<StateEntry>();
    const visit = (e: StateEntry, path: Set<StateEntry>) => {
      if (placed.has(e) || path.has(e)) return;
      path.add(e);
      for (const dep of e.dependencies) for (const d of entries.filter((x) => x.urn === dep && x !== e)) visit(d, path);
      placed.add(e);
      ordered.push(e);
    };
    for (const e of entries) visit(e, new Set());
    return ordered;
  }

  /** Step counts of the last update by kind. */
  counts(): Record<StepOp, number> {
    const counts: Record<StepOp, number> = { same: 0, create: 0, update: 0, replace: 0, delete: 0 };
    for (const s of this.steps) counts[s.op]++;
    return counts;
  }
}
