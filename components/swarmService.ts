import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ServiceFiles } from "../model/files";
import { ServiceSpec, Topology } from "../model/types";
import { LABELS, toLabelList } from "./labels";
import { createSwarmFile, PlaceholderResolver, SwarmFile } from "./swarmFile";

export interface SwarmServiceArgs {
  readonly spec: ServiceSpec;
  readonly topology: Topology;
  readonly files: ServiceFiles;
  readonly resolve: PlaceholderResolver;
  /** Ids of the networks this service joins. */
  readonly networkIds: readonly pulumi.Input<string>[];
  readonly stack: string;
}

const seconds = (s: number) => `${s}s`;

/** One hardened Swarm service with its configs and secrets. */
export class SwarmService extends pulumi.ComponentResource {
  public readonly service: docker.Service;
  public readonly files: readonly SwarmFile[];
  public readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: SwarmServiceArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("iot-swarm-net:swarm:SwarmService", name, {}, opts);
    const { spec, topology } = args;
    this.files = args.files.files.map((f) => createSwarmFile(name, spec.name, f, args.resolve, this));
    const owner = { fileUid: String(spec.uid), fileGid: String(spec.gid) };
    const published = spec.ports.filter((p) => p.published !== undefined);
    // Host-mode ports and singletons cannot run old and new task side by side.
    const order =
      spec.singleton || (published.length > 0 && topology.publishMode === "host") ? "stop-first" : "start-first";
    const flows = topology.flows.filter((f) => f.from === spec.name).map((f) => `${f.to}:${f.port}`);

    this.service = new docker.Service(
      name,
      {
        name: spec.name,
        labels: toLabelList({
          [LABELS.stack]: args.stack,
          [LABELS.environment]: topology.environment,
          [LABELS.role]: spec.role,
          [LABELS.tiers]: spec.tiers.join(","),
          [LABELS.flows]: flows.join(","),
        }),
        mode: { replicated: { replicas: spec.replicas } },
        endpointSpec: {
          mode: spec.endpointMode,
          ports: published.map((p) => ({
            name: p.name,
            protocol: p.protocol,
            targetPort: p.port,
            publishedPort: p.published,
            publishMode: topology.publishMode,
          })),
        },
        taskSpec: {
          containerSpec: {
            image: spec.image,
            commands: spec.command ? [...spec.command] : undefined,
            args: spec.args ? [...spec.args] : undefined,
            env: { ...spec.env, ...args.files.env },
            user: `${spec.uid}:${spec.gid}`,
            readOnly: spec.readOnlyRootFilesystem,
            capDrops: [...spec.capDrop],
            capAdds: spec.capAdd.length > 0 ? [...spec.capAdd] : undefined,
            healthcheck: {
              tests: [...spec.health.test],
              interval: seconds(spec.health.intervalSeconds),
              timeout: seconds(spec.health.timeoutSeconds),
              retries: spec.health.retries,
              startPeriod: seconds(spec.health.startPeriodSeconds),
            },
            secrets: this.files
              .filter((f) => f.spec.kind === "secret")
              .map((f) => ({
                secretId: f.id,
                secretName: f.objectName,
                fileName: f.spec.target,
                fileMode: f.spec.mode,
                ...owner,
              })),
            configs: this.files
              .filter((f) => f.spec.kind === "config")
              .map((f) => ({
                configId: f.id,
                configName: f.objectName,
                fileName: f.spec.target,
                fileMode: f.spec.mode,
                ...owner,
              })),
            mounts: [
              ...spec.volumes.map((v) => ({ type: "volume", source: `${args.stack}_${v.name}`, target: v.target })),
              ...spec.tmpfs.map((target) => ({
                type: "tmpfs",
                target,
                tmpfsOptions: { sizeBytes: 64 * 1024 * 1024, mode: 0o1777 },
              })),
            ],
            stopGracePeriod: "20s",
          },
          // `id`, not the deprecated `name`: the provider reads back only `id`, so a name would replace the
          // service on every run (networks_advanced is ForceNew).
          networksAdvanceds: args.networkIds.map((id) => ({ id, aliases: [...spec.aliases] })),
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
          restartPolicy: { condition: "on-failure", delay: "5s", maxAttempts: 5, window: "120s" },
          placement: { constraints: [...spec.placement] },
        },
        updateConfig: {
          parallelism: 1,
          delay: "10s",
          failureAction: "rollback",
          monitor: "30s",
          maxFailureRatio: "0",
          order,
        },
        rollbackConfig: {
          parallelism: 1,
          delay: "5s",
          failureAction: "pause",
          monitor: "30s",
          maxFailureRatio: "0",
          order,
        },
        // Without it a failed rollout reports success.
        convergeConfig: { delay: "5s", timeout: "5m" },
      },
      { parent: this },
    );
    this.serviceName = this.service.name;
    this.registerOutputs({ serviceName: this.serviceName });
  }
}
