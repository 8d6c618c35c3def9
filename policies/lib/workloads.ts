/**
 * One view of what runs: a Swarm service (`docker.Service`) or a plain container (`docker.Container`),
 * normalised so the port, hardening and segmentation rules are written once for both.
 */
import * as docker from "@pulumi/docker";
import { ReportViolation, ResourceValidation, ResourceValidationArgs, validateResourceOfType } from "@pulumi/policy";
import { arr, at, bool, commaList, isKnown, labelsOf, Maybe, num, str, strings, UNKNOWN } from "./values";

export const TYPES = {
  service: "docker:index/service:Service",
  container: "docker:index/container:Container",
  network: "docker:index/network:Network",
  secret: "docker:index/secret:Secret",
  serviceConfig: "docker:index/serviceConfig:ServiceConfig",
  privateKey: "tls:index/privateKey:PrivateKey",
  selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
  locallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
  certRequest: "tls:index/certRequest:CertRequest",
} as const;

/** Label keys the iot-swarm-net program writes; any stack may carry them to declare its intent. */
export const LABEL = {
  stack: "iot.stack",
  environment: "iot.environment",
  role: "iot.role",
  tiers: "iot.tiers",
  flows: "iot.flows",
  networkKind: "iot.network-kind",
} as const;

export interface PortView {
  /** Port inside the container. */
  readonly target: Maybe<number>;
  /** Host port; `undefined` means Docker picks a random one (the port is still published). */
  readonly published: Maybe<number>;
  readonly protocol: string;
  /** Swarm publish mode (`ingress` by default); containers publish on the host. */
  readonly mode: Maybe<string>;
  /** Host interface a container binds to (`0.0.0.0` by default). */
  readonly hostIp: Maybe<string>;
}

export interface MountView {
  readonly type: Maybe<string>;
  /** Host path for binds, volume name for volumes. */
  readonly source: Maybe<string>;
  readonly target: Maybe<string>;
}

export interface NetworkRef {
  /** Network id or name as written; `UNKNOWN` during a preview that creates the network. */
  readonly ref: Maybe<string>;
}

export interface WorkloadView {
  readonly kind: "service" | "container";
  /** Docker name of the service or container (the Pulumi name when unset). */
  readonly name: string;
  readonly labels: ReadonlyMap<string, string>;
  readonly role?: string;
  readonly tiers: readonly string[];
  /** Declared outgoing flows from the `iot.flows` label: `server` or `server:port`. */
  readonly flows: readonly { readonly server: string; readonly port?: number }[];
  readonly image: Maybe<string>;
  readonly ports: readonly PortView[] | typeof UNKNOWN;
  /** Environment as name/value; the value is `UNKNOWN` when computed. */
  readonly env: readonly { readonly name: string; readonly value: Maybe<string> }[];
  readonly mounts: readonly MountView[];
  readonly capAdd: readonly string[];
  readonly capDrop: Maybe<readonly string[]>;
  /** `set`, `missing`, `disabled` (`NONE`) or `UNKNOWN`. */
  readonly healthcheck: "set" | "missing" | "disabled" | typeof UNKNOWN;
  readonly memoryLimitBytes: Maybe<number>;
  readonly restart: { readonly condition: Maybe<string>; readonly maxAttempts: Maybe<number> };
  readonly user: Maybe<string>;
  readonly readOnlyRootFilesystem: Maybe<boolean>;
  readonly privileged: Maybe<boolean>;
  readonly namespaces: { readonly pid: Maybe<string>; readonly ipc: Maybe<string>; readonly userns: Maybe<string> };
  readonly securityOpts: readonly string[] | typeof UNKNOWN;
  /** `networkMode` of a container (`bridge` when unset); services have none. */
  readonly networkMode: Maybe<string>;
  readonly networks: readonly NetworkRef[] | typeof UNKNOWN;
}

const normaliseCap = (cap: string) => cap.trim().toUpperCase().replace(/^CAP_/, "");

function intentFromLabels(labels: ReadonlyMap<string, string>) {
  const flows = commaList(labels.get(LABEL.flows)).map((entry) => {
    const [server, port] = entry.split(":");
    return { server: server.trim(), port: port !== undefined && /^\d+$/.test(port.trim()) ? Number(port) : undefined };
  });
  return { role: labels.get(LABEL.role) || undefined, tiers: commaList(labels.get(LABEL.tiers)), flows };
}

function mountsOf(value: unknown): MountView[] {
  const items = arr(value);
  if (items === UNKNOWN) return [{ type: UNKNOWN, source: UNKNOWN, target: UNKNOWN }];
  return items.map((m) => ({ type: str(at(m, "type")), source: str(at(m, "source")), target: str(at(m, "target")) }));
}

function healthOf(value: unknown): WorkloadView["healthcheck"] {
  if (value === UNKNOWN) return UNKNOWN;
  if (value === undefined) return "missing";
  const tests = arr(at(value, "tests"));
  if (tests === UNKNOWN) return UNKNOWN;
  if (tests.length === 0) return "missing";
  const first = str(tests[0]);
  if (first === UNKNOWN) return UNKNOWN;
  return first === "NONE" ? "disabled" : "set";
}

/** A `docker.Service`'s props (inputs or outputs) as a workload. */
export function serviceView(props: unknown, resourceName: string): WorkloadView {
  const labels = labelsOf(props);
  const container = at(props, "taskSpec", "containerSpec");
  const name = str(at(props, "name"));
  const portItems = arr(at(props, "endpointSpec", "ports"));
  const envValue = at(container, "env");
  const env =
    envValue !== null && typeof envValue === "object"
      ? Object.entries(envValue as Record<string, unknown>).map(
          ([key, value]): { name: string; value: Maybe<string> } => ({ name: key, value: str(value) }),
        )
      : [];
  const networks = arr(at(props, "taskSpec", "networksAdvanceds"));
  const capDrop = arr(at(container, "capDrops"));
  return {
    kind: "service",
    name: isKnown(name) ? name : resourceName,
    labels,
    ...intentFromLabels(labels),
    image: str(at(container, "image")),
    ports:
      portItems === UNKNOWN
        ? UNKNOWN
        : portItems.map((p) => ({
            target: num(at(p, "targetPort")),
            published: num(at(p, "publishedPort")),
            protocol: (() => {
              const protocol = str(at(p, "protocol"));
              return isKnown(protocol) ? protocol : "tcp";
            })(),
            mode: str(at(p, "publishMode")) ?? "ingress",
            hostIp: undefined,
          })),
    env,
    mounts: mountsOf(at(container, "mounts")),
    capAdd: strings(at(container, "capAdds")).map(normaliseCap),
    capDrop:
      capDrop === UNKNOWN ? UNKNOWN : capDrop.filter((c): c is string => typeof c === "string").map(normaliseCap),
    healthcheck: healthOf(at(container, "healthcheck")),
    memoryLimitBytes: num(at(props, "taskSpec", "resources", "limits", "memoryBytes")),
    restart: {
      condition:
        at(props, "taskSpec", "restartPolicy") === undefined
          ? undefined
          : (str(at(props, "taskSpec", "restartPolicy", "condition")) ?? "any"),
      maxAttempts: num(at(props, "taskSpec", "restartPolicy", "maxAttempts")),
    },
    user: str(at(container, "user")),
    readOnlyRootFilesystem: bool(at(container, "readOnly")),
    // Swarm services cannot run privileged or join host namespaces other than the network.
    privileged: undefined,
    namespaces: { pid: undefined, ipc: undefined, userns: undefined },
    securityOpts: [],
    networkMode: undefined,
    networks: networks === UNKNOWN ? UNKNOWN : networks.map(networkRef),
  };
}

/**
 * A `networksAdvanced(s)` entry: the network's id in `id` (what the provider reads back), or in the
 * deprecated `name` field that older programs and stacks still carry (also an id or a name).
 */
function networkRef(entry: unknown): NetworkRef {
  const id = str(at(entry, "id"));
  return { ref: id !== undefined ? id : str(at(entry, "name")) };
}

/** A `docker.Container`'s props as a workload. */
export function containerView(props: unknown, resourceName: string): WorkloadView {
  const labels = labelsOf(props);
  const name = str(at(props, "name"));
  const portItems = arr(at(props, "ports"));
  const env = strings(at(props, "envs")).map((entry) => {
    const i = entry.indexOf("=");
    return i < 0 ? { name: entry, value: "" } : { name: entry.slice(0, i), value: entry.slice(i + 1) };
  });
  const volumes = arr(at(props, "volumes"));
  const volumeMounts: MountView[] =
    volumes === UNKNOWN
      ? [{ type: UNKNOWN, source: UNKNOWN, target: UNKNOWN }]
      : volumes.map((v) => {
          const hostPath = str(at(v, "hostPath"));
          return hostPath !== undefined
            ? { type: "bind", source: hostPath, target: str(at(v, "containerPath")) }
            : { type: "volume", source: str(at(v, "volumeName")), target: str(at(v, "containerPath")) };
        });
  const networks = arr(at(props, "networksAdvanced"));
  const capDrop = arr(at(props, "capabilities", "drops"));
  const memoryMb = num(at(props, "memory"));
  const securityOpts = arr(at(props, "securityOpts"));
  return {
    kind: "container",
    name: isKnown(name) ? name : resourceName,
    labels,
    ...intentFromLabels(labels),
    image: str(at(props, "image")),
    ports:
      portItems === UNKNOWN
        ? UNKNOWN
        : portItems.map((p) => ({
            target: num(at(p, "internal")),
            published: num(at(p, "external")),
            protocol: (() => {
              const protocol = str(at(p, "protocol"));
              return isKnown(protocol) ? protocol : "tcp";
            })(),
            mode: "host",
            hostIp: str(at(p, "ip")) ?? "0.0.0.0",
          })),
    env,
    mounts: [...mountsOf(at(props, "mounts")), ...volumeMounts],
    capAdd: strings(at(props, "capabilities", "adds")).map(normaliseCap),
    capDrop:
      capDrop === UNKNOWN ? UNKNOWN : capDrop.filter((c): c is string => typeof c === "string").map(normaliseCap),
    healthcheck: healthOf(at(props, "healthcheck")),
    // The provider takes the container's memory limit in MB.
    memoryLimitBytes: isKnown(memoryMb) ? memoryMb * 1024 * 1024 : memoryMb,
    restart: { condition: str(at(props, "restart")) ?? "no", maxAttempts: num(at(props, "maxRetryCount")) },
    user: str(at(props, "user")),
    readOnlyRootFilesystem: bool(at(props, "readOnly")),
    privileged: bool(at(props, "privileged")),
    namespaces: {
      pid: str(at(props, "pidMode")),
      ipc: str(at(props, "ipcMode")),
      userns: str(at(props, "usernsMode")),
    },
    securityOpts: securityOpts === UNKNOWN ? UNKNOWN : securityOpts.filter((o): o is string => typeof o === "string"),
    networkMode: str(at(props, "networkMode")) ?? "bridge",
    networks: networks === UNKNOWN ? UNKNOWN : networks.map(networkRef),
  };
}

export type WorkloadCheck = (
  workload: WorkloadView,
  args: ResourceValidationArgs,
  reportViolation: ReportViolation,
) => void;

/** Validations for both `docker.Service` and `docker.Container`, each through `validateResourceOfType`. */
export function forWorkloads(check: WorkloadCheck): ResourceValidation[] {
  return [
    validateResourceOfType(docker.Service, (props, args, report) => check(serviceView(props, args.name), args, report)),
    validateResourceOfType(docker.Container, (props, args, report) =>
      check(containerView(props, args.name), args, report),
    ),
  ];
}

/** `"redis"` (service) / `container "legacy-redis"` for messages. */
export function describe(w: WorkloadView): string {
  return w.kind === "service" ? `service "${w.name}"` : `container "${w.name}"`;
}

/** Whether the workload is named, or carries the role, in `allowed`. */
export function matchesNameOrRole(w: WorkloadView, allowed: readonly string[]): boolean {
  return allowed.includes(w.name) || (w.role !== undefined && allowed.includes(w.role));
}
