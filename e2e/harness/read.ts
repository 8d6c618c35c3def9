/**
 * The docker provider's Read: inspect the object, then write it back in the provider's shape, the way its
 * flatteners do (terraform-provider-docker internal/provider/resource_docker_service_structures.go
 * flattenTaskSpec, flattenContainerSpec, ...; resource_docker_network_funcs.go
 * resourceDockerNetworkReadRefreshFunc; resource_docker_config.go and resource_docker_secret.go Read), in
 * Pulumi's names. Labels the harness adds to find its own objects are not the program's and are left out.
 *
 * `afterApply` is what the state holds after a create or update: the SDK keeps the planned value of a set
 * the program gave, and takes everything else from Read (grpc_provider.go normalizeNullValues with apply).
 * A refresh takes all of it from Read.
 */
import { E2E_LABEL, E2E_RESOURCE_LABEL, E2E_RUN_LABEL } from "./labels";
import { contractOf } from "./contract/rules";

type Dict = Record<string, any>;

const HARNESS_LABELS = new Set([E2E_LABEL, E2E_RUN_LABEL, E2E_RESOURCE_LABEL]);

/** Go's time.Duration.String() for nanoseconds, trimmed as the provider's shortDur trims it. */
export function shortDur(nanos: number | undefined): string {
  let rest = Math.round(nanos ?? 0);
  if (rest === 0) return "0s";
  if (rest < 1e9) {
    if (rest >= 1e6) return `${rest / 1e6}ms`;
    if (rest >= 1e3) return `${rest / 1e3}µs`;
    return `${rest}ns`;
  }
  const h = Math.floor(rest / 3600e9);
  rest -= h * 3600e9;
  const m = Math.floor(rest / 60e9);
  rest -= m * 60e9;
  let text = `${Number((rest / 1e9).toFixed(9))}s`;
  if (h > 0 || m > 0) text = `${m}m${text}`;
  if (h > 0) text = `${h}h${text}`;
  if (text.endsWith("m0s")) text = text.slice(0, -2);
  if (text.endsWith("h0m")) text = text.slice(0, -2);
  return text;
}

/** `mapToLabelSet`, without the harness's own labels. */
function labelSet(labels: Record<string, string> | undefined): { label: string; value: string }[] {
  return Object.entries(labels ?? {})
    .filter(([k]) => !HARNESS_LABELS.has(k))
    .map(([label, value]) => ({ label, value }));
}

const nonEmpty = <T>(v: T[] | undefined): T[] | undefined => (v && v.length > 0 ? v : undefined);

function fileRefs(refs: Dict[] | undefined, kind: "secret" | "config"): Dict[] | undefined {
  return nonEmpty(
    (refs ?? []).map((ref) => ({
      [`${kind}Id`]: ref[kind === "secret" ? "SecretID" : "ConfigID"],
      [`${kind}Name`]: ref[kind === "secret" ? "SecretName" : "ConfigName"] || undefined,
      fileName: ref.File?.Name,
      fileUid: ref.File?.UID || undefined,
      fileGid: ref.File?.GID || undefined,
      fileMode: ref.File?.Mode,
    })),
  );
}

function mounts(list: Dict[] | undefined): Dict[] | undefined {
  return nonEmpty(
    (list ?? []).map((m) => {
      const volumeLabels = labelSet(m.VolumeOptions?.Labels);
      // The harness labels the volumes a mount creates so its teardown finds them; without them the
      // program's mount has no volume options at all.
      const volumeOptions =
        m.VolumeOptions && (m.VolumeOptions.NoCopy || volumeLabels.length > 0 || m.VolumeOptions.DriverConfig)
          ? {
              noCopy: m.VolumeOptions.NoCopy ?? false,
              labels: volumeLabels,
              driverName: m.VolumeOptions.DriverConfig?.Name || undefined,
              driverOptions: m.VolumeOptions.DriverConfig ? (m.VolumeOptions.DriverConfig.Options ?? {}) : undefined,
            }
          : undefined;
      return {
        target: m.Target,
        source: m.Source,
        type: m.Type,
        readOnly: m.ReadOnly ?? false,
        bindOptions: m.BindOptions ? { propagation: m.BindOptions.Propagation || undefined } : undefined,
        volumeOptions,
        // Mode.Perm(): the sticky, setuid and setgid bits are dropped.
        tmpfsOptions: m.TmpfsOptions
          ? { sizeBytes: m.TmpfsOptions.SizeBytes ?? 0, mode: (m.TmpfsOptions.Mode ?? 0) & 0o777 }
          : undefined,
      };
    }),
  );
}

/** `mapStringSliceToMap`: split each `k=v` at the first `=`. */
function envMap(env: string[] | undefined): Record<string, string> | undefined {
  if (!env || env.length === 0) return undefined;
  return Object.fromEntries(
    env.filter((e) => e.length > 0).map((e) => [e.split("=")[0], e.split("=").slice(1).join("=")]),
  );
}

function containerSpec(c: Dict): Dict {
  const labels = labelSet(c.Labels);
  return {
    image: c.Image || undefined,
    labels: nonEmpty(labels),
    commands: nonEmpty(c.Command),
    args: nonEmpty(c.Args),
    hostname: c.Hostname || undefined,
    env: envMap(c.Env),
    user: c.User || undefined,
    dir: c.Dir || undefined,
    groups: nonEmpty(c.Groups),
    readOnly: c.ReadOnly ? true : undefined,
    mounts: mounts(c.Mounts),
    stopSignal: c.StopSignal || undefined,
    stopGracePeriod: c.StopGracePeriod !== undefined ? shortDur(c.StopGracePeriod) : undefined,
    healthcheck: c.Healthcheck
      ? {
          tests: nonEmpty(c.Healthcheck.Test),
          interval: shortDur(c.Healthcheck.Interval),
          timeout: shortDur(c.Healthcheck.Timeout),
          startPeriod: shortDur(c.Healthcheck.StartPeriod),
          retries: c.Healthcheck.Retries ?? 0,
        }
      : undefined,
    hosts: nonEmpty(
      (c.Hosts ?? []).map((h: string) => ({ ip: h.split(" ")[0], host: h.split(" ").slice(1).join(" ") })),
    ),
    dnsConfig: c.DNSConfig
      ? {
          nameservers: nonEmpty(c.DNSConfig.Nameservers),
          searches: nonEmpty(c.DNSConfig.Search),
          options: nonEmpty(c.DNSConfig.Options),
        }
      : undefined,
    secrets: fileRefs(c.Secrets, "secret"),
    configs: fileRefs(c.Configs, "config"),
    isolation: c.Isolation || undefined,
    sysctl: c.Sysctls && Object.keys(c.Sysctls).length > 0 ? c.Sysctls : undefined,
    capAdds: nonEmpty(c.CapabilityAdd),
    capDrops: nonEmpty(c.CapabilityDrop),
    init: c.Init ?? undefined,
  };
}

function rollout(u: Dict | undefined): Dict | undefined {
  if (!u) return undefined;
  return {
    parallelism: u.Parallelism ?? 0,
    delay: shortDur(u.Delay),
    failureAction: u.FailureAction ?? "",
    monitor: shortDur(u.Monitor),
    // strconv.FormatFloat(float64(float32(r)), 'f', 1, 64)
    maxFailureRatio: Math.fround(u.MaxFailureRatio ?? 0).toFixed(1),
    order: u.Order ?? "",
  };
}

/** A service inspect (GET /services/{id}) as the provider's state. */
export function readService(svc: Dict): Dict {
  const spec = svc.Spec ?? {};
  const task = spec.TaskTemplate ?? {};
  const endpoint = svc.Endpoint?.Spec?.Mode
    ? svc.Endpoint
    : { Spec: spec.EndpointSpec ?? {}, Ports: spec.EndpointSpec?.Ports };
  const placement = task.Placement;
  return {
    name: spec.Name,
    labels: labelSet(spec.Labels),
    mode: spec.Mode?.Global
      ? { global: true }
      : { replicated: { replicas: spec.Mode?.Replicated?.Replicas }, global: false },
    endpointSpec: endpoint?.Spec?.Mode
      ? {
          mode: endpoint.Spec.Mode,
          ports: (endpoint.Ports ?? []).map((p: Dict) => ({
            name: p.Name ?? "",
            protocol: p.Protocol,
            targetPort: p.TargetPort,
            publishedPort: p.PublishedPort ?? 0,
            publishMode: p.PublishMode,
          })),
        }
      : undefined,
    taskSpec: {
      containerSpec: task.ContainerSpec ? containerSpec(task.ContainerSpec) : undefined,
      resources: task.Resources
        ? {
            limits: task.Resources.Limits
              ? { nanoCpus: task.Resources.Limits.NanoCPUs ?? 0, memoryBytes: task.Resources.Limits.MemoryBytes ?? 0 }
              : undefined,
            reservation: task.Resources.Reservations
              ? {
                  nanoCpus: task.Resources.Reservations.NanoCPUs ?? 0,
                  memoryBytes: task.Resources.Reservations.MemoryBytes ?? 0,
                }
              : undefined,
          }
        : undefined,
      restartPolicy: task.RestartPolicy
        ? {
            condition: task.RestartPolicy.Condition || undefined,
            delay: task.RestartPolicy.Delay !== undefined ? shortDur(task.RestartPolicy.Delay) : undefined,
            maxAttempts: task.RestartPolicy.MaxAttempts,
            window: task.RestartPolicy.Window !== undefined ? shortDur(task.RestartPolicy.Window) : undefined,
          }
        : undefined,
      placement: placement
        ? {
            constraints: nonEmpty(placement.Constraints),
            prefs: nonEmpty((placement.Preferences ?? []).map((p: Dict) => p.Spread?.SpreadDescriptor)),
            platforms: nonEmpty(
              (placement.Platforms ?? []).map((p: Dict) => ({ architecture: p.Architecture, os: p.OS })),
            ),
            maxReplicas: placement.MaxReplicas ?? 0,
          }
        : undefined,
      forceUpdate: task.ForceUpdate ?? 0,
      runtime: task.Runtime || undefined,
      networksAdvanceds: nonEmpty(
        (task.Networks ?? []).map((n: Dict) => ({
          id: n.Target,
          driverOpts: Object.entries(n.DriverOpts ?? {}).map(([k, v]) => `${k}=${v}`),
          aliases: nonEmpty(n.Aliases),
        })),
      ),
      logDriver: task.LogDriver ? { name: task.LogDriver.Name, options: task.LogDriver.Options } : undefined,
    },
    updateConfig: rollout(spec.UpdateConfig),
    rollbackConfig: rollout(spec.RollbackConfig),
  };
}

/** A network inspect as the provider's state (options as inspect reports them, VXLAN id included). */
export function readNetwork(net: Dict): Dict {
  return {
    name: net.Name,
    labels: labelSet(net.Labels),
    driver: net.Driver,
    options: net.Options ?? {},
    internal: Boolean(net.Internal),
    attachable: Boolean(net.Attachable),
    ingress: Boolean(net.Ingress),
    ipv6: Boolean(net.EnableIPv6),
    ipamDriver: net.IPAM?.Driver,
    ipamOptions: net.IPAM?.Options ?? undefined,
    ipamConfigs: (net.IPAM?.Config ?? []).map((c: Dict) => ({
      subnet: c.Subnet || undefined,
      gateway: c.Gateway || undefined,
      ipRange: c.IPRange || undefined,
      auxAddress: c.AuxiliaryAddresses ?? undefined,
    })),
    scope: net.Scope,
  };
}

/** A config inspect: its name, data (base64) and labels. */
export function readConfig(cfg: Dict): Dict {
  return { name: cfg.Spec?.Name, data: cfg.Spec?.Data, labels: labelSet(cfg.Spec?.Labels) };
}

/** A secret inspect: Docker never exposes a secret's data, so the provider reads back only its name. */
export function readSecret(secret: Dict): Dict {
  return { name: secret.Spec?.Name };
}

const getAt = (value: Dict, path: string): unknown =>
  path
    .split(".")
    .reduce<unknown>((v, key) => (v !== null && typeof v === "object" ? (v as Dict)[key] : undefined), value);

function setAt(target: Dict, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === undefined || node[key] === null || typeof node[key] !== "object") node[key] = {};
    node = node[key];
  }
  node[keys[keys.length - 1]] = value;
}

/**
 * The state after a create or update: Read's values, except each set the program gave, which keeps its
 * planned value, and each input Read never writes (a secret's data and labels), kept from the plan.
 */
export function afterApply(type: string, inputs: Dict, read: Dict): Dict {
  const state = structuredClone(read);
  for (const rule of contractOf(type).rules) {
    const planned = getAt(inputs, rule.path);
    if (planned === undefined) continue;
    if (rule.set || rule.notRead) setAt(state, rule.path, structuredClone(planned));
  }
  return state;
}
