/**
 * HAProxy configuration, read for who may reach which backend: source-address ACLs (`acl admin src 10.0.0.0/8`),
 * the rules that refuse requests (`http-request deny if host_x !admin`, `tcp-request connection reject unless
 * admin`), the routes (`use_backend b if host_x`, `default_backend b`, `listen` sections) and the ports of each
 * backend's servers. HAProxy runs every `http-request` rule before choosing a backend, so their order against
 * `use_backend` does not matter; the order among allow and deny rules is not modelled (an allow rule followed by
 * a catch-all deny counts as no restriction). Pure.
 */

export interface Line {
  readonly text: string;
  /** 1-based. */
  readonly line: number;
}

export interface Section {
  readonly kind: string;
  readonly name: string;
  readonly lines: readonly Line[];
}

const SECTION_KEYWORDS = new Set([
  "global",
  "defaults",
  "frontend",
  "backend",
  "listen",
  "userlist",
  "resolvers",
  "peers",
  "mailers",
  "program",
  "http-errors",
  "ring",
  "cache",
]);

export function isHaproxyConfig(text: string): boolean {
  return (
    /^\s*(frontend|backend|listen)\s+\S+/m.test(text) &&
    /^\s*(bind|server|server-template|use_backend|default_backend)\s/m.test(text)
  );
}

export function haproxySections(text: string): Section[] {
  const sections: { kind: string; name: string; lines: Line[] }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const text = raw.replace(/(^|\s)#.*$/, "").trim();
    if (text === "") return;
    const [first, second] = text.split(/\s+/);
    if (SECTION_KEYWORDS.has(first)) sections.push({ kind: first, name: second ?? "", lines: [] });
    else sections[sections.length - 1]?.lines.push({ text, line: i + 1 });
  });
  return sections;
}

const WORLD = new Set(["0.0.0.0/0", "::/0", "0.0.0.0", "::", "0/0"]);

interface SourceAcl {
  readonly name: string;
  readonly line: number;
  readonly addresses: readonly string[];
  /** `-f file`: addresses kept elsewhere; counted as a restriction. */
  readonly fromFile: boolean;
}

function sourceAcls(section: Section): SourceAcl[] {
  const acls: SourceAcl[] = [];
  for (const { text, line } of section.lines) {
    const match = /^acl\s+(\S+)\s+src(\s+.*)?$/.exec(text);
    if (!match) continue;
    const args = (match[2] ?? "").trim().split(/\s+/).filter(Boolean);
    const fromFile = args.includes("-f");
    const addresses = args.filter((a, i) => !a.startsWith("-") && args[i - 1] !== "-f" && args[i - 1] !== "-m");
    acls.push({ name: match[1], line, addresses, fromFile });
  }
  return acls;
}

export interface OpenSourceAcl {
  readonly section: string;
  readonly acl: string;
  readonly line: number;
  readonly address: string;
}

/** Source ACLs that admit every address (0.0.0.0/0, ::/0): an allowlist that allows everyone. */
export function openSourceAcls(text: string): OpenSourceAcl[] {
  return haproxySections(text).flatMap((s) =>
    sourceAcls(s).flatMap((acl) => {
      const open = acl.addresses.find((a) => WORLD.has(a));
      return open === undefined
        ? []
        : [{ section: `${s.kind} ${s.name}`, acl: acl.name, line: acl.line, address: open }];
    }),
  );
}

interface Term {
  readonly name: string;
  readonly negated: boolean;
}

/** `a !b || { src 10.0.0.0/8 } c` -> [[a, !b], [<inline src>, c]]; inline source ACLs are named by their text. */
function parseCondition(text: string, inlineSources: Map<string, boolean>): Term[][] {
  const branches: Term[][] = [[]];
  const tokens = text.match(/!?\{[^}]*\}|\S+/g) ?? [];
  for (const token of tokens) {
    if (token === "||" || token.toLowerCase() === "or") {
      branches.push([]);
      continue;
    }
    const negated = token.startsWith("!");
    const name = negated ? token.slice(1) : token;
    const inline = /^\{\s*src\s+([^}]*)\}$/.exec(name);
    if (inline) {
      const addresses = inline[1].trim().split(/\s+/);
      inlineSources.set(name, addresses.length > 0);
    }
    branches[branches.length - 1].push({ name, negated });
  }
  return branches;
}

export interface UnguardedRoute {
  readonly frontend: string;
  readonly backend: string;
  readonly port: number;
  readonly line: number;
  /** The route's condition, as written (`host_node_red`), or `default` / `listen`. */
  readonly condition: string;
}

function serverPorts(section: Section): number[] {
  const ports: number[] = [];
  for (const { text } of section.lines) {
    const server = /^server\s+\S+\s+(\S+)/.exec(text) ?? /^server-template\s+\S+\s+\S+\s+(\S+)/.exec(text);
    const port = server ? /:(\d+)$/.exec(server[1]) : null;
    if (port) ports.push(Number(port[1]));
  }
  return ports;
}

/**
 * Routes to a backend whose servers listen on one of `adminPorts` that nothing restricts to a source allowlist:
 * neither the route's own condition (`use_backend b if host_x admin`) nor a refusing rule of the frontend
 * (`http-request deny if host_x !admin`, `... deny unless admin`) with a source ACL. Whether that ACL admits
 * everyone is `openSourceAcls`'s finding.
 */
export function unguardedAdminRoutes(text: string, adminPorts: readonly number[]): UnguardedRoute[] {
  const sections = haproxySections(text);
  const backends = new Map(sections.filter((s) => s.kind === "backend").map((s) => [s.name, serverPorts(s)]));
  const found: UnguardedRoute[] = [];
  for (const section of sections.filter((s) => s.kind === "frontend" || s.kind === "listen")) {
    const inline = new Map<string, boolean>();
    // A source ACL with addresses guards what it is used for; one that admits everyone is reported on its own
    // (openSourceAcls), not again for each route it fails to guard.
    const restrictive = new Set(
      sourceAcls(section)
        .filter((a) => a.fromFile || a.addresses.length > 0)
        .map((a) => a.name),
    );
    const isRestrictive = (t: Term) => restrictive.has(t.name) || inline.get(t.name) === true;
    const refusals: { branches: Term[][]; unless: boolean }[] = [];
    for (const { text } of section.lines) {
      const rule =
        /^(?:http-request\s+(?:deny|reject|tarpit|silent-drop)|tcp-request\s+\S+\s+(?:reject|silent-drop))\b.*?\s(if|unless)\s+(.+)$/.exec(
          text,
        );
      if (rule) refusals.push({ branches: parseCondition(rule[2], inline), unless: rule[1] === "unless" });
    }
    const guarded = (branch: readonly Term[]) =>
      branch.some((t) => !t.negated && isRestrictive(t)) ||
      refusals.some(({ branches, unless }) =>
        unless
          ? branches.length === 1 && branches[0].some((t) => !t.negated && isRestrictive(t))
          : branches.some(
              (b) =>
                b.some((t) => t.negated && isRestrictive(t)) &&
                b.every((t) => (t.negated && isRestrictive(t)) || branch.some((r) => r.name === t.name && !r.negated)),
            ),
      );
    const routes: { backend: string; line: number; condition: string; branches: Term[][] }[] = [];
    for (const { text, line } of section.lines) {
      const use = /^use_backend\s+(\S+)(?:\s+(if|unless)\s+(.+))?$/.exec(text);
      if (use) {
        const condition = use[3] ?? "";
        // `unless c` routes everything c does not match: no positive term to lean on.
        const branches = use[2] === "unless" ? [[]] : parseCondition(condition, inline);
        routes.push({ backend: use[1], line, condition: condition || "always", branches });
      }
      const fallback = /^default_backend\s+(\S+)$/.exec(text);
      if (fallback) routes.push({ backend: fallback[1], line, condition: "default", branches: [[]] });
    }
    if (section.kind === "listen") routes.push({ backend: section.name, line: 0, condition: "listen", branches: [[]] });
    for (const route of routes) {
      const ports =
        section.kind === "listen" && route.condition === "listen"
          ? serverPorts(section)
          : (backends.get(route.backend) ?? []);
      const port = ports.find((p) => adminPorts.includes(p));
      if (port === undefined || route.branches.every(guarded)) continue;
      found.push({
        frontend: `${section.kind} ${section.name}`,
        backend: route.backend,
        port,
        line: route.line,
        condition: route.condition,
      });
    }
  }
  return found;
}
