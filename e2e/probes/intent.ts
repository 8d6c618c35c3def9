/**
 * What the probes must show, derived from the program's model and exports (never a hand-kept
 * list): declared flows must connect, every ordered pair of services outside the intended
 * reachability must be blocked, and every name a service may use must resolve to the right tasks.
 * Pure, so the derivation is unit-tested (tests/e2ePlan.test.ts).
 */
import { DiscoveryEntry, PublishedPort } from "../../model/discovery";
import { FlowSpec, Topology } from "../../model/types";

export type Matrix = Readonly<Record<string, readonly string[]>>;

/** The program's exports the e2e run reads (index.ts). */
export interface ProgramExports {
  readonly environment: string;
  readonly intendedReachability: Matrix;
  readonly reachability: Matrix;
  readonly discovery: readonly DiscoveryEntry[];
  readonly publishedPorts: readonly PublishedPort[];
  /** Network name -> Docker id. */
  readonly networks: Readonly<Record<string, string>>;
  readonly caCertPem: string;
}

export interface Pair {
  readonly from: string;
  readonly to: string;
}

export interface DnsExpectation {
  /** The service whose task asks. */
  readonly from: string;
  /** The service the names belong to. */
  readonly service: string;
  readonly names: readonly string[];
}

export interface ProbePlan {
  readonly services: readonly string[];
  /** Declared flows: each must connect at the application level. */
  readonly flows: readonly FlowSpec[];
  /** Ordered pairs outside the intended reachability: each must be blocked (name unresolved, every task address unreachable). */
  readonly forbidden: readonly Pair[];
  /** Ordered pairs that share a network by intent without a declared flow in that direction (same tier, or a flow's reverse). */
  readonly sharedWithoutFlow: readonly Pair[];
  /** Names each service may resolve (its peers' names, aliases and tasks.<name>). */
  readonly dns: readonly DnsExpectation[];
  /** Host ports the stack publishes, as `port/protocol`. */
  readonly expectedHostPorts: readonly string[];
  /** Inconsistencies between model and exports; any one fails the run. */
  readonly problems: readonly string[];
}

export function planProbes(t: Topology, exports: ProgramExports): ProbePlan {
  const services = t.services.map((s) => s.name);
  const intent = exports.intendedReachability;
  const problems: string[] = [];
  const peers = (s: string) => new Set(intent[s] ?? []);

  for (const s of services) if (!(s in intent)) problems.push(`intendedReachability has no entry for service ${s}`);
  for (const f of t.flows) {
    if (!peers(f.from).has(f.to))
      problems.push(`declared flow ${f.from} -> ${f.to}:${f.port} is outside intendedReachability`);
  }
  const key = (m: Matrix) =>
    JSON.stringify(
      Object.keys(m)
        .sort()
        .map((k) => [k, [...m[k]].sort()]),
    );
  if (key(exports.reachability) !== key(intent))
    problems.push("the exported reachability differs from intendedReachability");

  const forbidden: Pair[] = [];
  const sharedWithoutFlow: Pair[] = [];
  for (const from of services) {
    for (const to of services) {
      if (from === to) continue;
      if (!peers(from).has(to)) forbidden.push({ from, to });
      else if (!t.flows.some((f) => f.from === from && f.to === to)) sharedWithoutFlow.push({ from, to });
    }
  }

  const names = new Map(exports.discovery.map((d) => [d.service, [...d.dnsNames, d.tasksName]]));
  for (const s of services) if (!names.has(s)) problems.push(`discovery has no entry for service ${s}`);
  const dns: DnsExpectation[] = services.flatMap((from) =>
    [...peers(from)].sort().map((service) => ({ from, service, names: names.get(service) ?? [] })),
  );

  const expectedHostPorts = [...new Set(exports.publishedPorts.map((p) => `${p.hostPort}/${p.protocol}`))].sort();
  return { services, flows: [...t.flows], forbidden, sharedWithoutFlow, dns, expectedHostPorts, problems };
}

/** All names of a service as discovery exports them: its name, aliases and tasks.<name>. */
export function serviceNames(exports: ProgramExports, service: string): string[] {
  const d = exports.discovery.find((x) => x.service === service);
  return d ? [...d.dnsNames, d.tasksName] : [service, `tasks.${service}`];
}

/** MQTT topic filter matching (`+` one level, `#` the rest), as the broker applies ACLs. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return i < t.length || (i === t.length && i > 0);
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A concrete topic inside a filter: `+` levels become `probe`, a trailing `#` becomes `suffix`. */
export function topicUnder(filter: string, suffix: string): string {
  const levels = filter.split("/").map((l) => (l === "+" ? "probe" : l));
  if (levels[levels.length - 1] === "#") levels.splice(levels.length - 1, 1, ...suffix.split("/"));
  return levels.join("/");
}

/**
 * For an MQTT round trip between two identities: a topic `writer` may publish on and `reader`
 * may subscribe to, under the broker's ACL; undefined when the ACL allows none.
 */
export function sharedTopic(t: Topology, writer: string, reader: string, suffix: string): string | undefined {
  const can = (user: string, access: "read" | "write") =>
    t.mqtt.acl.filter((a) => a.user === user && (a.access === access || a.access === "readwrite")).map((a) => a.topic);
  const writes = can(writer, "write");
  const reads = can(reader, "read");
  // A concrete topic under one side's filter that the other side's filter also matches.
  for (const topic of [...writes, ...reads].map((f) => topicUnder(f, suffix))) {
    if (topic.startsWith("$")) continue;
    if (writes.some((w) => topicMatches(w, topic)) && reads.some((r) => topicMatches(r, topic))) return topic;
  }
  return undefined;
}
