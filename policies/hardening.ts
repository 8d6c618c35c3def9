/**
 * Hardening rules for what runs (Swarm services and plain containers), anchored on the KICS
 * docker-compose queries and the CIS Docker Benchmark 4.x, 5.x and 7.x recommendations.
 */
import * as docker from "@pulumi/docker";
import { PolicyConfigSchema, ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { mapsTo } from "./lib/catalog";
import { configOf, stringList } from "./lib/config";
import { arr, at, bool, isKnown, num, str, strings, UNKNOWN } from "./lib/values";
import { describe, forWorkloads, matchesNameOrRole, MountView, serviceView } from "./lib/workloads";

export const requireHealthcheck: ResourceValidationPolicy = {
  name: "require-healthcheck",
  description:
    "Every service and container declares a health check, so Swarm routes only to healthy tasks and rolls back failed updates.",
  severity: "medium",
  remediationSteps:
    'Add healthcheck.tests (e.g. ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:PORT/health"]) with interval, timeout and retries.',
  ...mapsTo("hardening", { cis: ["5.27"], kics: ["698ed579-b239-4f8f-a388-baa4bcb13ef8"] }),
  validateResource: forWorkloads((w, _args, reportViolation) => {
    if (w.healthcheck === "missing") reportViolation(`${describe(w)} has no health check.`);
    else if (w.healthcheck === "disabled") reportViolation(`${describe(w)} disables its image's health check (NONE).`);
  }),
};

const DOCKER_SOCKET = /(^|\/)docker\.sock$|^\/(var\/)?run\/docker(\.sock)?$/;
const isBind = (m: MountView) => m.type === "bind";

export const disallowDockerSocketMount: ResourceValidationPolicy = {
  name: "disallow-docker-socket-mount",
  description:
    "No service or container mounts the Docker socket, which grants root on the node and control of the swarm.",
  severity: "critical",
  remediationSteps:
    "Remove the bind mount of docker.sock; if a tool needs the API, give it a read-only, filtered socket proxy on a dedicated network.",
  ...mapsTo("hardening", { cis: ["5.32"], kics: ["d6355c88-1e8d-49e9-b2f2-f8a1ca12c75b"] }),
  validateResource: forWorkloads((w, _args, reportViolation) => {
    for (const m of w.mounts) {
      if (isBind(m) && isKnown(m.source) && DOCKER_SOCKET.test(m.source.replace(/\/+$/, ""))) {
        reportViolation(
          `${describe(w)} mounts the Docker socket ${m.source}${isKnown(m.target) ? ` at ${m.target}` : ""}.`,
        );
      }
    }
  }),
};

const hostPathSchema: PolicyConfigSchema = {
  properties: {
    sensitiveHostPaths: stringList(
      "Host directories that are never bind-mounted (a path matches itself and everything below it; / matches only itself).",
      [
        "/",
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/lib",
        "/lib64",
        "/proc",
        "/root",
        "/run",
        "/sbin",
        "/sys",
        "/usr",
        "/var/lib/docker",
        "/var/run",
      ],
    ),
  },
};

export const disallowSensitiveHostMounts: ResourceValidationPolicy = {
  name: "disallow-sensitive-host-mounts",
  description:
    "No service or container bind-mounts a sensitive host directory (/, /etc, /proc, /sys, /var/lib/docker, ...).",
  severity: "high",
  remediationSteps: "Use a named volume, a Swarm config or a Swarm secret instead of the host path.",
  ...mapsTo("hardening", { cis: ["5.6"], kics: ["1c1325ff-831d-43a1-973e-839ae57dfcc0"] }),
  configSchema: hostPathSchema,
  validateResource: forWorkloads((w, args, reportViolation) => {
    const { sensitiveHostPaths } = configOf<{ sensitiveHostPaths: string[] }>(hostPathSchema, args);
    for (const m of w.mounts) {
      if (!isBind(m) || !isKnown(m.source)) continue;
      const source = m.source.length > 1 ? m.source.replace(/\/+$/, "") : m.source;
      // The socket has a rule of its own.
      if (DOCKER_SOCKET.test(source)) continue;
      const hit = sensitiveHostPaths.find((p) =>
        p === "/" ? source === "/" : source === p || source.startsWith(`${p}/`),
      );
      if (hit)
        reportViolation(
          `${describe(w)} bind-mounts the host path ${m.source} (under ${hit})${isKnown(m.target) ? ` at ${m.target}` : ""}.`,
        );
    }
  }),
};

const capabilitiesSchema: PolicyConfigSchema = {
  properties: {
    forbiddenCapabilities: stringList("Linux capabilities that are never added (without the CAP_ prefix).", [
      "ALL",
      "SYS_ADMIN",
      "NET_ADMIN",
      "SYS_PTRACE",
      "SYS_MODULE",
      "SYS_RAWIO",
      "SYS_BOOT",
      "SYS_TIME",
      "DAC_READ_SEARCH",
      "MAC_ADMIN",
      "MAC_OVERRIDE",
      "BPF",
      "PERFMON",
    ]),
  },
};

export const disallowDangerousCapabilities: ResourceValidationPolicy = {
  name: "disallow-dangerous-capabilities",
  description: "No service or container adds a dangerous Linux capability (SYS_ADMIN, NET_ADMIN, SYS_PTRACE, ...).",
  severity: "high",
  remediationSteps:
    "Remove the capability from capAdds; add back only narrow ones the process needs (e.g. NET_BIND_SERVICE).",
  ...mapsTo("hardening", { cis: ["5.4"], kics: ["ce76b7d0-9e77-464d-b86f-c5c48e03e22d"] }),
  configSchema: capabilitiesSchema,
  validateResource: forWorkloads((w, args, reportViolation) => {
    const { forbiddenCapabilities } = configOf<{ forbiddenCapabilities: string[] }>(capabilitiesSchema, args);
    const forbidden = new Set(forbiddenCapabilities.map((c) => c.toUpperCase().replace(/^CAP_/, "")));
    const added = w.capAdd.filter((c) => forbidden.has(c));
    if (added.length > 0) reportViolation(`${describe(w)} adds ${added.join(", ")}.`);
  }),
};

export const requireDroppedCapabilities: ResourceValidationPolicy = {
  name: "require-dropped-capabilities",
  description: "Every service and container drops all Linux capabilities and adds back only what it needs.",
  severity: "medium",
  remediationSteps: 'Set capDrops (containers: capabilities.drops) to ["ALL"] and list needed capabilities in capAdds.',
  ...mapsTo("hardening", { cis: ["5.4"], kics: ["ce76b7d0-9e77-464d-b86f-c5c48e03e22d"] }),
  validateResource: forWorkloads((w, _args, reportViolation) => {
    if (w.capDrop === UNKNOWN) return;
    if (!(w.capDrop ?? []).includes("ALL"))
      reportViolation(`${describe(w)} keeps Docker's default capabilities (capDrops does not include ALL).`);
  }),
};

export const requireMemoryLimit: ResourceValidationPolicy = {
  name: "require-memory-limit",
  description: "Every service and container has a memory limit, so one leak cannot starve the node.",
  severity: "medium",
  remediationSteps: "Set taskSpec.resources.limits.memoryBytes (containers: memory, in MB) to the service's budget.",
  ...mapsTo("hardening", { cis: ["5.11"], kics: ["bb9ac4f7-e13b-423d-a010-c74a1bfbe492"] }),
  validateResource: forWorkloads((w, _args, reportViolation) => {
    if (w.memoryLimitBytes === UNKNOWN) return;
    if (w.memoryLimitBytes === undefined || w.memoryLimitBytes <= 0)
      reportViolation(`${describe(w)} has no memory limit.`);
  }),
};

const restartSchema: PolicyConfigSchema = {
  properties: {
    maxRestartAttempts: {
      type: "integer",
      minimum: 1,
      default: 5,
      description: "Most restart attempts allowed in one window.",
    },
  },
};

export const requireBoundedRestartPolicy: ResourceValidationPolicy = {
  name: "require-bounded-restart-policy",
  description: "Restarts are bounded: on-failure with at most 5 attempts, never an endless restart loop.",
  severity: "medium",
  remediationSteps:
    'Set restartPolicy { condition: "on-failure", maxAttempts: 5, window: "120s" } (containers: restart "on-failure", maxRetryCount 5).',
  ...mapsTo("hardening", { cis: ["5.15"], kics: ["2fc99041-ddad-49d5-853f-e35e70a48391"] }),
  configSchema: restartSchema,
  validateResource: forWorkloads((w, args, reportViolation) => {
    const { maxRestartAttempts } = configOf<{ maxRestartAttempts: number }>(restartSchema, args);
    const { condition, maxAttempts } = w.restart;
    if (condition === UNKNOWN || maxAttempts === UNKNOWN) return;
    if (condition === undefined) {
      reportViolation(
        `${describe(w)} has no restart policy, so Swarm restarts it forever (condition "any", no attempt limit).`,
      );
      return;
    }
    if (condition === "no" || condition === "none") return;
    if (condition === "always" || condition === "unless-stopped") {
      reportViolation(`${describe(w)} restarts "${condition}", without a limit.`);
      return;
    }
    if (maxAttempts === undefined || maxAttempts <= 0) {
      reportViolation(`${describe(w)} restarts on "${condition}" without an attempt limit.`);
    } else if (maxAttempts > maxRestartAttempts) {
      reportViolation(
        `${describe(w)} allows ${maxAttempts} restart attempts; at most ${maxRestartAttempts} are allowed.`,
      );
    }
  }),
};

/** `registry/name:tag@sha256:...` split into its parts. */
export function parseImageRef(ref: string): { name: string; tag?: string; digest?: string } {
  const [withoutDigest, digest] = ref.split("@", 2);
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  const hasTag = colon > lastSlash;
  return {
    name: hasTag ? withoutDigest.slice(0, colon) : withoutDigest,
    tag: hasTag ? withoutDigest.slice(colon + 1) : undefined,
    digest,
  };
}

export const requirePinnedImage: ResourceValidationPolicy = {
  name: "require-pinned-image",
  description: "Every image is pinned by a version tag or a digest, never by `latest` or no tag.",
  severity: "high",
  remediationSteps: 'Pin the image to a release tag (e.g. "redis:7.4.1-alpine") or a digest ("redis@sha256:...").',
  ...mapsTo("hardening", {
    beyond:
      "KICS checks this for Dockerfiles only; an unpinned image changes under a running stack at the next reschedule.",
  }),
  validateResource: forWorkloads((w, _args, reportViolation) => {
    if (!isKnown(w.image)) return;
    const { tag, digest } = parseImageRef(w.image);
    if (digest) return;
    if (tag === undefined) reportViolation(`${describe(w)} uses image "${w.image}" without a tag (that is "latest").`);
    else if (tag === "latest") reportViolation(`${describe(w)} uses the moving tag "latest" ("${w.image}").`);
  }),
};

export const requireImageDigest: ResourceValidationPolicy = {
  name: "require-image-digest",
  description: "Images are pinned by digest, so every node runs the same bytes even if a tag is re-pushed.",
  severity: "low",
  remediationSteps:
    'Append the digest to the tag ("redis:7.4.1-alpine@sha256:...") from `docker buildx imagetools inspect <image>`.',
  ...mapsTo("hardening", { beyond: "Catalogs accept a tag; a digest also protects against a re-pushed tag." }),
  validateResource: forWorkloads((w, _args, reportViolation) => {
    if (!isKnown(w.image)) return;
    if (!parseImageRef(w.image).digest) reportViolation(`${describe(w)} uses image "${w.image}" without a digest.`);
  }),
};

const ROOT_USER = /^(0|root)(:.*)?$/;

export const requireNonRootUser: ResourceValidationPolicy = {
  name: "require-non-root-user",
  description: "Every service and container runs as a non-root user.",
  severity: "medium",
  remediationSteps: 'Set user to the image\'s unprivileged uid:gid (e.g. "1000:1000") and give its files to that user.',
  ...mapsTo("hardening", { cis: ["4.1"] }),
  validateResource: forWorkloads((w, _args, reportViolation) => {
    if (w.user === UNKNOWN) return;
    if (w.user === undefined || w.user.trim() === "")
      reportViolation(`${describe(w)} sets no user, so it runs as the image's default user (root for most images).`);
    else if (ROOT_USER.test(w.user.trim())) reportViolation(`${describe(w)} runs as root ("${w.user}").`);
  }),
};

const readOnlySchema: PolicyConfigSchema = {
  properties: {
    writableAllowed: stringList(
      "Service or container names (or iot.role values) whose root filesystem may stay writable.",
      [],
    ),
  },
};

export const requireReadOnlyRootFilesystem: ResourceValidationPolicy = {
  name: "require-read-only-root-filesystem",
  description: "Root filesystems are read-only; state lives in volumes and scratch space in tmpfs.",
  severity: "low",
  remediationSteps: "Set readOnly: true and mount volumes or tmpfs at the paths the process writes.",
  ...mapsTo("hardening", { cis: ["5.13"] }),
  configSchema: readOnlySchema,
  validateResource: forWorkloads((w, args, reportViolation) => {
    const { writableAllowed } = configOf<{ writableAllowed: string[] }>(readOnlySchema, args);
    if (
      w.readOnlyRootFilesystem === UNKNOWN ||
      w.readOnlyRootFilesystem === true ||
      matchesNameOrRole(w, writableAllowed)
    )
      return;
    reportViolation(`${describe(w)} has a writable root filesystem.`);
  }),
};

export const disallowPrivilegedContainers: ResourceValidationPolicy = {
  name: "disallow-privileged-containers",
  description: "No container runs privileged (every capability and every host device).",
  severity: "critical",
  remediationSteps: "Remove privileged: true; add the one capability or device the container needs instead.",
  ...mapsTo("hardening", { cis: ["5.5"], kics: ["ae5b6871-7f45-42e0-bb4c-ab300c4d2026"] }),
  validateResource: forWorkloads((w, _args, reportViolation) => {
    if (w.privileged === true) reportViolation(`${describe(w)} runs privileged.`);
  }),
};

export const disallowHostNamespaces: ResourceValidationPolicy = {
  name: "disallow-host-namespaces",
  description: "No container shares the host's PID, IPC or user namespace.",
  severity: "high",
  remediationSteps:
    'Remove pidMode, ipcMode and usernsMode "host" (use a sidecar or the Docker API for what it needed).',
  ...mapsTo("hardening", {
    cis: ["5.16", "5.17", "5.31"],
    kics: [
      "4f31dd9f-2cc3-4751-9b53-67e4af83dac0",
      "baa3890f-bed7-46f5-ab8f-1da8fc91c729",
      "8af7162d-6c98-482f-868e-0d33fb675ca8",
    ],
  }),
  validateResource: forWorkloads((w, _args, reportViolation) => {
    const shared = (["pid", "ipc", "userns"] as const).filter((ns) => w.namespaces[ns] === "host");
    if (shared.length > 0)
      reportViolation(
        `${describe(w)} shares the host's ${shared.join(", ")} namespace${shared.length > 1 ? "s" : ""}.`,
      );
  }),
};

export const requireContainerSecurityOptions: ResourceValidationPolicy = {
  name: "require-container-security-options",
  description: "Containers set no-new-privileges and keep the default seccomp and AppArmor profiles.",
  severity: "medium",
  remediationSteps:
    'Add "no-new-privileges:true" to securityOpts and remove any "seccomp=unconfined", "apparmor=unconfined" or "label=disable".',
  ...mapsTo("hardening", {
    cis: ["5.26", "5.22"],
    kics: ["27fcc7d6-c49b-46e0-98f1-6c082a6a2750", "404fde2c-bc4b-4371-9747-7054132ac953"],
  }),
  validateResource: forWorkloads((w, _args, reportViolation) => {
    if (w.kind !== "container" || w.securityOpts === UNKNOWN) return;
    const opts = w.securityOpts.map((o) => o.trim().toLowerCase().replace("=", ":"));
    if (!opts.some((o) => o === "no-new-privileges" || o === "no-new-privileges:true")) {
      reportViolation(`${describe(w)} does not set no-new-privileges.`);
    }
    const unsafe = opts.filter(
      (o) => o === "seccomp:unconfined" || o === "apparmor:unconfined" || o === "label:disable",
    );
    if (unsafe.length > 0) reportViolation(`${describe(w)} disables a security profile (${unsafe.join(", ")}).`);
  }),
};

const pinningSchema: PolicyConfigSchema = {
  properties: {
    uniqueNodeLabels: stringList(
      "Node labels that exactly one node carries: a constraint node.labels.<label> == <value> pins a service to that node.",
      ["iot.state"],
    ),
  },
};

/** Whether a placement constraint names one node: by hostname, by id, or by a label only one node carries. */
export function pinsToOneNode(constraint: string, uniqueNodeLabels: readonly string[]): boolean {
  const match = /^\s*node\.(hostname|id|labels\.(\S+?))\s*==\s*\S+\s*$/.exec(constraint);
  if (!match) return false;
  return match[2] === undefined || uniqueNodeLabels.includes(match[2]);
}

export const requirePinnedStatefulServices: ResourceValidationPolicy = {
  name: "require-pinned-stateful-services",
  description:
    "A service that keeps state in a named volume runs one replicated task pinned to one node (node.hostname, node.id or a node label only one node carries).",
  severity: "high",
  remediationSteps:
    "Add a placement constraint such as node.labels.iot.state == true (and give that label to exactly one node), " +
    "node.hostname == <node> or node.id == <id>, and run the service in replicated mode with 1 replica.",
  ...mapsTo("hardening", {
    kics: ["8c978947-0ff6-485c-b0c2-0bfca6026466"],
    beyond:
      "Neither catalog models Swarm scheduling: a local named volume lives on one node, so a task rescheduled elsewhere starts on an empty volume.",
  }),
  configSchema: pinningSchema,
  validateResource: validateResourceOfType(docker.Service, (props, args, reportViolation) => {
    const { uniqueNodeLabels } = configOf<{ uniqueNodeLabels: string[] }>(pinningSchema, args);
    const w = serviceView(props, args.name);
    const volumes = w.mounts
      .filter((m) => m.type === "volume")
      .map((m) => (isKnown(m.source) ? `"${m.source}"` : "(unnamed)"));
    if (volumes.length === 0) return;
    const state = `keeps state in volume${volumes.length > 1 ? "s" : ""} ${volumes.join(", ")}`;
    if (bool(at(props, "mode", "global")) === true) {
      reportViolation(`${describe(w)} ${state} but runs in global mode: every node runs a task with its own copy.`);
    }
    const replicas = num(at(props, "mode", "replicated", "replicas"));
    if (isKnown(replicas) && replicas > 1) {
      reportViolation(`${describe(w)} ${state} but runs ${replicas} replicas, which share or split that state.`);
    }
    // An unknown constraint may be the pin.
    const constraints = arr(at(props, "taskSpec", "placement", "constraints"));
    if (constraints === UNKNOWN || constraints.some((c) => str(c) === UNKNOWN)) return;
    if (strings(constraints).some((c) => pinsToOneNode(c, uniqueNodeLabels))) return;
    reportViolation(
      `${describe(w)} ${state} but is not pinned to one node, so Swarm can move it to a node without that data ` +
        `(constrain it with node.hostname, node.id or node.labels.<label> for ${uniqueNodeLabels.join(", ") || "a label one node carries"}).`,
    );
  }),
};

export const hardeningPolicies = [
  requireHealthcheck,
  disallowDockerSocketMount,
  disallowSensitiveHostMounts,
  disallowDangerousCapabilities,
  requireDroppedCapabilities,
  requireMemoryLimit,
  requireBoundedRestartPolicy,
  requirePinnedStatefulServices,
  requirePinnedImage,
  requireImageDigest,
  requireNonRootUser,
  requireReadOnlyRootFilesystem,
  disallowPrivilegedContainers,
  disallowHostNamespaces,
  requireContainerSecurityOptions,
];
