import {
  disallowDangerousCapabilities,
  disallowDockerSocketMount,
  disallowHostNamespaces,
  disallowPrivilegedContainers,
  disallowSensitiveHostMounts,
  parseImageRef,
  requireBoundedRestartPolicy,
  requireContainerSecurityOptions,
  requireDroppedCapabilities,
  requireHealthcheck,
  requireImageDigest,
  requireMemoryLimit,
  requireNonRootUser,
  requirePinnedImage,
  requirePinnedStatefulServices,
  requireReadOnlyRootFilesystem,
} from "../../policies/hardening";
import { UNKNOWN_STRING_SENTINEL } from "../../policies/lib/values";
import { container, edit, service } from "./fixtures";
import { assertHasViolation, assertNoViolations, runResourcePolicy } from "./helpers";

const app = () => service("app", { networks: ["backend-id"] });
const legacy = () => container("legacy", "backend");
const bind = (source: string, target: string) => ({ type: "bind", source, target });

describe("require-healthcheck", () => {
  it("passes for a service and a container with health checks", async () => {
    assertNoViolations(await runResourcePolicy(requireHealthcheck, app()));
    assertNoViolations(await runResourcePolicy(requireHealthcheck, legacy()));
  });

  it("fails when a service has no health check", async () => {
    const r = edit(app(), (p) => delete p.taskSpec.containerSpec.healthcheck);
    assertHasViolation(await runResourcePolicy(requireHealthcheck, r), 'service "app" has no health check');
  });

  it("fails when a container disables its image's health check", async () => {
    const r = edit(legacy(), (p) => (p.healthcheck.tests = ["NONE"]));
    assertHasViolation(await runResourcePolicy(requireHealthcheck, r), "disables its image's health check");
  });

  it("passes during a preview when the health check is computed", async () => {
    const r = edit(app(), (p) => (p.taskSpec.containerSpec.healthcheck = UNKNOWN_STRING_SENTINEL));
    assertNoViolations(await runResourcePolicy(requireHealthcheck, r));
  });
});

describe("disallow-docker-socket-mount", () => {
  it("passes for volume mounts", async () => {
    assertNoViolations(await runResourcePolicy(disallowDockerSocketMount, app()));
  });

  it("fails when a service bind-mounts /var/run/docker.sock", async () => {
    const r = edit(app(), (p) =>
      p.taskSpec.containerSpec.mounts.push(bind("/var/run/docker.sock", "/var/run/docker.sock")),
    );
    assertHasViolation(
      await runResourcePolicy(disallowDockerSocketMount, r),
      'service "app" mounts the Docker socket /var/run/docker.sock',
    );
  });

  it("fails when a container mounts the socket through a volume's hostPath", async () => {
    const r = edit(legacy(), (p) => (p.volumes = [{ hostPath: "/run/docker.sock", containerPath: "/docker.sock" }]));
    assertHasViolation(
      await runResourcePolicy(disallowDockerSocketMount, r),
      "mounts the Docker socket /run/docker.sock",
    );
  });
});

describe("disallow-sensitive-host-mounts", () => {
  it("passes for a bind mount of an application directory", async () => {
    const r = edit(app(), (p) => p.taskSpec.containerSpec.mounts.push(bind("/srv/iot/uploads", "/uploads")));
    assertNoViolations(await runResourcePolicy(disallowSensitiveHostMounts, r));
  });

  it("fails when a service bind-mounts /etc", async () => {
    const r = edit(app(), (p) => p.taskSpec.containerSpec.mounts.push(bind("/etc", "/host-etc")));
    assertHasViolation(
      await runResourcePolicy(disallowSensitiveHostMounts, r),
      "bind-mounts the host path /etc (under /etc)",
    );
  });

  it("fails when a container mounts a directory below /proc", async () => {
    const r = edit(legacy(), (p) => (p.volumes = [{ hostPath: "/proc/sys", containerPath: "/host/proc" }]));
    assertHasViolation(await runResourcePolicy(disallowSensitiveHostMounts, r), "(under /proc)");
  });

  it("fails when the host's root is mounted", async () => {
    const r = edit(app(), (p) => p.taskSpec.containerSpec.mounts.push(bind("/", "/host")));
    assertHasViolation(
      await runResourcePolicy(disallowSensitiveHostMounts, r),
      "bind-mounts the host path / (under /)",
    );
  });
});

describe("disallow-dangerous-capabilities", () => {
  it("passes when only NET_BIND_SERVICE is added", async () => {
    const r = edit(app(), (p) => (p.taskSpec.containerSpec.capAdds = ["NET_BIND_SERVICE"]));
    assertNoViolations(await runResourcePolicy(disallowDangerousCapabilities, r));
  });

  it("fails when a service adds SYS_ADMIN", async () => {
    const r = edit(app(), (p) => (p.taskSpec.containerSpec.capAdds = ["CAP_SYS_ADMIN"]));
    assertHasViolation(await runResourcePolicy(disallowDangerousCapabilities, r), 'service "app" adds SYS_ADMIN');
  });

  it("fails when a container adds NET_ADMIN and SYS_PTRACE", async () => {
    const r = edit(legacy(), (p) => (p.capabilities.adds = ["net_admin", "SYS_PTRACE"]));
    assertHasViolation(await runResourcePolicy(disallowDangerousCapabilities, r), "adds NET_ADMIN, SYS_PTRACE");
  });
});

describe("require-dropped-capabilities", () => {
  it("passes when ALL is dropped", async () => {
    assertNoViolations(await runResourcePolicy(requireDroppedCapabilities, app()));
  });

  it("fails when a service keeps the default capabilities", async () => {
    const r = edit(app(), (p) => delete p.taskSpec.containerSpec.capDrops);
    assertHasViolation(await runResourcePolicy(requireDroppedCapabilities, r), "capDrops does not include ALL");
  });
});

describe("require-memory-limit", () => {
  it("passes with a memory limit", async () => {
    assertNoViolations(await runResourcePolicy(requireMemoryLimit, app()));
    assertNoViolations(await runResourcePolicy(requireMemoryLimit, legacy()));
  });

  it("fails when a service has no limits", async () => {
    const r = edit(app(), (p) => delete p.taskSpec.resources);
    assertHasViolation(await runResourcePolicy(requireMemoryLimit, r), 'service "app" has no memory limit');
  });

  it("fails when a container's memory is 0 (unlimited)", async () => {
    const r = edit(legacy(), (p) => (p.memory = 0));
    assertHasViolation(await runResourcePolicy(requireMemoryLimit, r), 'container "legacy" has no memory limit');
  });
});

describe("require-bounded-restart-policy", () => {
  it("passes for on-failure with 5 attempts", async () => {
    assertNoViolations(await runResourcePolicy(requireBoundedRestartPolicy, app()));
    assertNoViolations(await runResourcePolicy(requireBoundedRestartPolicy, legacy()));
  });

  it("fails when a service has no restart policy (Swarm restarts forever)", async () => {
    const r = edit(app(), (p) => delete p.taskSpec.restartPolicy);
    assertHasViolation(await runResourcePolicy(requireBoundedRestartPolicy, r), "has no restart policy");
  });

  it("fails when on-failure has no attempt limit", async () => {
    const r = edit(app(), (p) => (p.taskSpec.restartPolicy.maxAttempts = 0));
    assertHasViolation(
      await runResourcePolicy(requireBoundedRestartPolicy, r),
      'restarts on "on-failure" without an attempt limit',
    );
  });

  it("fails when attempts exceed the maximum", async () => {
    const r = edit(app(), (p) => (p.taskSpec.restartPolicy.maxAttempts = 20));
    assertHasViolation(
      await runResourcePolicy(requireBoundedRestartPolicy, r),
      "allows 20 restart attempts; at most 5",
    );
  });

  it("fails when a container restarts always", async () => {
    const r = edit(legacy(), (p) => (p.restart = "always"));
    assertHasViolation(await runResourcePolicy(requireBoundedRestartPolicy, r), 'restarts "always"');
  });
});

describe("require-pinned-image", () => {
  it("passes for a tag and for a digest", async () => {
    assertNoViolations(
      await runResourcePolicy(
        requirePinnedImage,
        edit(app(), (p) => (p.taskSpec.containerSpec.image = "redis:7.4.1-alpine")),
      ),
    );
    assertNoViolations(await runResourcePolicy(requirePinnedImage, app()));
  });

  it("fails for latest", async () => {
    const r = edit(app(), (p) => (p.taskSpec.containerSpec.image = "redis:latest"));
    assertHasViolation(await runResourcePolicy(requirePinnedImage, r), 'uses the moving tag "latest"');
  });

  it("fails for an image without a tag, even behind a registry port", async () => {
    const r = edit(legacy(), (p) => (p.image = "registry.local:5000/team/redis"));
    assertHasViolation(await runResourcePolicy(requirePinnedImage, r), "without a tag");
  });

  it("parses registry, tag and digest", () => {
    expect(parseImageRef("registry.local:5000/team/redis:7.4@sha256:abc")).toEqual({
      name: "registry.local:5000/team/redis",
      tag: "7.4",
      digest: "sha256:abc",
    });
  });
});

describe("require-image-digest", () => {
  it("passes for an image pinned by digest", async () => {
    assertNoViolations(await runResourcePolicy(requireImageDigest, app()));
  });

  it("fails for a tag without a digest", async () => {
    const r = edit(app(), (p) => (p.taskSpec.containerSpec.image = "redis:7.4.1-alpine"));
    assertHasViolation(
      await runResourcePolicy(requireImageDigest, r),
      'uses image "redis:7.4.1-alpine" without a digest',
    );
  });
});

describe("require-non-root-user", () => {
  it("passes for an unprivileged uid", async () => {
    assertNoViolations(await runResourcePolicy(requireNonRootUser, app()));
  });

  it("fails when no user is set", async () => {
    const r = edit(app(), (p) => delete p.taskSpec.containerSpec.user);
    assertHasViolation(await runResourcePolicy(requireNonRootUser, r), "sets no user");
  });

  it("fails for uid 0", async () => {
    const r = edit(legacy(), (p) => (p.user = "0:0"));
    assertHasViolation(await runResourcePolicy(requireNonRootUser, r), 'runs as root ("0:0")');
  });
});

describe("require-read-only-root-filesystem", () => {
  it("passes for a read-only root", async () => {
    assertNoViolations(await runResourcePolicy(requireReadOnlyRootFilesystem, app()));
  });

  it("fails for a writable root", async () => {
    const r = edit(app(), (p) => (p.taskSpec.containerSpec.readOnly = false));
    assertHasViolation(
      await runResourcePolicy(requireReadOnlyRootFilesystem, r),
      'service "app" has a writable root filesystem',
    );
  });

  it("passes for a reviewed exception", async () => {
    const r = edit(app(), (p) => (p.taskSpec.containerSpec.readOnly = false));
    assertNoViolations(await runResourcePolicy(requireReadOnlyRootFilesystem, r, { writableAllowed: ["app"] }));
  });
});

describe("disallow-privileged-containers", () => {
  it("passes for an unprivileged container", async () => {
    assertNoViolations(await runResourcePolicy(disallowPrivilegedContainers, legacy()));
  });

  it("fails for a privileged container", async () => {
    const r = edit(legacy(), (p) => (p.privileged = true));
    assertHasViolation(await runResourcePolicy(disallowPrivilegedContainers, r), 'container "legacy" runs privileged');
  });
});

describe("disallow-host-namespaces", () => {
  it("passes for private namespaces", async () => {
    assertNoViolations(await runResourcePolicy(disallowHostNamespaces, legacy()));
  });

  it("fails when a container shares the host's PID and IPC namespaces", async () => {
    const r = edit(legacy(), (p) => Object.assign(p, { pidMode: "host", ipcMode: "host" }));
    assertHasViolation(await runResourcePolicy(disallowHostNamespaces, r), "shares the host's pid, ipc namespaces");
  });
});

describe("require-container-security-options", () => {
  it("passes with no-new-privileges", async () => {
    assertNoViolations(await runResourcePolicy(requireContainerSecurityOptions, legacy()));
  });

  it("fails without no-new-privileges", async () => {
    const r = edit(legacy(), (p) => (p.securityOpts = []));
    assertHasViolation(await runResourcePolicy(requireContainerSecurityOptions, r), "does not set no-new-privileges");
  });

  it("fails when seccomp is unconfined", async () => {
    const r = edit(legacy(), (p) => p.securityOpts.push("seccomp=unconfined"));
    assertHasViolation(
      await runResourcePolicy(requireContainerSecurityOptions, r),
      "disables a security profile (seccomp:unconfined)",
    );
  });

  it("does not apply to Swarm services", async () => {
    assertNoViolations(await runResourcePolicy(requireContainerSecurityOptions, app()));
  });
});

describe("require-pinned-stateful-services", () => {
  // The fixture service keeps state in volume "app-data" and is pinned to the one node labelled iot.state.
  const pinned = app;

  it("passes for one replica pinned by a label one node carries, by hostname or by node id", async () => {
    assertNoViolations(await runResourcePolicy(requirePinnedStatefulServices, pinned()));
    for (const constraint of ["node.hostname == site-a-1", "node.id==2jx9k1q0f3"]) {
      const r = edit(app(), (p) => (p.taskSpec.placement = { constraints: ["node.role == worker", constraint] }));
      assertNoViolations(await runResourcePolicy(requirePinnedStatefulServices, r));
    }
  });

  it("passes for a service without a named volume", async () => {
    const r = edit(app(), (p) => {
      p.taskSpec.placement.constraints = [];
      p.taskSpec.containerSpec.mounts = [{ type: "tmpfs", target: "/tmp" }];
    });
    assertNoViolations(await runResourcePolicy(requirePinnedStatefulServices, r));
  });

  it("fails when the stateful service has no placement constraint", async () => {
    const r = edit(pinned(), (p) => (p.taskSpec.placement.constraints = []));
    assertHasViolation(
      await runResourcePolicy(requirePinnedStatefulServices, r),
      'service "app" keeps state in volume "app-data" but is not pinned to one node',
    );
  });

  it("fails when the label it is constrained by is not one a single node carries", async () => {
    const r = edit(pinned(), (p) => (p.taskSpec.placement.constraints = ["node.labels.iot.storage == true"]));
    assertHasViolation(await runResourcePolicy(requirePinnedStatefulServices, r), "is not pinned to one node");
    assertNoViolations(
      await runResourcePolicy(requirePinnedStatefulServices, r, { uniqueNodeLabels: ["iot.state", "iot.storage"] }),
    );
  });

  it("fails when the constraint excludes a node instead of naming one", async () => {
    const r = edit(pinned(), (p) => (p.taskSpec.placement.constraints = ["node.hostname != site-a-2"]));
    assertHasViolation(await runResourcePolicy(requirePinnedStatefulServices, r), "is not pinned to one node");
  });

  it("fails when the pinned service runs two replicas", async () => {
    const r = edit(pinned(), (p) => (p.mode = { replicated: { replicas: 2 } }));
    assertHasViolation(
      await runResourcePolicy(requirePinnedStatefulServices, r),
      'service "app" keeps state in volume "app-data" but runs 2 replicas',
    );
  });

  it("fails when the pinned service runs in global mode", async () => {
    const r = edit(pinned(), (p) => (p.mode = { global: true }));
    assertHasViolation(await runResourcePolicy(requirePinnedStatefulServices, r), "but runs in global mode");
  });

  it("passes during a preview when the constraints are computed", async () => {
    const r = edit(app(), (p) => (p.taskSpec.placement = { constraints: [UNKNOWN_STRING_SENTINEL] }));
    assertNoViolations(await runResourcePolicy(requirePinnedStatefulServices, r));
  });
});
