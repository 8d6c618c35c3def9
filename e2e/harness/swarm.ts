/**
 * Helpers over the Docker Engine API for e2e probes: convergence waits, task diagnostics,
 * one-off probe containers on the stack's networks, and exec inside a service's task.
 */
import Docker from "dockerode";
import { PassThrough } from "node:stream";
import { e2eLabels } from "./labels";

export const PROBE_IMAGE = "iot-e2e/probe:e2e";

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface TaskInfo {
  id: string;
  slot?: number;
  state: string;
  desiredState: string;
  error?: string;
  message?: string;
  containerId?: string;
  /** Container health ("healthy", "starting", "unhealthy") when the image or spec has a check. */
  health?: string;
  /** Last healthcheck output, for diagnostics. */
  healthLog?: string;
}

export async function serviceTasks(docker: Docker, serviceId: string): Promise<TaskInfo[]> {
  const tasks = await docker.listTasks({ filters: { service: [serviceId] } });
  const out: TaskInfo[] = [];
  for (const t of tasks) {
    const info: TaskInfo = {
      id: t.ID,
      slot: t.Slot,
      state: t.Status?.State,
      desiredState: t.DesiredState,
      error: t.Status?.Err || undefined,
      message: t.Status?.Message,
      containerId: t.Status?.ContainerStatus?.ContainerID || undefined,
    };
    if (info.containerId) {
      try {
        const c = await docker.getContainer(info.containerId!).inspect();
        info.health = c.State?.Health?.Status;
        const log = c.State?.Health?.Log;
        if (log?.length)
          info.healthLog = String(log[log.length - 1].Output ?? "")
            .trim()
            .slice(0, 300);
      } catch {
        // Container already gone: the task state says enough.
      }
    }
    out.push(info);
  }
  return out;
}

export function describeTasks(tasks: TaskInfo[]): string {
  return tasks
    .map(
      (t) =>
        `${t.id.slice(0, 12)} slot=${t.slot ?? "-"} ${t.state}/${t.desiredState}` +
        (t.health ? ` health=${t.health}` : "") +
        (t.error ? ` err=${t.error}` : "") +
        (t.healthLog && t.health !== "healthy" ? ` check=${JSON.stringify(t.healthLog)}` : ""),
    )
    .join("; ");
}

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
  /** Replica count to wait for; default: the service's spec. */
  replicas?: number;
}

/**
 * Waits until the service has `replicas` tasks running and, where a healthcheck exists,
 * healthy. Throws with every task's state, error and last check output on timeout.
 */
export async function waitForService(docker: Docker, serviceId: string, opts: WaitOptions = {}): Promise<TaskInfo[]> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const pollMs = opts.pollMs ?? 500;
  let replicas = opts.replicas;
  if (replicas === undefined) {
    const svc = await docker.getService(serviceId).inspect();
    replicas = svc.Spec?.Mode?.Replicated?.Replicas ?? 1;
  }
  const deadline = Date.now() + timeoutMs;
  let tasks: TaskInfo[] = [];
  for (;;) {
    tasks = await serviceTasks(docker, serviceId);
    const ready = tasks.filter(
      (t) =>
        t.desiredState === "running" && t.state === "running" && (t.health === undefined || t.health === "healthy"),
    );
    if (ready.length >= replicas!) return ready;
    if (Date.now() >= deadline) {
      throw new Error(
        `e2e harness: service ${serviceId} not converged to ${replicas} healthy task(s) ` +
          `within ${timeoutMs} ms: ${describeTasks(tasks) || "no tasks"}`,
      );
    }
    await sleep(pollMs);
  }
}

/** resourceDockerServiceUpdate's StateChangeConf Delay. */
export const UPDATE_FIRST_LOOK_MS = 7000;

/**
 * Waits for a service update to finish, as the provider does after an update
 * (resource_docker_service_funcs.go resourceDockerServiceUpdateRefreshFunc): "completed" is done; a rollback
 * or a pause is an error; without an update status (nothing to roll) the running tasks must match replicas.
 */
export async function waitForUpdate(
  docker: Docker,
  serviceId: string,
  replicas: number,
  timeoutMs: number,
  pollMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // The provider waits 7 s before its first look (StateChangeConf Delay): right after ServiceUpdate the
  // service may still show the previous update's "completed" until the updater starts.
  await sleep(Math.min(UPDATE_FIRST_LOOK_MS, timeoutMs));
  for (;;) {
    const svc = await docker.getService(serviceId).inspect();
    const state: string | undefined = svc.UpdateStatus?.State;
    const message: string = svc.UpdateStatus?.Message ?? "";
    if (state === "completed") return;
    if (state === "rollback_completed") throw new Error(`service rollback completed: ${message}`);
    if (state === "paused") throw new Error(`service update paused: ${message}`);
    if (state === "rollback_paused") throw new Error(`service rollback paused: ${message}`);
    if (state === undefined) {
      const tasks = await serviceTasks(docker, serviceId);
      if (tasks.filter((t) => t.desiredState === "running" && t.state === "running").length >= replicas) return;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `service ${svc.Spec?.Name} did not converge within ${timeoutMs} ms (update state ${state ?? "none"}: ${message})`,
      );
    }
    await sleep(pollMs);
  }
}

/** Splits Docker's multiplexed stdout/stderr stream (8-byte frame headers). */
export function demux(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    const len = buf.readUInt32BE(i + 4);
    const chunk = buf.subarray(i + 8, i + 8 + len);
    (type === 2 ? err : out).push(chunk);
    i += 8 + len;
  }
  return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

export interface ProbeOptions {
  /** Networks (names or ids) to attach the probe to; they must be attachable. */
  networks: string[];
  cmd: string[];
  image?: string;
  /** Run id for the labels, so teardown/cleanup removes a probe left behind. */
  runId: string;
  timeoutMs?: number;
  user?: string;
  env?: Record<string, string>;
  /** Files to place in the container before it starts (path -> content). */
  files?: Record<string, string | Buffer>;
}

/**
 * Runs a one-off container on the given networks and returns its exit code and output.
 * The container is removed afterwards, also on timeout.
 */
export async function runProbe(docker: Docker, opts: ProbeOptions): Promise<ExecResult> {
  const [first, ...rest] = opts.networks;
  const container = await docker.createContainer({
    Image: opts.image ?? PROBE_IMAGE,
    Cmd: opts.cmd,
    User: opts.user,
    Env: opts.env ? Object.entries(opts.env).map(([k, v]) => `${k}=${v}`) : undefined,
    Labels: e2eLabels(opts.runId, "probe"),
    HostConfig: { NetworkMode: first ?? "none" },
  });
  try {
    for (const net of rest) await docker.getNetwork(net).connect({ Container: container.id });
    if (opts.files) await putFiles(container, opts.files);
    await container.start();
    const timeoutMs = opts.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
    const result = await Promise.race([container.wait(), timedOut]);
    clearTimeout(timer);
    if (result === "timeout") {
      await container.kill().catch(() => undefined);
    }
    const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    const { stdout, stderr } = demux(logs);
    if (result === "timeout")
      return { exitCode: 124, stdout, stderr: stderr + `\n[probe timed out after ${timeoutMs} ms]` };
    return { exitCode: (result as { StatusCode: number }).StatusCode, stdout, stderr };
  } finally {
    await container.remove({ force: true, v: true }).catch(() => undefined);
  }
}

/** Writes files into a created container through a tar stream (no bind mounts needed). */
async function putFiles(container: Docker.Container, files: Record<string, string | Buffer>): Promise<void> {
  const blocks: Buffer[] = [];
  for (const [path, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const header = Buffer.alloc(512);
    const name = path.replace(/^\/+/, "");
    if (name.length > 99) throw new Error(`e2e harness: probe file path too long: ${path}`);
    header.write(name, 0, "utf8");
    header.write("0000644\0", 100);
    header.write("0000000\0", 108);
    header.write("0000000\0", 116);
    header.write(data.length.toString(8).padStart(11, "0") + "\0", 124);
    header.write(
      Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, "0") + "\0",
      136,
    );
    header.write("        ", 148);
    header.write("0", 156);
    header.write("ustar\0", 257);
    header.write("00", 263);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  await container.putArchive(Buffer.concat(blocks), { path: "/" });
}

/** Running containers of a service (by service id or name). */
export async function serviceContainers(docker: Docker, service: string): Promise<Docker.ContainerInfo[]> {
  const byId = await docker.listContainers({ filters: { label: [`com.docker.swarm.service.id=${service}`] } });
  if (byId.length) return byId;
  return docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${service}`] } });
}

/** Runs a command in a container (e.g. a service's task, to probe from its own networks). */
export async function execIn(
  docker: Docker,
  containerId: string,
  cmd: string[],
  opts: { user?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const exec = await docker
    .getContainer(containerId)
    .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, User: opts.user });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const err = new PassThrough();
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  out.on("data", (c: Buffer) => outChunks.push(c));
  err.on("data", (c: Buffer) => errChunks.push(c));
  docker.modem.demuxStream(stream, out, err);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(
        new Error(
          `e2e harness: exec ${JSON.stringify(cmd)} in ${containerId.slice(0, 12)} timed out after ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    stream.on("end", () => {
      clearTimeout(timer);
      resolve();
    });
    stream.on("error", (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  const info = await exec.inspect();
  return {
    exitCode: info.ExitCode ?? -1,
    stdout: Buffer.concat(outChunks).toString(),
    stderr: Buffer.concat(errChunks).toString(),
  };
}

/** Runs a command in one running task of a service. */
export async function execInService(
  docker: Docker,
  service: string,
  cmd: string[],
  opts: { user?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const containers = await serviceContainers(docker, service);
  if (!containers.length) throw new Error(`e2e harness: no running container for service ${service}`);
  return execIn(docker, containers[0].Id, cmd, opts);
}

/** Recent logs of every container of a service (diagnostics on failure). */
export async function serviceLogs(docker: Docker, service: string, tail = 50): Promise<string> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`com.docker.swarm.service.id=${service}`] },
  });
  const parts: string[] = [];
  for (const c of containers) {
    const buf = (await docker.getContainer(c.Id).logs({ stdout: true, stderr: true, tail })) as unknown as Buffer;
    const { stdout, stderr } = demux(buf);
    parts.push(`--- ${c.Names?.[0] ?? c.Id.slice(0, 12)} (${c.State})\n${stdout}${stderr}`);
  }
  return parts.join("\n");
}
