/**
 * Test stand-in for the Pulumi docker provider (v5): applies its resources to the local
 * Swarm through the Docker Engine API, records every object, and tears them all down.
 */
import * as crypto from "node:crypto";
import Docker from "dockerode";
import { E2E_LABEL, E2E_RUN_LABEL, e2eLabels } from "./labels";
import { base64Data, desiredReplicas, labelsToMap, networkCreateBody, parseDuration, serviceSpecBody } from "./spec";
import { afterApply, readConfig, readNetwork, readSecret, readService } from "./read";
import { serviceContainers, sleep, waitForService, waitForUpdate } from "./swarm";

export type ObjectKind = "service" | "network" | "secret" | "config" | "volume";

export interface CreatedObject {
  kind: ObjectKind;
  /** Docker id (volume: its name). */
  id: string;
  /** Docker name. */
  name: string;
  /** Pulumi resource token and logical name it was created for. */
  type: string;
  resource: string;
}

export interface TeardownReport {
  removed: CreatedObject[];
  /** Objects found by label that were not in the record (e.g. a probe container, a mount's volume). */
  swept: string[];
  errors: string[];
}

/** Resource tokens this module realises. */
export const DOCKER_TYPES = [
  "docker:index/network:Network",
  "docker:index/secret:Secret",
  "docker:index/serviceConfig:ServiceConfig",
  "docker:index/service:Service",
  "docker:index/volume:Volume",
] as const;

export interface DockerRealiserOptions {
  docker: Docker;
  runId: string;
  imageMap?: (image: string) => string;
  log: (line: string) => void;
  /** Overrides every convergeConfig timeout (ms). */
  convergeTimeoutMs?: number;
}

type Dict = Record<string, any>;

/** resourceDockerNetworkRead's StateChangeConf Delay. */
export const NETWORK_READ_DELAY_MS = 2000;

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}

function messageOf(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string };
  return e?.json?.message ?? e?.message ?? String(err);
}

export class DockerRealiser {
  readonly created: CreatedObject[] = [];
  private readonly docker: Docker;

  constructor(private readonly opts: DockerRealiserOptions) {
    this.docker = opts.docker;
  }

  /** Pulumi autonaming: the logical name plus a random suffix, as the engine would add. */
  private dockerName(inputs: Dict, logical: string): string {
    return inputs.name ?? `${logical}-${crypto.randomBytes(4).toString("hex").slice(0, 7)}`;
  }

  private record(o: CreatedObject): void {
    this.created.push(o);
    this.opts.log(`created ${o.kind} ${o.name} (${o.id.slice(0, 12)}) for ${o.resource}`);
  }

  async create(type: string, logical: string, inputs: Dict): Promise<{ id: string; state: Dict }> {
    const labels = e2eLabels(this.opts.runId, logical);
    const name = this.dockerName(inputs, logical);
    const fail = (err: unknown): never => {
      const hint = statusOf(err) === 409 ? " (left over from an earlier run? e2e/cleanup.sh removes it)" : "";
      throw new Error(`e2e harness: ${type} ${logical} (${name}): ${messageOf(err)}${hint}`);
    };
    const named = { ...inputs, name };
    switch (type) {
      case "docker:index/network:Network": {
        const body = networkCreateBody(name, inputs, labels);
        const net = await this.docker.createNetwork(body as Docker.NetworkCreateOptions).catch(fail);
        this.record({ kind: "network", id: net.id, name, type, resource: logical });
        // The provider's Read waits before its first inspect (resource_docker_network_funcs.go
        // networkReadRefreshDelay): a swarm network inspected at once can still be unallocated, with no
        // driver, options or IPAM driver, and a state holding those would replace it on the next run.
        await sleep(NETWORK_READ_DELAY_MS);
        return { id: net.id, state: await this.applied(type, net.id, named) };
      }
      case "docker:index/secret:Secret": {
        const data = base64Data("secret", inputs.data);
        const secret = await this.docker
          .createSecret({ Name: name, Data: data, Labels: { ...labelsToMap(inputs.labels), ...labels } })
          .catch(fail);
        this.record({ kind: "secret", id: secret.id, name, type, resource: logical });
        return { id: secret.id, state: await this.applied(type, secret.id, named) };
      }
      case "docker:index/serviceConfig:ServiceConfig": {
        const data = base64Data("config", inputs.data, inputs.dataRaw);
        const config = await this.docker
          .createConfig({ Name: name, Data: data, Labels: { ...labelsToMap(inputs.labels), ...labels } })
          .catch(fail);
        this.record({ kind: "config", id: config.id, name, type, resource: logical });
        return { id: config.id, state: await this.applied(type, config.id, named) };
      }
      case "docker:index/volume:Volume": {
        const vol = await this.docker
          .createVolume({
            Name: name,
            Driver: inputs.driver ?? "local",
            DriverOpts: inputs.driverOpts ?? {},
            Labels: { ...labelsToMap(inputs.labels), ...labels },
          })
          .catch(fail);
        this.record({ kind: "volume", id: vol.name, name, type, resource: logical });
        return { id: name, state: { ...named, driver: inputs.driver ?? "local" } };
      }
      case "docker:index/service:Service": {
        if (inputs.auth) this.opts.log(`service ${logical}: registry auth ignored (no registry here)`);
        const spec = serviceSpecBody(name, inputs, { labels, imageMap: this.opts.imageMap });
        // An empty auth object: without it dockerode sends the spec itself as X-Registry-Auth.
        const svc = await this.docker.createService({} as Docker.AuthConfig, spec as Docker.ServiceSpec).catch(fail);
        this.record({ kind: "service", id: svc.id, name, type, resource: logical });
        // As the provider (resource_docker_service_funcs.go resourceDockerServiceCreate): with convergeConfig
        // the create waits for the rollout; a service that does not converge is deleted and the create fails.
        if (inputs.convergeConfig) {
          const { timeoutMs, pollMs } = this.convergeTiming(inputs);
          await waitForService(this.docker, svc.id, { timeoutMs, pollMs, replicas: desiredReplicas(inputs) }).catch(
            async (err) => {
              await this.docker
                .getService(svc.id)
                .remove()
                .catch(() => undefined);
              this.forget(svc.id);
              throw new Error(
                `e2e harness: ${type} ${logical} (${name}) did not converge (deleted, as the provider does): ${messageOf(err)}`,
              );
            },
          );
          this.opts.log(`service ${name} converged`);
        }
        return { id: svc.id, state: await this.applied(type, svc.id, named) };
      }
      default:
        throw new Error(`e2e harness: unsupported docker resource type ${type} (${logical})`);
    }
  }

  private convergeTiming(inputs: Dict): { timeoutMs: number; pollMs: number } {
    const timeoutMs = this.opts.convergeTimeoutMs ?? parseDuration(inputs.convergeConfig?.timeout ?? "3m")! / 1e6;
    const pollMs = Math.min(1000, parseDuration(inputs.convergeConfig?.delay ?? "7s")! / 1e6);
    return { timeoutMs, pollMs };
  }

  /** The provider's Read of a live object (`undefined` when it is gone). */
  async read(type: string, id: string): Promise<Dict | undefined> {
    const gone = (err: unknown) => {
      if (statusOf(err) === 404) return undefined;
      throw err;
    };
    switch (type) {
      case "docker:index/service:Service":
        return this.docker.getService(id).inspect().then(readService, gone);
      case "docker:index/network:Network":
        return this.docker.getNetwork(id).inspect().then(readNetwork, gone);
      case "docker:index/serviceConfig:ServiceConfig":
        return this.docker.getConfig(id).inspect().then(readConfig, gone);
      case "docker:index/secret:Secret":
        return this.docker.getSecret(id).inspect().then(readSecret, gone);
      case "docker:index/volume:Volume":
        return this.docker
          .getVolume(id)
          .inspect()
          .then((v: Dict) => ({ name: v.Name, driver: v.Driver, driverOpts: v.Options ?? undefined }), gone);
      default:
        throw new Error(`e2e harness: unsupported docker resource type ${type}`);
    }
  }

  /** The state a create or update leaves: Read after the call, with the planned sets kept (read.ts afterApply). */
  private async applied(type: string, id: string, inputs: Dict): Promise<Dict> {
    const live = await this.read(type, id);
    if (!live) throw new Error(`e2e harness: ${type} ${id} vanished right after it was written`);
    return afterApply(type, inputs, live);
  }

  /**
   * An update in place. Only services have one (every input of the other types is ForceNew). As the provider
   * (resourceDockerServiceUpdate): the whole spec rebuilt from the inputs, the version from a fresh inspect,
   * then a wait for the update to complete; a rollback or a pause fails the update and the service stays.
   */
  async update(type: string, id: string, logical: string, inputs: Dict): Promise<Dict> {
    if (type !== "docker:index/service:Service") throw new Error(`e2e harness: ${type} has no update in place`);
    const service = this.docker.getService(id);
    const current = await service.inspect();
    const spec = serviceSpecBody(current.Spec.Name, inputs, {
      labels: e2eLabels(this.opts.runId, logical),
      imageMap: this.opts.imageMap,
    });
    await service.update({ version: current.Version.Index, ...spec }).catch((err: unknown) => {
      throw new Error(`e2e harness: update of service ${current.Spec.Name}: ${messageOf(err)}`);
    });
    if (inputs.convergeConfig) {
      const { timeoutMs, pollMs } = this.convergeTiming(inputs);
      await waitForUpdate(this.docker, id, desiredReplicas(inputs), timeoutMs, pollMs);
      this.opts.log(`service ${current.Spec.Name} updated and converged`);
    }
    return this.applied(type, id, { ...inputs, name: current.Spec.Name });
  }

  /**
   * A delete, as the provider does it: a service is removed, then (with a stop grace period other than 0s)
   * its containers are waited for; a config or secret is removed once (Docker refuses while a service uses
   * it, and the provider does not retry); a network is retried only while it "has active endpoints".
   */
  async delete(type: string, id: string, state: Dict): Promise<void> {
    const d = this.docker;
    const tolerateGone = (err: unknown) => {
      if (statusOf(err) !== 404) throw new Error(`e2e harness: delete ${type} ${state.name ?? id}: ${messageOf(err)}`);
    };
    switch (type) {
      case "docker:index/service:Service": {
        const grace = String(state.taskSpec?.containerSpec?.stopGracePeriod ?? "0s");
        const containers = grace === "0s" ? [] : await serviceContainers(d, id);
        await d.getService(id).remove().catch(tolerateGone);
        const deadline = Date.now() + parseDuration(grace)! / 1e6 + 5000;
        for (const c of containers) {
          while (
            await d
              .getContainer(c.Id)
              .inspect()
              .then(
                () => true,
                () => false,
              )
          ) {
            if (Date.now() > deadline)
              throw new Error(
                `e2e harness: delete service ${state.name}: container ${c.Id.slice(0, 12)} outlived the stop grace period`,
              );
            await sleep(250);
          }
        }
        break;
      }
      case "docker:index/serviceConfig:ServiceConfig":
        await d.getConfig(id).remove().catch(tolerateGone);
        break;
      case "docker:index/secret:Secret":
        await d.getSecret(id).remove().catch(tolerateGone);
        break;
      case "docker:index/network:Network": {
        const deadline = Date.now() + 30_000;
        for (;;) {
          try {
            await d.getNetwork(id).remove();
            break;
          } catch (err) {
            if (statusOf(err) === 404) break;
            if (!/has active endpoints/.test(messageOf(err)) || Date.now() > deadline) tolerateGone(err);
            await sleep(2000);
          }
        }
        break;
      }
      case "docker:index/volume:Volume":
        await d.getVolume(id).remove({ force: true }).catch(tolerateGone);
        break;
      default:
        throw new Error(`e2e harness: unsupported docker resource type ${type}`);
    }
    this.forget(id);
  }

  private forget(id: string): void {
    const i = this.created.findIndex((o) => o.id === id);
    if (i >= 0) this.opts.log(`deleted ${this.created[i].kind} ${this.created[i].name}`);
    if (i >= 0) this.created.splice(i, 1);
  }

  /**
   * Removes what this run created: services first (waiting until their containers are gone,
   * since networks, secrets and configs cannot go while in use), then networks, secrets,
   * configs and volumes; finally sweeps anything else carrying this run's label.
   */
  async teardown(opts: { timeoutMs?: number } = {}): Promise<TeardownReport> {
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    const sweep = new RunSweep(this.docker, this.created, this.opts.runId, deadline);
    await sweep.services();
    await sweep.containers();
    await sweep.networksSecretsConfigsVolumes();
    const { report } = sweep;
    this.created.splice(0, this.created.length, ...this.created.filter((o) => !report.removed.includes(o)));
    this.opts.log(
      `teardown: removed ${report.removed.length}, swept ${report.swept.length}, errors ${report.errors.length}`,
    );
    return report;
  }
}

/**
 * One teardown of a run: every object it recorded or that carries its label, in the order the
 * engine allows (services, then their containers, then what they used), until a deadline.
 */
class RunSweep {
  readonly report: TeardownReport = { removed: [], swept: [], errors: [] };
  private readonly runFilter: { label: string[] };

  constructor(
    private readonly d: Docker,
    private readonly created: readonly CreatedObject[],
    runId: string,
    private readonly deadline: number,
  ) {
    this.runFilter = { label: [`${E2E_RUN_LABEL}=${runId}`] };
  }

  /** Retries while the engine still reports the object in use (task shutdown is asynchronous). */
  private async removeWithRetry(what: string, remove: () => Promise<unknown>): Promise<boolean> {
    for (;;) {
      try {
        await remove();
        return true;
      } catch (err) {
        if (statusOf(err) === 404) return true;
        if (Date.now() >= this.deadline) {
          this.report.errors.push(`${what}: ${messageOf(err)}`);
          return false;
        }
        await sleep(500);
      }
    }
  }

  private byKind(k: ObjectKind): CreatedObject[] {
    return this.created.filter((o) => o.kind === k);
  }

  async services(): Promise<void> {
    const listed = await this.d.listServices({ filters: this.runFilter }).catch(() => []);
    const ids = new Set([...this.byKind("service").map((o) => o.id), ...listed.map((s) => s.ID as string)]);
    await Promise.all(
      [...ids].map(async (id) => {
        const rec = this.created.find((o) => o.id === id);
        if (await this.removeWithRetry(`service ${rec?.name ?? id}`, () => this.d.getService(id).remove())) {
          if (rec) this.report.removed.push(rec);
          else this.report.swept.push(`service ${id}`);
        }
      }),
    );
  }

  /** Containers of removed services and probes: wait for the swarm to stop them, then force. */
  async containers(): Promise<void> {
    for (;;) {
      const left = await this.d.listContainers({ all: true, filters: this.runFilter });
      const ofServices = left.filter((c) => c.Labels?.["com.docker.swarm.service.id"]);
      for (const c of left.filter((c) => !c.Labels?.["com.docker.swarm.service.id"])) {
        await this.d
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined);
        this.report.swept.push(`container ${c.Names?.[0] ?? c.Id}`);
      }
      if (!ofServices.length) return;
      if (Date.now() >= this.deadline) {
        const names = ofServices.map((c) => c.Names?.[0] ?? c.Id).join(", ");
        this.report.errors.push(`containers still present: ${names}`);
        return;
      }
      await sleep(500);
    }
  }

  async networksSecretsConfigsVolumes(): Promise<void> {
    const { d, runFilter } = this;
    await this.removeAll(
      "network",
      (await d.listNetworks({ filters: runFilter }).catch(() => [])).map((n) => ({ id: n.Id, name: n.Name })),
      (id) => d.getNetwork(id).remove(),
    );
    await this.removeAll(
      "secret",
      (await d.listSecrets({ filters: runFilter }).catch(() => [])).map((s: any) => ({ id: s.ID, name: s.Spec?.Name })),
      (id) => d.getSecret(id).remove(),
    );
    await this.removeAll(
      "config",
      (await d.listConfigs({ filters: runFilter }).catch(() => [])).map((c) => ({
        id: c.ID,
        name: c.Spec?.Name ?? c.ID,
      })),
      (id) => d.getConfig(id).remove(),
    );
    const vols = (await d.listVolumes({ filters: runFilter }).catch(() => ({ Volumes: [] }))).Volumes ?? [];
    await this.removeAll(
      "volume",
      vols.map((v) => ({ id: v.Name, name: v.Name })),
      (id) => d.getVolume(id).remove(),
    );
  }

  /** Removes what was recorded of a kind and what the engine lists with the run's label. */
  private async removeAll(
    kind: ObjectKind,
    listed: { id: string; name: string }[],
    remove: (id: string) => Promise<unknown>,
  ): Promise<void> {
    const recorded = this.byKind(kind);
    const ids = new Set([...recorded.map((o) => o.id), ...listed.map((o) => o.id)]);
    await Promise.all(
      [...ids].map(async (id) => {
        const rec = recorded.find((o) => o.id === id);
        const name = rec?.name ?? listed.find((o) => o.id === id)?.name ?? id;
        if (await this.removeWithRetry(`${kind} ${name}`, () => remove(id))) {
          if (rec) this.report.removed.push(rec);
          else this.report.swept.push(`${kind} ${name}`);
        }
      }),
    );
  }
}

/** Removes every object carrying the e2e label, from any run (what e2e/cleanup.sh does). */
export async function removeAllLabelled(
  docker: Docker,
  log: (l: string) => void = () => undefined,
): Promise<TeardownReport> {
  const runs = new Set<string>();
  const filters = { label: [E2E_LABEL] };
  for (const s of await docker.listServices({ filters })) runs.add(s.Spec?.Labels?.[E2E_RUN_LABEL] ?? "");
  for (const n of await docker.listNetworks({ filters })) runs.add(n.Labels?.[E2E_RUN_LABEL] ?? "");
  for (const c of await docker.listContainers({ all: true, filters })) runs.add(c.Labels?.[E2E_RUN_LABEL] ?? "");
  for (const s of (await docker.listSecrets({ filters })) as any[]) runs.add(s.Spec?.Labels?.[E2E_RUN_LABEL] ?? "");
  for (const c of await docker.listConfigs({ filters })) runs.add(c.Spec?.Labels?.[E2E_RUN_LABEL] ?? "");
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) runs.add(v.Labels?.[E2E_RUN_LABEL] ?? "");
  const total: TeardownReport = { removed: [], swept: [], errors: [] };
  for (const runId of runs) {
    if (!runId) continue;
    const r = await new DockerRealiser({ docker, runId, log }).teardown();
    total.swept.push(...r.swept);
    total.errors.push(...r.errors);
  }
  return total;
}
