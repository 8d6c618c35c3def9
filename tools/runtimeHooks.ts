/**
 * The one place that reaches into @pulumi/pulumi's runtime internals. Pulumi's mocks see a resource's type,
 * name and inputs, but not what the engine also receives in the registration request: parent, dependencies,
 * property dependencies and the resource options that decide a replacement (`deleteBeforeReplace`,
 * `replacementTrigger`, `ignoreChanges`). The plan, the policy check and the e2e harness need those, so this
 * module wraps the mock monitor's `registerResource` and reports each request before the mocks see it.
 * tests/day2Inputs.test.ts, through tools/evaluate.ts, fails if a Pulumi upgrade leaves any of it empty (parent,
 * dependencies by property, deleteBeforeReplace, replacementTrigger); tests/day2Noop.test.ts drives it directly.
 */
import * as pulumi from "@pulumi/pulumi";

// Pinned with @pulumi/pulumi (package-lock.json); the internals used are listed in `MonitorInternals`.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings: RuntimeSettings = require("@pulumi/pulumi/runtime/settings");

/** What the program registered for one resource, as the engine would receive it. */
export interface Registration {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  readonly custom: boolean;
  readonly dependencies: readonly string[];
  /** Input property -> resources its value came from. */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  /** `undefined` unless the program set the option (then the provider's choice is overridden). */
  readonly deleteBeforeReplace?: boolean;
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
  /** Set when the program gave `replacementTrigger`; the engine replaces when it differs from the last value. */
  readonly replacementTrigger?: unknown;
}

interface RuntimeSettings {
  getMonitor(): MonitorInternals;
  waitForRPCs(): Promise<void>;
}

interface MonitorInternals {
  registerResource(
    req: RegisterRequest,
    callback: (err: unknown, res: { getUrn(): string } | undefined) => void,
  ): unknown;
  newUrn(parent: string, type: string, name: string): string;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(fn: (deps: { getUrnsList(): string[] }, key: string) => void): void };
  getDeletebeforereplace(): boolean;
  getDeletebeforereplacedefined(): boolean;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  hasReplacementTrigger(): boolean;
  getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
}

function toRegistration(req: RegisterRequest, urn: string): Registration {
  const propertyDependencies: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((deps, key) => (propertyDependencies[key] = deps.getUrnsList()));
  return {
    urn,
    type: req.getType(),
    name: req.getName(),
    parent: req.getParent() || undefined,
    custom: req.getCustom(),
    dependencies: req.getDependenciesList(),
    propertyDependencies,
    deleteBeforeReplace: req.getDeletebeforereplacedefined() ? req.getDeletebeforereplace() : undefined,
    ignoreChanges: req.getIgnorechangesList(),
    replaceOnChanges: req.getReplaceonchangesList(),
    replacementTrigger: req.hasReplacementTrigger() ? req.getReplacementTrigger()?.toJavaScript() : undefined,
  };
}

export interface MockedRuntime {
  /** The registration of a resource whose mock call is under way (by type and name). */
  registration(type: string, name: string): Registration | undefined;
  /** Every registration the engine accepted, in order. */
  readonly registered: Registration[];
}

/**
 * `pulumi.runtime.setMocks`, plus the registration requests: each is reported to `onRegister` before the
 * mocks' `newResource` runs for it, and kept in the returned log once the monitor accepted it.
 */
export async function setMocksWithRegistrations(
  mocks: pulumi.runtime.Mocks,
  project: string,
  stack: string,
  opts: { preview?: boolean; onRegister?: (r: Registration) => void } = {},
): Promise<MockedRuntime> {
  await pulumi.runtime.setMocks(mocks, project, stack, opts.preview ?? false);
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  const pending = new Map<string, Registration>();
  const registered: Registration[] = [];
  monitor.registerResource = (req, callback) => {
    const registration = toRegistration(req, monitor.newUrn(req.getParent(), req.getType(), req.getName()));
    const key = `${registration.type}::${registration.name}`;
    pending.set(key, registration);
    opts.onRegister?.(registration);
    return register(req, (err, res) => {
      pending.delete(key);
      if (!err && res) registered.push({ ...registration, urn: res.getUrn() });
      callback(err, res);
    });
  };
  return { registration: (type, name) => pending.get(`${type}::${name}`), registered };
}

/** Resolves when every registration and output the program started has been sent (the runtime's own wait). */
export function waitForRegistrations(): Promise<void> {
  return settings.waitForRPCs();
}
