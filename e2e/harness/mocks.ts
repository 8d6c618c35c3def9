/**
 * The e2e harness: a `pulumi.runtime.Mocks` that stands in for the Pulumi docker, tls and
 * random providers. Under `pulumi.runtime.setMocks` the real program runs in-process; every
 * docker resource it declares is created for real on the local Swarm, every tls resource is
 * real X.509 and every random password is drawn from the CSPRNG, so probes can test the
 * deployed stack. Nothing else is faked: any other
 * resource type or provider function call throws.
 */
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import Docker from "dockerode";
import { DockerRealiser, CreatedObject, TeardownReport } from "./docker";
import { realiseRandom } from "./random";
import { realiseTls } from "./tls";
import { sleep } from "./swarm";

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

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Mock inputs keep Pulumi's secret wrapper ({sig, value}); providers see plain values. */
export function unwrapSecrets(v: unknown): any {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v && typeof v === "object" && !Buffer.isBuffer(v)) {
    const o = v as Record<string, unknown>;
    if (o[SECRET_SIG_KEY] === SECRET_SIG) return unwrapSecrets(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
  }
  return v;
}

export class E2eHarness implements pulumi.runtime.Mocks {
  readonly docker: Docker;
  readonly runId: string;
  /** Every resource realised, in creation order (tls, docker, components, providers). */
  readonly resources: RealisedResource[] = [];
  /** Errors thrown back to the program, so a run can fail loudly even if the program swallows them. */
  readonly failures: Error[] = [];
  private readonly realiser: DockerRealiser;
  private readonly log: (line: string) => void;
  private inFlight = 0;
  private readonly failureListeners: ((e: Error) => void)[] = [];

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
  }

  /** Docker objects created and not yet torn down. */
  get created(): readonly CreatedObject[] {
    return this.realiser.created;
  }

  async newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    this.inFlight++;
    try {
      const result = await this.realise(args);
      this.resources.push({ type: args.type, name: args.name, id: result.id, state: result.state });
      return result;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.fail(e);
      this.log(`FAILED ${args.type} ${args.name}: ${e.message}`);
      throw e;
    } finally {
      this.inFlight--;
    }
  }

  private async realise(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    const inputs = unwrapSecrets(args.inputs ?? {}) as Record<string, any>;
    // Explicit providers (new docker.Provider(...)) and component resources carry no objects.
    if (args.type.startsWith("pulumi:providers:")) return { id: `${args.name}-provider`, state: inputs };
    if (args.custom === false) return { id: undefined, state: inputs };
    if (args.id)
      throw new Error(
        `e2e harness: reading existing resources is not supported (${args.type} ${args.name} id=${args.id})`,
      );
    if (args.type.startsWith("tls:")) {
      return {
        id: `${args.name}-${crypto.randomBytes(6).toString("hex")}`,
        state: await realiseTls(args.type, inputs),
      };
    }
    if (args.type.startsWith("random:")) {
      return {
        id: `${args.name}-${crypto.randomBytes(6).toString("hex")}`,
        state: await realiseRandom(args.type, inputs),
      };
    }
    if (args.type.startsWith("docker:")) return this.realiser.create(args.type, args.name, inputs);
    throw new Error(`e2e harness: unsupported resource type ${args.type} (${args.name})`);
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

  /** Realised resources of one type (e.g. "tls:index/selfSignedCert:SelfSignedCert"). */
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
}

/**
 * Runs a Pulumi program against the harness: installs the mocks and config, loads the
 * program (e.g. `() => require("../../index")`), waits for every registration and returns
 * the program's exports resolved to plain values. Throws if any resource failed.
 */
export async function runProgram(
  harness: E2eHarness,
  load: () => unknown,
  opts: RunProgramOptions = {},
): Promise<Record<string, unknown>> {
  await pulumi.runtime.setMocks(harness, opts.project ?? "iot-swarm-net", opts.stack ?? "e2e", false);
  if (opts.config) pulumi.runtime.setAllConfig(opts.config, opts.secretKeys);
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  process.on("unhandledRejection", onRejection);
  // Outputs that depend on a failed resource never resolve: race them against the first failure,
  // and keep the event loop alive meanwhile (otherwise node exits quietly with nothing pending).
  let failed!: (e: Error) => void;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  failure.catch(() => undefined);
  if (harness.failures.length) failed(harness.failures[0]);
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
    const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
    if (waitForRPCs) await waitForRPCs();
    await harness.idle();
    const errors = [...harness.failures, ...rejections];
    if (errors.length) {
      throw new Error(
        `e2e harness: program failed: ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join(" | ")}`,
      );
    }
    return outputs;
  } catch (err) {
    // Let in-flight creations finish, so teardown sees every object they made.
    await harness.idle();
    throw err;
  } finally {
    clearInterval(keepAlive);
    process.off("unhandledRejection", onRejection);
  }
}
