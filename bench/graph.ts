/**
 * The deploy graph of a recorded evaluation: custom resources and the dependencies Pulumi waits on.
 * Its depth (the longest chain) bounds how many rounds of provider calls `pulumi up` needs, however
 * wide the stack is.
 */

/** What the graph needs of a recorded resource (a subset of tools/evaluate's RecordedResource). */
export interface GraphNode {
  readonly urn: string;
  readonly name: string;
  readonly type: string;
  readonly custom: boolean;
  readonly parent?: string;
  readonly dependencies: readonly string[];
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
}

export interface GraphDepth {
  /** Edges on the longest chain; a resource with no dependencies has depth 0. */
  readonly depth: number;
  /** Resource names along one longest chain, first dependency first. */
  readonly chain: readonly string[];
  /** Custom resources in the graph. */
  readonly resources: number;
  /** Dependency edges between custom resources. */
  readonly edges: number;
}

/**
 * Longest dependency chain over custom resources. Components are not deployed: a dependency on a
 * component stands for dependencies on every custom resource under it, as in Pulumi's engine.
 */
export function deployGraphDepth(nodes: readonly GraphNode[]): GraphDepth {
  const byUrn = new Map(nodes.map((n) => [n.urn, n]));
  const children = new Map<string, GraphNode[]>();
  for (const n of nodes) {
    if (n.parent) children.set(n.parent, [...(children.get(n.parent) ?? []), n]);
  }
  const customUnder = (urn: string, seen = new Set<string>()): string[] => {
    if (seen.has(urn)) return [];
    seen.add(urn);
    return (children.get(urn) ?? []).flatMap((c) => (c.custom ? [c.urn] : customUnder(c.urn, seen)));
  };
  const edges = new Map<string, Set<string>>();
  for (const n of nodes.filter((x) => x.custom)) {
    const direct = [...n.dependencies, ...Object.values(n.propertyDependencies ?? {}).flat()];
    const targets = new Set<string>();
    for (const dep of direct) {
      const target = byUrn.get(dep);
      if (!target || dep === n.urn) continue;
      for (const urn of target.custom ? [dep] : customUnder(dep)) targets.add(urn);
    }
    edges.set(n.urn, targets);
  }

  const depth = new Map<string, number>();
  const next = new Map<string, string | undefined>();
  const visiting = new Set<string>();
  const visit = (urn: string): number => {
    const known = depth.get(urn);
    if (known !== undefined) return known;
    if (visiting.has(urn)) throw new Error(`dependency cycle through ${byUrn.get(urn)?.name ?? urn}`);
    visiting.add(urn);
    let best = 0;
    let via: string | undefined;
    for (const dep of edges.get(urn) ?? []) {
      const d = visit(dep) + 1;
      if (d > best) [best, via] = [d, dep];
    }
    visiting.delete(urn);
    depth.set(urn, best);
    next.set(urn, via);
    return best;
  };
  let deepest: string | undefined;
  for (const urn of edges.keys()) {
    const d = visit(urn);
    if (deepest === undefined || d > depth.get(deepest)!) deepest = urn;
  }
  const chain: string[] = [];
  for (let urn = deepest; urn !== undefined; urn = next.get(urn)) chain.unshift(byUrn.get(urn)!.name);
  return {
    depth: deepest === undefined ? 0 : depth.get(deepest)!,
    chain,
    resources: edges.size,
    edges: [...edges.values()].reduce((sum, s) => sum + s.size, 0),
  };
}
