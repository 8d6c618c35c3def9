/**
 * One view of what runs: a Swarm service (`docker.Service`) or a plain container (`docker.Container`),
 * normalised so the port, hardening and segmentation rules are written once for both.
 */
import * as docker from "@pulumi/docker";
import { ReportViolation, ResourceValidation, ResourceValidationArgs, validateResourceOfType } from "@pulumi/policy";
import { LabelCredential, parseCredentialsLabel } from "./credentials";
import { parseFlowsLabel } from "./flows";
import { PropertyPath, secretAt } from "./secrets";
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

/**
 * Label keys the iot-swarm-net program writes (components/labels.ts; tests/contracts holds the two in step);
 * any stack may carry them to declare its intent.
 */
export const LABEL = {
  /** The service's logical name when its Docker name differs (`grafana` for `grafana-1a2b3c4d`). */
  service: "iot.service",
  stack: "iot.stack",
  environment: "iot.environment",
  role: "iot.role",
  tiers: "iot.tiers",
  flows: "iot.flows",
  credentials: "iot.credentials",
  sharedCredentials: "iot.shared-credentials",
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

/** A value the workload is given, and whether it was a Pulumi secret (see lib/secrets.ts `secretAt`). */
export interface GivenValue {
  readonly value: Maybe<string>;
  readonly secret?: "encrypted" | "plaintext";
}

export interface EnvEntry extends GivenValue {
  /** The variable's name; `*` when the whole environment is one encrypted secret. */
  readonly name: string;
}

export interface CommandLine {
  /** `command`: entrypoint/commands followed by args; `healthcheck`: the health check's test. */
  readonly source: "command" | "healthcheck";
  readonly args: readonly GivenValue[];
}

export interface WorkloadView {
  readonly kind: "service" | "container";
  /**
   * Logical name: the `iot.service` label when present (a Docker name may carry a generation suffix),
   * else the Docker name (the Pulumi name when unset). Flows and tiers name workloads by it.
   */
  readonly name: string;
  /** Docker name of the service or container (the Pulumi name when unset). */
  readonly dockerName: string;
  readonly labels: ReadonlyMap<string, string>;
  readonly role?: string;
  readonly tiers: readonly string[];
  /** Declared outgoing flows from the `iot.flows` label: `server` or `server:port`. */
  readonly flows: readonly { readonly server: string; readonly port?: number }[];
  /** Credentials it holds as a client, from the `iot.credentials` label: `server:credential`. */
  readonly credentials: readonly LabelCredential[];
  /** Entries of `iot.shared-credentials`: credentials (or secret names) it holds by design with others. */
  readonly sharedCredentials: readonly string[];
  /** The Swarm secrets a service mounts, known ones only: `key` is the id (the name when the id is unknown). */
  readonly secretRefs: readonly { readonly key: string; readonly name?: string }[];
  readonly image: Maybe<string>;
  readonly ports: readonly PortView[] | typeof UNKNOWN;
  /** Environment as name/value; the value is `UNKNOWN` when computed or encrypted. */
  readonly env: readonly EnvEntry[];
  readonly commandLines: readonly CommandLine[];
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
  return {
    role: labels.get(LABEL.role) || undefined,
    tiers: commaList(labels.get(LABEL.tiers)),
    flows: parseFlowsLabel(labels.get(LABEL.flows)),
    credentials: parseCredentialsLabel(labels.get(LABEL.credentials)),
    sharedCredentials: commaList(labels.get(LABEL.sharedCredentials)),
  };
}

function names(props: unknown, labels: ReadonlyMap<string, string>, resourceName: string) {
  const name = str(at(props, "name"));
  const dockerName = isKnown(name) ? name : resourceName;
  return { name: labels.get(LABEL.service) || dockerName, dockerName };
}

/** A value at `path` of `props`, with its secrecy. */
function given(props: unknown, path: PropertyPath): GivenValue {
  const secret = secretAt(props, path);
  const value = str(at(props, ...path));
  return secret === undefined ? { value } : { value, secret };
}

/** Environment from a `{ NAME: value }` map (services) at `path`. */
function envFromMap(props: unknown, path: PropertyPath): EnvEntry[] {
  const value = at(props, ...path);
  if (value === UNKNOWN) {
    const secret = secretAt(props, path);
    return secret === undefined ? [] : [{ name: "*", value: UNKNOWN, secret }];
  }
  if (value === null || typeof value !== "object") return [];
  return Object.keys(value).map((name) => ({ name, ...given(props, [...path, name]) }));
}

/** Environment from a `["NAME=value"]` list (containers) at `path`. */
function envFromList(props: unknown, path: PropertyPath): EnvEntry[] {
  const items = arr(at(props, ...path));
  if (items === UNKNOWN) {
    const secret = secretAt(props, path);
    return secret === undefined ? [] : [{ name: "*", value: UNKNOWN, secret }];
  }
  return items.flatMap((_, i): EnvEntry[] => {
    const { value, secret } = given(props, [...path, i]);
    if (!isKnown(value)) return secret === undefined ? [] : [{ name: `${path.join(".")}[${i}]`, value, secret }];
    const eq = value.indexOf("=");
    const entry = eq < 0 ? { name: value, value: "" } : { name: value.slice(0, eq), value: value.slice(eq + 1) };
    return [secret === undefined ? entry : { ...entry, secret }];
  });
}

/** The elements of the string lists at `paths`, in order, as one command line. */
function commandLine(props: unknown, source: CommandLine["source"], paths: readonly PropertyPath[]): CommandLine {
  const args = paths.flatMap((path): GivenValue[] => {
    const items = arr(at(props, ...path));
    if (items === UNKNOWN) {
      const secret = secretAt(props, path);
      return [secret === undefined ? { value: UNKNOWN } : { value: UNKNOWN, secret }];
    }
    return items.map((_, i) => given(props, [...path, i]));
  });
  return { source, args };
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

/** The known ids (or, without one, names) of the Swarm secrets a service's container mounts. */
function secretRefs(value: unknown): WorkloadView["secretRefs"] {
  const items = arr(value);
  if (items === UNKNOWN) return [];
  return items.flatMap((item) => {
    const id = str(at(item, "secretId"));
    const name = str(at(item, "secretName"));
    const known = isKnown(name) ? { name } : {};
    if (isKnown(id)) return [{ key: id, ...known }];
    return isKnown(name) ? [{ key: name, name }] : [];
  });
}

/** A `docker.Service`'s props (inputs or outputs) as a workload. */
export function serviceView(props: unknown, resourceName: string): WorkloadView {
  const labels = labelsOf(props);
  const spec = ["taskSpec", "containerSpec"];
  const container = at(props, ...spec);
  const portItems = arr(at(props, "endpointSpec", "ports"));
  const networks = arr(at(props, "taskSpec", "networksAdvanceds"));
  const capDrop = arr(at(container, "capDrops"));
  return {
    kind: "service",
    ...names(props, labels, resourceName),
    labels,
    ...intentFromLabels(labels),
    image: str(at(container, "image")),
    secretRefs: secretRefs(at(container, "secrets")),
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
    env: envFromMap(props, [...spec, "env"]),
    commandLines: [
      commandLine(props, "command", [
        [...spec, "commands"],
        [...spec, "args"],
      ]),
      commandLine(props, "healthcheck", [[...spec, "healthcheck", "tests"]]),
    ],
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
  const portItems = arr(at(props, "ports"));
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
    ...names(props, labels, resourceName),
    labels,
    ...intentFromLabels(labels),
    image: str(at(props, "image")),
    // A plain container mounts no Swarm secret.
    secretRefs: [],
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
    env: envFromList(props, ["envs"]),
    commandLines: [
      commandLine(props, "command", [["entrypoints"], ["command"]]),
      commandLine(props, "healthcheck", [["healthcheck", "tests"]]),
    ],
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

/** `service "redis"` / `container "legacy-redis"` / `service "grafana" (grafana-1a2b3c4d)` for messages. */
export function describe(w: WorkloadView): string {
  return `${w.kind} "${w.name}"${w.dockerName !== w.name ? ` (${w.dockerName})` : ""}`;
}

/** Whether the workload is named (logical or Docker name), or carries the role, in `allowed`. */
export function matchesNameOrRole(w: WorkloadView, allowed: readonly string[]): boolean {
  return (
    allowed.includes(w.name) || allowed.includes(w.dockerName) || (w.role !== undefined && allowed.includes(w.role))
  );
}
