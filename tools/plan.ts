/**
 * `npm run plan -- --stack <name> [--json]`: evaluates the real program in-process with the stack's
 * config and prints what a reviewer needs: resources per component, networks, the reachability
 * matrix against the declared intent, published ports and the discovery table.
 * Exit 1 on invalid stack config (the message names the key), 2 on an unknown stack.
 */
import { StackConfigError } from "../model/config";
import { DiscoveryEntry, PublishedPort } from "../model/discovery";
import { diffReachability, ReachabilityMatrix, reachabilityFromNetworkIds } from "../model/networks";
import { nodeRequirements } from "../model/placement";
import { evaluateProgram, Evaluation } from "./evaluate";
import { readStackConfig } from "./stackFile";
import { textTable, wrap } from "./table";

function parseArgs(argv: readonly string[]): { stack: string; json: boolean } {
  const stackIndex = argv.indexOf("--stack");
  const stack = stackIndex >= 0 ? argv[stackIndex + 1] : undefined;
  if (!stack) throw new UsageError("usage: npm run plan -- --stack <name> [--json]");
  return { stack, json: argv.includes("--json") };
}

class UsageError extends Error {}

/** Every line of the plan fits a 120-column terminal or review comment; wide cells wrap. */
export const PLAN_WIDTH = 120;

export function reachabilityMatrixText(m: ReachabilityMatrix): string {
  const names = Object.keys(m);
  const rows = names.map((a) => [a, ...names.map((b) => (a === b ? "·" : m[a].includes(b) ? "X" : ""))]);
  return textTable(["", ...names.map((n) => n.slice(0, 10))], rows, PLAN_WIDTH);
}

/** The program's exports the plan reads. */
interface PlanOutputs {
  readonly environment: string;
  readonly intendedReachability: ReachabilityMatrix;
  readonly publishedPorts: readonly PublishedPort[];
  readonly discovery: readonly DiscoveryEntry[];
  readonly warnings?: readonly { readonly key: string; readonly message: string }[];
}

export function renderPlan(e: Evaluation): string {
  const o = e.outputs as unknown as PlanOutputs;
  return [
    header(e, o),
    ...(o.warnings?.length ? [section("Warnings:", warningsText(o))] : []),
    section("Resources per component:", resourcesPerComponent(e)),
    section("Networks:", networksTable(e)),
    section("Reachability (X = shares a network):", reachabilityText(e, o)),
    section("Published ports:", publishedPortsTable(o)),
    section("Placement (what the swarm's nodes must offer):", placementText(e)),
    section("Service discovery:", discoveryTable(o)).trimEnd(),
  ].join("\n");
}

const section = (title: string, body: string) => `${title}\n${body}\n`;

/** Settings the config may choose but prod should not, each under its config key. */
function warningsText(o: PlanOutputs): string {
  return (o.warnings ?? []).flatMap((w) => wrap(`- ${w.key}: ${w.message}`, PLAN_WIDTH, false)).join("\n");
}

/** The resource count, and why the policy check counts more. */
function header(e: Evaluation, o: PlanOutputs): string {
  const custom = e.resources.filter((r) => r.custom).length;
  const components = e.resources.length - custom;
  const why =
    `These are the docker, tls and random resources \`pulumi up\` creates. \`npm run policy\` checks ${custom + components}: ` +
    `these and the ${components} component resources that group them (IotStack, SegmentedNetworks, Pki, a ` +
    "SwarmService per service); on a `pulumi stack export` file it also counts the stack and its providers.";
  return [`Stack ${e.stack} (${o.environment}): ${custom} resources`, ...wrap(why, PLAN_WIDTH, false), ""].join("\n");
}

function resourcesPerComponent(e: Evaluation): string {
  const byParent = new Map<string, Map<string, number>>();
  const names = new Map(e.resources.map((r) => [r.urn, r.name]));
  for (const r of e.resources.filter((x) => x.custom)) {
    const parent = (r.parent && names.get(r.parent)) || "(root)";
    const counts = byParent.get(parent) ?? new Map<string, number>();
    const type = r.type.split(":").pop()!;
    counts.set(type, (counts.get(type) ?? 0) + 1);
    byParent.set(parent, counts);
  }
  return textTable(
    ["component", "resources"],
    [...byParent].map(([p, c]) => [p, [...c].map(([t, n]) => `${n} ${t}`).join(", ")]),
    PLAN_WIDTH,
  );
}

/** Networks as registered, with the services attached to each by id. */
function networksTable(e: Evaluation): string {
  const networks = e.resources.filter((r) => r.type === "docker:index/network:Network");
  const services = e.resources.filter((r) => r.type === "docker:index/service:Service");
  const members = (id: string) =>
    services
      .filter((s) => (s.inputs.taskSpec?.networksAdvanceds ?? []).some((n: { id: string }) => n.id === id))
      .map((s) => s.inputs.name);
  return textTable(
    ["network", "kind", "internal", "encrypted", "subnet", "services"],
    networks.map((n) => [
      n.inputs.name,
      (n.inputs.labels ?? []).find((l: { label: string }) => l.label === "iot.network-kind")?.value ?? "",
      String(Boolean(n.inputs.internal)),
      String("encrypted" in (n.inputs.options ?? {})),
      n.inputs.ipamConfigs?.[0]?.subnet ?? "",
      members(n.id).join(", "),
    ]),
    PLAN_WIDTH,
  );
}

/**
 * service -> peers, from the registered services alone: two reach each other iff their task specs name a
 * network of the same id. Planned names play no part, so networks that merged into one show as extra pairs.
 */
export function registeredReachability(e: Evaluation): ReachabilityMatrix {
  const services = e.resources.filter((r) => r.type === "docker:index/service:Service");
  return reachabilityFromNetworkIds(
    Object.fromEntries(
      services.map((s) => [
        String(s.inputs.name),
        ((s.inputs.taskSpec?.networksAdvanceds ?? []) as { id: string }[]).map((n) => n.id),
      ]),
    ),
  );
}

function reachabilityText(e: Evaluation, o: PlanOutputs): string {
  const actual = registeredReachability(e);
  const diff = diffReachability(actual, o.intendedReachability);
  const verdict =
    diff.extra.length === 0 && diff.missing.length === 0
      ? "Reachability equals the declared intent (same tier or declared flow)."
      : `Reachability differs from intent: extra ${diff.extra.join(", ") || "none"}; missing ${diff.missing.join(", ") || "none"}`;
  return [reachabilityMatrixText(actual), ...wrap(verdict, PLAN_WIDTH, false)].join("\n");
}

function publishedPortsTable(o: PlanOutputs): string {
  return textTable(
    ["host port", "service", "container port", "mode", "purpose"],
    o.publishedPorts.map((p) => [`${p.hostPort}/${p.protocol}`, p.service, String(p.containerPort), p.mode, p.purpose]),
    PLAN_WIDTH,
  );
}

/**
 * Each placement constraint of the registered services, the services bound by it and how an operator meets it
 * (node roles and labels); then the services that keep state in volumes and the one node they are pinned to.
 */
function placementText(e: Evaluation): string {
  const services = e.resources
    .filter((r) => r.type === "docker:index/service:Service")
    .map((r) => ({
      name: String(r.inputs.name),
      placement: (r.inputs.taskSpec?.placement?.constraints ?? []) as string[],
      replicas: Number(r.inputs.mode?.replicated?.replicas ?? 1),
      volumes: ((r.inputs.taskSpec?.containerSpec?.mounts ?? []) as { type: string; source?: string }[])
        .filter((m) => m.type === "volume")
        .map((m) => m.source ?? ""),
    }));
  const requirements = nodeRequirements(services);
  const needs = requirements.length
    ? textTable(
        ["constraint", "services (tasks)", "an operator provides it with"],
        requirements.map((r) => [r.constraint, `${r.services.join(", ")} (${r.tasks})`, r.howTo]),
        PLAN_WIDTH,
      )
    : "No constraints: every task may run on any node.";
  const stateful = services.filter((s) => s.volumes.length > 0);
  const state = textTable(
    ["stateful service", "volumes", "pinned by"],
    stateful.map((s) => [s.name, s.volumes.join(", "), s.placement.join(", ")]),
    PLAN_WIDTH,
  );
  return `${needs}
${stateful.length ? state : "No service keeps state in a volume."}`;
}

function discoveryTable(o: PlanOutputs): string {
  return textTable(
    ["service", "DNS names", "endpoint", "replicas", "ports", "networks"],
    o.discovery.map((d) => [
      d.service,
      [...d.dnsNames, d.tasksName].join(", "),
      d.endpointMode,
      String(d.replicas),
      d.ports.join(", "),
      d.networks.join(", "),
    ]),
    PLAN_WIDTH,
  );
}

async function main(): Promise<number> {
  let args: { stack: string; json: boolean };
  let config: Record<string, string>;
  try {
    args = parseArgs(process.argv.slice(2));
    const file = readStackConfig(args.stack);
    if (file.secureKeys.length > 0) {
      console.error(`note: ${file.secureKeys.join(", ")} are encrypted; the plan uses the generated CA instead`);
    }
    config = file.config;
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  try {
    const evaluation = await evaluateProgram({ stack: args.stack, config });
    if (args.json) console.log(JSON.stringify(evaluation.outputs, null, 2));
    else console.log(renderPlan(evaluation));
    return 0;
  } catch (e) {
    if (e instanceof StackConfigError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof Error ? e.stack : e);
      process.exit(1);
    },
  );
}
