/**
 * The e2e harness: a `pulumi.runtime.Mocks` that stands in for the Pulumi engine and the docker, tls and random
 * providers. Under `pulumi.runtime.setMocks` the real program runs in-process; each registration becomes the
 * step `pulumi up` would take against the stack's state (engine.ts): docker objects are created, updated and
 * deleted for real on the local Swarm through the Engine API, tls resources are real X.509 and random passwords
 * come from the CSPRNG. The state outlives one run, so the program can be applied a second and a third time
 * to the live stack. Nothing else is faked: any other resource type or provider function call throws.
 */
import * as crypto from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import Docker from "dockerode";
import { unwrapSecrets as unwrapPolicySecrets } from "../../policies/lib/secrets";
import { MockedRuntime, setMocksWithRegistrations, waitForRegistrations } from "../../tools/runtimeHooks";
import { DockerRealiser, CreatedObject, TeardownReport } from "./docker";
import { DeployEngine, ProviderPort, Step, StepOp } from "./engine";
import { dockerProvider, randomProvider, tlsProvider } from "./providers";
import { sleep } from "./swarm";

/** Mock inputs keep Pulumi's secret wrapper; providers see plain values (policies/lib/secrets.ts). */
export function unwrapSecrets(value: unknown): any {
  return unwrapPolicySecrets(value);
}

export interface HarnessOptions {
  /** Engine client; default: the local socket. */
  docker?: Docker;
  /** Labels this run's objects (iot-swarm-net.e2e.run); default: random. */
  runId?: string;
  /** Hook mapping the image a service names to the one run; default: as named (the e2e stack config names local images). */
  imageMap?: (image: string) => string;
  /** Progress lines; default: stderr with an [e2e] prefix. */
  log?: (line: string) => void;
  /** Overrides convergeConfig timeouts (ms), e.g. to fail faster in CI. */
  convergeTimeoutMs?: number;
}

export interface RealisedResource {
  type: string;
  name: string;
  id: string | undefined;
  state: Record<string, unknown>;
}

export class E2eHarness implements pulumi.runtime.Mocks {
  readonly docker: Docker;
  readonly runId: string;
  /** The engine stand-in: the stack's state and the steps of the last update. */
  readonly engine: DeployEngine;
  /** Errors thrown back to the program, so a run can fail loudly even if the program swallows them. */
  readonly failures: Error[] = [];
  private readonly realiser: DockerRealiser;
  private readonly log: (line: string) => void;
  private inFlight = 0;
  private readonly failureListeners: ((e: Error) => void)[] = [];
  private runtime?: MockedRuntime;

  constructor(opts: HarnessOptions = {}) {
    this.docker = opts.docker ?? new Docker();
    this.runId = opts.runId ?? `run-${Date.now().toString(36)}-${crypto.randomBytes(3).toString("hex")}`;
    this.log = opts.log ?? ((l) => process.stderr.write(`[e2e] ${l}\n`));
    this.realiser = new DockerRealiser({
      docker: this.docker,
      runId: this.runId,
      imageMap: opts.imageMap,
      log: this.log,
      convergeTimeoutMs: opts.convergeTimeoutMs,
    });
    const providers: Record<string, ProviderPort> = {
      docker: dockerProvider(this.realiser),
      tls: tlsProvider(),
      random: randomProvider(),
    };
    this.engine = new DeployEngine((type) => {
      const provider = providers[type.split(":")[0]];
      if (!provider) throw new Error(`e2e harness: unsupported resource type ${type}`);
      return provider;
    });
  }

  /** Docker objects created and not yet deleted or torn down. */
  get created(): readonly CreatedObject[] {
    return this.realiser.created;
  }

  /** The resources in the stack's state now, as the program last saw them. */
  get resources(): RealisedResource[] {
    return [...this.engine.state.values()]
      .filter((e) => e.custom)
      .map((e) => ({ type: e.type, name: e.name, id: e.id, state: e.outputs }));
  }

  /** Steps of the last update. */
  get steps(): readonly Step[] {
    return this.engine.steps;
  }

  /** Used by runProgram: the registrations of the program run under way. */
  attach(runtime: MockedRuntime): void {
    this.runtime = runtime;
  }

  async newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    this.inFlight++;
    try {
      if (args.type.startsWith("pulumi:providers:")) return { id: `${args.name}-provider`, state: args.inputs };
      if (args.id)
        throw new Error(
          `e2e harness: reading existing resources is not supported (${args.type} ${args.name} id=${args.id})`,
        );
      const registration = this.runtime?.registration(args.type, args.name);
      if (!registration) throw new Error(`e2e harness: no registration seen for ${args.type} ${args.name}`);
      if (registration.ignoreChanges.length > 0) {
        throw new Error(`e2e harness: ignoreChanges is not modelled (${args.type} ${args.name})`);
      }
      const result = await this.engine.register(registration, unwrapSecrets(args.inputs ?? {}));
      return { id: result.id, state: result.state };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.fail(e);
      this.log(`FAILED ${args.type} ${args.name}: ${e.message}`);
      throw e;
    } finally {
      this.inFlight--;
    }
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    const e = new Error(`e2e harness: unexpected provider function call ${args.token}`);
    this.fail(e);
    throw e;
  }

  private fail(e: Error): void {
    this.failures.push(e);
    for (const l of this.failureListeners) l(e);
  }

  /** Calls `listener` on every failure from now on (a failed resource leaves dependent outputs unresolved forever). */
  onFailure(listener: (e: Error) => void): void {
    this.failureListeners.push(listener);
  }

  /** Realised resources of one type (e.g. "tls:index/selfSignedCert:SelfSignedCert"), as the state holds them now. */
  byType(type: string): RealisedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** The realised resource with this type and logical name; throws if absent. */
  get(type: string, name: string): RealisedResource {
    const r = this.resources.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`e2e harness: no ${type} named ${name} was realised`);
    return r;
  }

  /** Resolves when no registration has been in flight for `quietMs`. */
  async idle(quietMs = 300): Promise<void> {
    let quietSince = Date.now();
    for (;;) {
      if (this.inFlight > 0) quietSince = Date.now();
      else if (Date.now() - quietSince >= quietMs) return;
      await sleep(50);
    }
  }

  /** Removes every Docker object of this run (see DockerRealiser.teardown); safe to call repeatedly. */
  teardown(opts: { timeoutMs?: number } = {}): Promise<TeardownReport> {
    return this.realiser.teardown(opts);
  }
}

export function createHarness(opts: HarnessOptions = {}): E2eHarness {
  return new E2eHarness(opts);
}

export interface RunProgramOptions {
  project?: string;
  stack?: string;
  /** Stack config as `pulumi config` would hold it: keys like "iot-swarm-net:environment". */
  config?: Record<string, string>;
  /** Config keys to treat as secrets. */
  secretKeys?: string[];
  /** Read every resource back before diffing (`pulumi up --refresh`). */
  refresh?: boolean;
}

export interface ProgramRun {
  /** The program's exports, resolved to plain values. */
  readonly outputs: Record<string, unknown>;
  /** The steps `pulumi up` would have taken, in order. */
  readonly steps: readonly Step[];
  readonly counts: Record<StepOp, number>;
}

/**
 * Loads the program (index.ts and the model and components it imports) afresh, so a second run registers
 * every resource again as `pulumi up` would.
 */
export function loadProgram(programFile: string): () => unknown {
  const root = path.dirname(programFile);
  const own = (file: string) =>
    file === require.resolve(programFile) ||
    file.startsWith(path.join(root, "model") + path.sep) ||
    file.startsWith(path.join(root, "components") + path.sep);
  return () => {
    for (const file of Object.keys(require.cache)) if (own(file)) delete require.cache[file];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(programFile);
  };
}

/**
 * One `pulumi up` of a program against the harness: installs the mocks and config, loads the program, waits
 * for every registration, runs the update's deletes, and returns the exports and the steps taken. Throws if
 * any step failed. Call it again with the same harness (changed config or not) for the next update.
 */
let programRuns = 0;
/**
 * Whether a program run is under way. Its failed outputs surface as unhandled rejections, which
 * runProgram collects and reports with the resource that failed; a run's own handler leaves them to it.
 */
export const programRunning = (): boolean => programRuns > 0;

export async function runProgram(
  harness: E2eHarness,
  load: () => unknown,
  opts: RunProgramOptions = {},
): Promise<ProgramRun> {
  await harness.engine.begin({ refresh: opts.refresh });
  harness.failures.length = 0;
  if (opts.config) pulumi.runtime.setAllConfig(opts.config, opts.secretKeys);
  harness.attach(await setMocksWithRegistrations(harness, opts.project ?? "iot-swarm-net", opts.stack ?? "e2e"));
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on("unhandledRejection", onRejection);
  programRuns++;
  // Outputs that depend on a failed resource never resolve: race them against the first failure,
  // and keep the event loop alive meanwhile (otherwise node exits quietly with nothing pending).
  let failed!: (e: Error) => void;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  failure.catch(() => undefined);
  harness.onFailure((e) => failed(e));
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    const mod = (await Promise.race([Promise.resolve(load()), failure])) as Record<string, unknown> | undefined;
    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(mod ?? {})) {
      // A dynamic import() of the CommonJS program also lists the whole module as `default`.
      if (k === "__esModule" || k === "default") continue;
      outputs[k] = await Promise.race([
        new Promise((resolve) => pulumi.output(v as any).apply((x: unknown) => resolve(x))),
        failure,
      ]);
    }
    await Promise.race([waitForRegistrations(), failure]);
    await harness.idle();
    const errors = [...harness.failures, ...rejections];
    if (errors.length) {
      throw new Error(
        `e2e harness: program failed: ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join(" | ")}`,
      );
    }
    await harness.engine.finish();
    return { outputs, steps: [...harness.engine.steps], counts: harness.engine.counts() };
  } catch (err) {
    // Let in-flight steps finish, so teardown sees every object they made.
    await harness.idle();
    throw err;
  } finally {
    clearInterval(keepAlive);
    programRuns--;
    process.off("unhandledRejection", onRejection);
  }
}
