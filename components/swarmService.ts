import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ServiceFiles } from "../model/files";
import { discoveryAliases, dockerServiceName, replacementOrder, UpdateOrder, updateOrder } from "../model/rollout";
import { PublishMode, ServiceSpec } from "../model/types";
import { LABELS, toLabelList } from "./labels";
import { failureRatio, goDuration } from "./providerFormat";
import { createSwarmFile, PlaceholderResolver, SwarmFile } from "./swarmFile";

/** How Swarm rolls tasks during an update (or a rollback). */
export interface RolloutSettings {
  /** Tasks changed at once. @default 1 */
  readonly parallelism?: number;
  /** Seconds between batches. @default 10 for updates, 5 for rollbacks */
  readonly delaySeconds?: number;
  /** What a failed batch does. @default "rollback" for updates, "pause" for rollbacks */
  readonly failureAction?: "pause" | "continue" | "rollback";
  /** Seconds each new task is watched before the next batch. @default 30 */
  readonly monitorSeconds?: number;
  /** Share of tasks that may fail (one decimal, as the provider keeps it). @default 0 */
  readonly maxFailureRatio?: number;
  /** Start the new task before stopping the old one. @default model/rollout.ts `updateOrder` */
  readonly order?: UpdateOrder;
}

export interface SwarmServiceArgs {
  /** The service as the model describes it (model/types.ts). */
  readonly spec: ServiceSpec;
  /** Files the service reads and the environment pointing at them (model/files.ts). */
  readonly files: ServiceFiles;
  /** Deploy-time values for the files' placeholders (certificates, keys, passwords). */
  readonly resolve: PlaceholderResolver;
  /** The networks it joins: plan name (part of a create-first service's Docker name) and id. */
  readonly networks: readonly { readonly name: string; readonly id: pulumi.Input<string> }[];
  /** Labels every object of the stack carries (`iot.stack`, `iot.environment`). */
  readonly stackLabels: Readonly<Record<string, string>>;
  /** Prefix of the named volumes: `<volumePrefix>_<volume>`. */
  readonly volumePrefix: string;
  /** Image reference to run, e.g. pinned to a digest. @default spec.image */
  readonly image?: pulumi.Input<string>;
  /** Declared outgoing flows (`server:port`), written to the `iot.flows` label. @default [] */
  readonly flows?: readonly string[];
  /** How published ports are published. @default "ingress" */
  readonly publishMode?: PublishMode;
  /** Credentials it holds as a client (`server:credential`), written to the `iot.credentials` label. @default [] */
  readonly credentials?: readonly string[];
  /** Those of `credentials` held by others too by design, written to `iot.shared-credentials` when any. @default [] */
  readonly sharedCredentials?: readonly string[];
  /** Node platforms its tasks may run on. @default [{ os: "linux", architecture: "amd64" }] */
  readonly platforms?: readonly { readonly os: string; readonly architecture: string }[];
  /** Rolling updates. @default { parallelism: 1, delaySeconds: 10, failureAction: "rollback", monitorSeconds: 30, maxFailureRatio: 0 } */
  readonly update?: RolloutSettings;
  /** Rollbacks. @default { parallelism: 1, delaySeconds: 5, failureAction: "pause", monitorSeconds: 30, maxFailureRatio: 0 } */
  readonly rollback?: RolloutSettings;
  /** Waiting for a rollout before create and update return (without it a failed rollout reports success). @default { delaySeconds: 5, timeoutSeconds: 300 } */
  readonly converge?: { readonly delaySeconds?: number; readonly timeoutSeconds?: number };
  /** Seconds a task gets to stop before it is killed. @default 20 */
  readonly stopGracePeriodSeconds?: number;
}

/** Bounded restarts (CIS 5.15): five attempts in two minutes, then the task stays failed. */
const RESTART_POLICY = { condition: "on-failure", delaySeconds: 5, maxAttempts: 5, windowSeconds: 120 } as const;
const TMPFS_BYTES = 64 * 1024 * 1024;

/** The args with every default applied: the one place defaults live. */
export function withDefaults(args: SwarmServiceArgs) {
  const order = updateOrder(args.spec, args.publishMode ?? "ingress");
  const rollout = (given: RolloutSettings | undefined, delaySeconds: number, failureAction: "rollback" | "pause") => ({
    parallelism: given?.parallelism ?? 1,
    delaySeconds: given?.delaySeconds ?? delaySeconds,
    failureAction: given?.failureAction ?? failureAction,
    monitorSeconds: given?.monitorSeconds ?? 30,
    maxFailureRatio: given?.maxFailureRatio ?? 0,
    order: given?.order ?? order,
  });
  return {
    ...args,
    image: args.image ?? args.spec.image,
    flows: args.flows ?? [],
    credentials: args.credentials ?? [],
    sharedCredentials: args.sharedCredentials ?? [],
    publishMode: args.publishMode ?? "ingress",
    platforms: args.platforms ?? [{ os: "linux", architecture: "amd64" }],
    update: rollout(args.update, 10, "rollback"),
    rollback: rollout(args.rollback, 5, "pause"),
    converge: { delaySeconds: args.converge?.delaySeconds ?? 5, timeoutSeconds: args.converge?.timeoutSeconds ?? 300 },
    stopGracePeriodSeconds: args.stopGracePeriodSeconds ?? 20,
  };
}

type Resolved = ReturnType<typeof withDefaults>;

const rolloutConfig = (r: Resolved["update"]) => ({
  parallelism: r.parallelism,
  delay: goDuration(r.delaySeconds),
  failureAction: r.failureAction,
  monitor: goDuration(r.monitorSeconds),
  maxFailureRatio: failureRatio(r.maxFailureRatio),
  order: r.order,
});

/** The labels the policy pack and operators read: the stack's, plus the service's name, role, tiers, flows and credentials. */
const serviceLabels = (a: Resolved) =>
  toLabelList({
    ...a.stackLabels,
    [LABELS.service]: a.spec.name,
    [LABELS.role]: a.spec.role,
    [LABELS.tiers]: a.spec.tiers.join(","),
    [LABELS.flows]: a.flows.join(","),
    [LABELS.credentials]: a.credentials.join(","),
    ...(a.sharedCredentials.length > 0 ? { [LABELS.sharedCredentials]: a.sharedCredentials.join(",") } : {}),
  });

const endpointSpec = (a: Resolved): docker.types.input.ServiceEndpointSpec => ({
  mode: a.spec.endpointMode,
  ports: a.spec.ports
    .filter((p) => p.published !== undefined)
    .map((p) => ({
      name: p.name,
      protocol: p.protocol,
      targetPort: p.port,
      publishedPort: p.published,
      publishMode: a.publishMode,
    })),
});

/** The service's configs and secrets as files in its tasks, owned by the user it runs as. */
function fileReferences(spec: ServiceSpec, files: readonly SwarmFile[]) {
  const owner = { fileUid: String(spec.uid), fileGid: String(spec.gid) };
  const ofKind = (kind: "secret" | "config") => files.filter((f) => f.spec.kind === kind);
  return {
    secrets: ofKind("secret").map((f) => ({
      secretId: f.id,
      secretName: f.objectName,
      fileName: f.spec.target,
      fileMode: f.spec.mode,
      ...owner,
    })),
    configs: ofKind("config").map((f) => ({
      configId: f.id,
      configName: f.objectName,
      fileName: f.spec.target,
      fileMode: f.spec.mode,
      ...owner,
    })),
  };
}

function containerSpec(a: Resolved, files: readonly SwarmFile[]): docker.types.input.ServiceTaskSpecContainerSpec {
  const { spec } = a;
  const { secrets, configs } = fileReferences(spec, files);
  return {
    image: a.image,
    commands: spec.command ? [...spec.command] : undefined,
    args: spec.args ? [...spec.args] : undefined,
    env: { ...spec.env, ...a.files.env },
    user: `${spec.uid}:${spec.gid}`,
    readOnly: spec.readOnlyRootFilesystem,
    capDrops: [...spec.capDrop],
    capAdds: spec.capAdd.length > 0 ? [...spec.capAdd] : undefined,
    healthcheck: {
      tests: [...spec.health.test],
      interval: goDuration(spec.health.intervalSeconds),
      timeout: goDuration(spec.health.timeoutSeconds),
      retries: spec.health.retries,
      startPeriod: goDuration(spec.health.startPeriodSeconds),
    },
    secrets,
    configs,
    mounts: [
      ...spec.volumes.map((v) => ({ type: "volume", source: `${a.volumePrefix}_${v.name}`, target: v.target })),
      // No mode: the kernel's 1777 for a tmpfs. The provider reads a mode back without its sticky bit,
      // so 0o1777 would show as a change after every refresh.
      ...spec.tmpfs.map((target) => ({ type: "tmpfs", target, tmpfsOptions: { sizeBytes: TMPFS_BYTES } })),
    ],
    stopGracePeriod: goDuration(a.stopGracePeriodSeconds),
  };
}

function taskSpec(a: Resolved, files: readonly SwarmFile[], aliases: string[]): docker.types.input.ServiceTaskSpec {
  const { spec } = a;
  return {
    containerSpec: containerSpec(a, files),
    // `id`, not the deprecated `name`: the provider reads back only `id`, so a name would replace the
    // service on every refresh (networks_advanced is ForceNew). The aliases carry the logical name, so a
    // create-first successor and its original answer to the same discovery names while they overlap.
    networksAdvanceds: a.networks.map((n) => ({ id: n.id, aliases })),
    resources: {
      limits: {
        nanoCpus: Math.round(spec.resources.cpus * 1e9),
        memoryBytes: spec.resources.memoryMb * 1024 * 1024,
      },
      reservation: {
        nanoCpus: Math.round(spec.resources.reservedCpus * 1e9),
        memoryBytes: spec.resources.reservedMemoryMb * 1024 * 1024,
      },
    },
    restartPolicy: {
      condition: RESTART_POLICY.condition,
      delay: goDuration(RESTART_POLICY.delaySeconds),
      maxAttempts: RESTART_POLICY.maxAttempts,
      window: goDuration(RESTART_POLICY.windowSeconds),
    },
    // Platforms too: on create the Docker client adds the image's platforms from its registry, and a
    // placement without them would show as a change on the next run.
    placement: { constraints: [...spec.placement], platforms: a.platforms.map((p) => ({ ...p })) },
  };
}

/**
 * One hardened Swarm service with its configs and secrets. Durations and modes are written in the form the
 * docker provider reads back (components/providerFormat.ts), so an unchanged service shows no change.
 */
export class SwarmService extends pulumi.ComponentResource {
  public readonly service: docker.Service;
  public readonly files: readonly SwarmFile[];
  /** The Docker service name (the logical name, or it with a generation for create-first services). */
  public readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: SwarmServiceArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("iot-swarm-net:swarm:SwarmService", name, {}, opts);
    const a = withDefaults(args);
    const { spec } = a;
    this.files = a.files.files.map((f) => createSwarmFile(name, spec.name, f, a.resolve, this));
    const dockerName = dockerServiceName(
      spec,
      a.networks.map((n) => n.name),
    );
    this.service = new docker.Service(
      name,
      {
        name: dockerName,
        labels: serviceLabels(a),
        mode: { replicated: { replicas: spec.replicas } },
        endpointSpec: endpointSpec(a),
        taskSpec: taskSpec(a, this.files, discoveryAliases(spec, dockerName)),
        updateConfig: rolloutConfig(a.update),
        rollbackConfig: rolloutConfig(a.rollback),
        convergeConfig: { delay: goDuration(a.converge.delaySeconds), timeout: goDuration(a.converge.timeoutSeconds) },
      },
      // model/rollout.ts decides: stateless services without published ports are replaced create-first.
      { parent: this, deleteBeforeReplace: replacementOrder(spec) === "delete-first" },
    );
    this.serviceName = this.service.name;
    this.registerOutputs({ serviceName: this.serviceName });
  }
}
