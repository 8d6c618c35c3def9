/**
 * Properties of the whole program over random stack configs (tests/arbitraries.ts), each evaluated in-process
 * under Pulumi mocks as `pulumi up` would run it:
 *
 * - a valid config registers without error; every name it gives Docker (networks, services, configs, secrets,
 *   volumes) and every URN is unique and valid by Docker's rules; the reachability computed from the registered
 *   services' network ids equals the declared intent (same tier or a declared flow, either way); every service
 *   holds exactly the credentials of its own flows; and a prod stack passes the prod policy pack with no
 *   mandatory violation;
 * - a config with one thing broken is rejected with a StackConfigError naming the offending key, before any
 *   resource is registered.
 *
 * Each property runs 200 cases. For a longer run set IOT_PROPERTY_RUNS, e.g.
 * `IOT_PROPERTY_RUNS=2000 npx jest tests/properties.test.ts`; a failure prints its seed and path, which
 * fast-check replays with `{ seed, path }` in the property's parameters.
 */
import fc from "fast-check";
import * as path from "path";
import { checkResources } from "../policies/offline/check";
import { runProgram } from "../components/program";
import { StackConfigError } from "../model/config";
import { credentialLabel, planIdentities } from "../model/identity";
import { MAX_SWARM_NAME, MAX_SWARM_OBJECT_NAME } from "../model/naming";
import { evaluateProgram, RecordedResource } from "../tools/evaluate";
import { PlanMocks } from "../tools/mocks";
import { fromEvaluation } from "../tools/policyCheck";
import { invalidStack, ValidCase, validStack } from "./arbitraries";
import { CONFIG, NETWORK, ofType, reachabilityFromResources, SECRET, SERVICE, topologyFrom } from "./helpers";

const RUNS = Number(process.env.IOT_PROPERTY_RUNS ?? 200);
const PROD_POLICY_CONFIG = path.resolve(__dirname, "../policies/config/prod.json");
/** Evaluations take up to a second each; a long run may take a while. */
const timeout = (runs: number) => Math.max(60_000, runs * 2_000);

/** Docker's object names: an alphanumeric first character, then letters, digits, `_`, `.` and `-`. */
const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Why a Docker object name is not acceptable, or undefined. */
function nameProblem(kind: string, name: unknown, max: number): string | undefined {
  if (typeof name !== "string") return `${kind} has no name`;
  if (name.length > max) return `${kind} "${name}" is ${name.length} characters (at most ${max})`;
  if (!DOCKER_NAME.test(name)) return `${kind} "${name}" has characters Docker refuses`;
  if (name.endsWith("-")) return `${kind} "${name}" ends in a hyphen`;
  return undefined;
}

/** Every problem with the names the evaluation gives Docker and Pulumi: invalid or used twice. */
function nameProblems(resources: readonly RecordedResource[]): string[] {
  const problems: string[] = [];
  const unique = (kind: string, names: readonly string[]) => {
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) problems.push(`${kind} "${n}" is used twice`);
      seen.add(n);
    }
  };
  const named = (type: string, kind: string, max: number) => {
    const names = ofType(resources, type).map((r) => r.inputs.name as string);
    for (const n of names) {
      const problem = nameProblem(kind, n, max);
      if (problem) problems.push(problem);
    }
    unique(kind, names);
  };
  named(NETWORK, "network", MAX_SWARM_NAME);
  named(SERVICE, "service", MAX_SWARM_NAME);
  named(CONFIG, "config", MAX_SWARM_OBJECT_NAME);
  named(SECRET, "secret", MAX_SWARM_OBJECT_NAME);
  // A named volume is node-local state: one service's, never another's.
  const volumeOwner = new Map<string, string>();
  for (const s of ofType(resources, SERVICE)) {
    for (const m of s.inputs.taskSpec.containerSpec.mounts ?? []) {
      if (m.type !== "volume") continue;
      const problem = nameProblem("volume", m.source, MAX_SWARM_NAME);
      if (problem) problems.push(problem);
      const owner = volumeOwner.get(m.source);
      if (owner !== undefined && owner !== s.inputs.name)
        problems.push(`volume "${m.source}" is mounted by "${owner}" and "${s.inputs.name}"`);
      volumeOwner.set(m.source, s.inputs.name);
    }
  }
  if (volumeOwner.size === 0) problems.push("no service mounts a named volume: the volume check saw nothing");
  unique(
    "URN",
    resources.map((r) => r.urn),
  );
  unique(
    "network id",
    ofType(resources, NETWORK).map((n) => n.id),
  );
  return problems;
}

/** Declared intent from the stack config alone: two services may talk when they share a tier or a flow. */
function intent(c: ValidCase): Record<string, string[]> {
  const t = topologyFrom(c.config, { namespaced: true });
  const allowed = (a: string, b: string) =>
    t.services
      .find((s) => s.name === a)!
      .tiers.some((tier) => t.services.find((s) => s.name === b)!.tiers.includes(tier)) ||
    t.flows.some((f) => (f.from === a && f.to === b) || (f.from === b && f.to === a));
  return Object.fromEntries(
    t.services.map((a) => [
      a.name,
      t.services
        .filter((b) => b.name !== a.name && allowed(a.name, b.name))
        .map((b) => b.name)
        .sort(),
    ]),
  );
}

/**
 * Every way a service's credentials differ from its flows': each service carries in `iot.credentials` exactly the
 * identities of its own flows (model/identity.ts), each naming a server it has a flow to, and mounts a
 * `<server>-password` secret exactly for the Redis and NATS servers it holds a password for.
 */
function credentialProblems(c: ValidCase, resources: readonly RecordedResource[]): string[] {
  const t = topologyFrom(c.config, { namespaced: true });
  const problems: string[] = [];
  const secretsById = new Map(ofType(resources, SECRET).map((r) => [r.id, r.inputs.name as string]));
  for (const s of ofType(resources, SERVICE)) {
    const label = (key: string) => (s.inputs.labels ?? []).find((l: { label: string }) => l.label === key)?.value ?? "";
    const name = label("iot.service");
    const held = label("iot.credentials").split(",").filter(Boolean);
    const own = planIdentities(t).filter((i) => i.client === name);
    if (held.join(",") !== credentialLabel(own).join(","))
      problems.push(`${name} holds ${held}, its flows give ${credentialLabel(own)}`);
    const servers = new Set(t.flows.filter((f) => f.from === name).map((f) => f.to));
    for (const entry of held)
      if (!servers.has(entry.split(":")[0])) problems.push(`${name} holds ${entry} without a flow`);
    const mounted = (s.inputs.taskSpec.containerSpec.secrets ?? []).map(
      (m: { secretId: string }) => secretsById.get(m.secretId) ?? "",
    );
    // A password carried in the application's own file (Node-RED's flows_cred.json) has no secret of its own.
    const passwordServers = own
      .filter((i) => i.kind === "password" && !i.inAppFile)
      .map((i) => i.server)
      .sort();
    const mountedServers = t.services
      .map((x) => x.name)
      .filter((server) => mounted.some((n: string) => n.startsWith(`${name}-${server}-password-`)))
      .sort();
    if (mountedServers.join(",") !== passwordServers.join(","))
      problems.push(`${name} mounts passwords for ${mountedServers}, its flows give ${passwordServers}`);
  }
  return problems;
}

/** Runs the program as index.ts does; the module stays loaded, so each case costs only its evaluation. */
const load = async () => runProgram();

/** V8's own stack format, without the source-map lookup jest installs. */
const plainStackTrace = (error: Error, frames: readonly NodeJS.CallSite[]) =>
  [String(error), ...frames.map((f) => `    at ${f}`)].join("\n");

/**
 * Evaluates the program. Pulumi captures a stack trace for every resource and promise it creates; with jest's
 * source-mapped formatting and its 100-frame limit an evaluation takes four to six times longer, so V8's plain
 * format and default limit apply while the program runs (assertions run after, with jest's restored).
 */
async function evaluate(options: Parameters<typeof evaluateProgram>[0]): ReturnType<typeof evaluateProgram> {
  const [jestFormat, jestLimit] = [Error.prepareStackTrace, Error.stackTraceLimit];
  Error.prepareStackTrace = plainStackTrace;
  Error.stackTraceLimit = 10;
  try {
    return await evaluateProgram({ ...options, load });
  } finally {
    [Error.prepareStackTrace, Error.stackTraceLimit] = [jestFormat, jestLimit];
  }
}

/** service -> peers, computed from the registered resources' network ids, by logical service name. */
function reachability(resources: readonly RecordedResource[]): Record<string, string[]> {
  const logical = new Map<string, string>(
    ofType(resources, SERVICE).map((s) => [
      s.inputs.name,
      (s.inputs.labels ?? []).find((l: { label: string }) => l.label === "iot.service")?.value ?? s.inputs.name,
    ]),
  );
  const byDockerName = reachabilityFromResources(resources);
  return Object.fromEntries(
    Object.entries(byDockerName).map(([name, peers]) => [logical.get(name)!, peers.map((p) => logical.get(p)!).sort()]),
  );
}

describe("any valid stack config", () => {
  it(
    `registers its resources under unique valid names, reachability equals intent, and prod passes the pack (${RUNS} cases)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(validStack, async (c) => {
          const e = await evaluate({ stack: c.environment, config: c.config });
          expect(nameProblems(e.resources)).toEqual([]);
          expect(credentialProblems(c, e.resources)).toEqual([]);
          const wanted = intent(c);
          expect(reachability(e.resources)).toEqual(wanted);
          expect(e.outputs.intendedReachability).toEqual(wanted);
          expect(e.outputs.reachability).toEqual(wanted);
          if (c.environment === "prod") {
            const result = await checkResources({
              resources: fromEvaluation(e.resources),
              stack: "prod",
              policyConfigFile: PROD_POLICY_CONFIG,
            });
            expect(
              result.violations
                .filter((v) => v.enforcementLevel === "mandatory")
                .map((v) => `${v.policyName}: ${v.message}`),
            ).toEqual([]);
          }
        }),
        { numRuns: RUNS },
      );
    },
    timeout(RUNS),
  );
});

describe("any stack config with one thing broken", () => {
  it(
    `is rejected before any resource is registered, naming the key (${RUNS} cases)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(invalidStack, async (c) => {
          const registered: string[] = [];
          const base = new PlanMocks();
          const mocks = {
            newResource: (args: Parameters<PlanMocks["newResource"]>[0]) => {
              registered.push(`${args.type}::${args.name}`);
              return base.newResource(args);
            },
            call: (args: Parameters<PlanMocks["call"]>[0]) => base.call(args),
          };
          const error = await evaluate({ stack: c.environment, config: c.config, mocks }).then(
            () => undefined,
            (e: Error) => e,
          );
          expect(registered).toEqual([]);
          expect(error).toBeInstanceOf(StackConfigError);
          expect(error?.message).toContain(`- iot-swarm-net:${c.key}: `);
        }),
        { numRuns: RUNS },
      );
    },
    timeout(RUNS),
  );
});
