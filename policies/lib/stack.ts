/**
 * The stack as a graph: which workloads (services, containers) join which networks, computed from the
 * resources themselves. A network reference is resolved by id or by Docker name when it is known (the
 * offline checker, `pulumi stack export`, an update of an existing stack); when it is unknown (a preview
 * that creates the network), through the workload's dependencies on network resources.
 */
import { PolicyResource } from "@pulumi/policy";
import { at, bool, commaList, isKnown, labelsOf, plain, str, UNKNOWN } from "./values";
import { containerView, LABEL, serviceView, TYPES, WorkloadView } from "./workloads";

export interface NetworkNode {
  readonly resource: PolicyResource;
  /** Docker network name (the Pulumi name when unset). */
  readonly name: string;
  readonly id?: string;
  /** `iot.network-kind`: tier, link or egress. */
  readonly kind?: string;
  /** `iot.tiers` of a tier network. */
  readonly tiers: readonly string[];
  readonly driver?: string;
  readonly internal?: boolean;
}

/** Docker's built-in networks that are not resources of the stack. */
export type BuiltinNetwork = "host" | "bridge" | "none";

export interface WorkloadNode {
  readonly resource: PolicyResource;
  readonly view: WorkloadView;
  readonly networks: readonly NetworkNode[];
  readonly builtins: readonly BuiltinNetwork[];
  /** Known references that match no network of the stack (pre-existing, external networks). */
  readonly external: readonly string[];
  /** References that are unknown and could not be resolved through dependencies either. */
  readonly unresolved: number;
}

export interface StackGraph {
  readonly networks: readonly NetworkNode[];
  readonly workloads: readonly WorkloadNode[];
}

const BUILTINS: Readonly<Record<string, BuiltinNetwork>> = {
  host: "host",
  bridge: "bridge",
  default: "bridge",
  none: "none",
};

function networkNode(resource: PolicyResource): NetworkNode {
  const props = plain(resource.props);
  const labels = labelsOf(props);
  const name = str(at(props, "name"));
  const id = str(at(props, "id"));
  const driver = str(at(props, "driver"));
  const internal = bool(at(props, "internal"));
  return {
    resource,
    name: isKnown(name) ? name : resource.name,
    id: isKnown(id) ? id : undefined,
    kind: labels.get(LABEL.networkKind) || undefined,
    tiers: commaList(labels.get(LABEL.tiers)),
    driver: isKnown(driver) ? driver : undefined,
    internal: isKnown(internal) ? internal : undefined,
  };
}

/** Network resources among `deps`, in order, without duplicates. */
function networkDeps(
  deps: readonly PolicyResource[] | undefined,
  byUrn: ReadonlyMap<string, NetworkNode>,
): NetworkNode[] {
  const found: NetworkNode[] = [];
  for (const dep of deps ?? []) {
    const node = byUrn.get(dep.urn);
    if (node && !found.includes(node)) found.push(node);
  }
  return found;
}

export function buildStackGraph(resources: readonly PolicyResource[]): StackGraph {
  const networks = resources.filter((r) => r.type === TYPES.network).map(networkNode);
  const byUrn = new Map(networks.map((n) => [n.resource.urn, n]));
  const byId = new Map(networks.filter((n) => n.id !== undefined).map((n) => [n.id!, n]));
  const byName = new Map(networks.map((n) => [n.name, n]));

  const workloads: WorkloadNode[] = [];
  for (const resource of resources) {
    const isService = resource.type === TYPES.service;
    if (!isService && resource.type !== TYPES.container) continue;
    const view = isService ? serviceView(resource.props, resource.name) : containerView(resource.props, resource.name);
    const attached: NetworkNode[] = [];
    const builtins: BuiltinNetwork[] = [];
    const external: string[] = [];
    let unknownRefs = 0;
    const refs = view.networks === UNKNOWN ? undefined : view.networks;
    const add = (ref: string) => {
      const node = byId.get(ref) ?? byName.get(ref);
      if (node) {
        if (!attached.includes(node)) attached.push(node);
      } else if (BUILTINS[ref]) {
        if (!builtins.includes(BUILTINS[ref])) builtins.push(BUILTINS[ref]);
      } else {
        external.push(ref);
      }
    };
    if (refs === undefined) {
      unknownRefs = 1;
    } else {
      for (const { ref } of refs) {
        if (isKnown(ref)) add(ref);
        else if (ref !== undefined) unknownRefs++;
      }
    }
    if (!isService) {
      const mode = view.networkMode;
      if (isKnown(mode)) add(mode);
      else if (mode !== undefined) unknownRefs++;
    }
    let unresolved = 0;
    if (unknownRefs > 0) {
      // Preview of a new network: its id is unknown, but the engine records which resources the
      // workload's properties came from.
      const key = isService ? "taskSpec" : "networksAdvanced";
      const fromProperty = networkDeps(resource.propertyDependencies?.[key], byUrn);
      const fromMode = isService ? [] : networkDeps(resource.propertyDependencies?.["networkMode"], byUrn);
      let candidates = [...fromProperty, ...fromMode].filter((n) => !attached.includes(n));
      if (candidates.length === 0)
        candidates = networkDeps(resource.dependencies, byUrn).filter((n) => !attached.includes(n));
      attached.push(...candidates);
      if (candidates.length === 0) unresolved = unknownRefs;
    }
    workloads.push({ resource, view, networks: attached, builtins, external, unresolved });
  }
  return { networks, workloads };
}
