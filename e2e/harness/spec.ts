/**
 * Pure mapping from the Pulumi docker provider's (v5) input shapes to Docker Engine API
 * request bodies. Part of the test stand-in for the docker provider: kept free of I/O so the
 * mapping can be checked on its own.
 */

type Dict = Record<string, any>;

/** Go duration ("1m30s", "500ms", "10s") to nanoseconds, as the provider sends them. */
export function parseDuration(value: unknown): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number") return value;
  const s = String(value).trim();
  if (s === "0") return 0;
  // Go accepts both micro signs (U+00B5, U+03BC) and a number with only a fraction (".5s").
  const unit: Record<string, number> = {
    ns: 1,
    us: 1e3,
    "\u00b5s": 1e3,
    "\u03bcs": 1e3,
    ms: 1e6,
    s: 1e9,
    m: 60e9,
    h: 3600e9,
  };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    total += parseFloat(m[1]) * unit[m[2]];
    matched = re.lastIndex;
  }
  if (matched !== s.length || matched === 0) throw new Error(`e2e harness: invalid duration ${JSON.stringify(value)}`);
  return Math.round(total);
}

export function labelsToMap(labels: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of (labels ?? []) as { label: string; value: string }[]) out[l.label] = String(l.value);
  return out;
}

/** Drops undefined fields so the Engine API applies its own defaults. */
function compact<T extends Dict>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function isBase64(data: string): boolean {
  const s = data.replace(/\s+/g, "");
  return /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0;
}

/** Secret and config data: the provider requires base64 and rejects anything else. */
export function base64Data(kind: string, data: unknown, dataRaw?: unknown): string {
  if (dataRaw !== undefined && dataRaw !== null) return Buffer.from(String(dataRaw)).toString("base64");
  if (typeof data !== "string" || !isBase64(data)) throw new Error(`e2e harness: ${kind} data must be base64 encoded`);
  return data.replace(/\s+/g, "");
}

export function networkCreateBody(name: string, inputs: Dict, labels: Record<string, string>): Dict {
  return compact({
    Name: name,
    CheckDuplicate: inputs.checkDuplicate ?? true,
    Driver: inputs.driver ?? "bridge",
    Internal: Boolean(inputs.internal),
    Attachable: Boolean(inputs.attachable),
    Ingress: Boolean(inputs.ingress),
    EnableIPv6: Boolean(inputs.ipv6),
    Options: inputs.options ?? {},
    Labels: { ...labelsToMap(inputs.labels), ...labels },
    IPAM: compact({
      Driver: inputs.ipamDriver ?? "default",
      Options: inputs.ipamOptions,
      Config: ((inputs.ipamConfigs ?? []) as Dict[]).map((c) =>
        compact({ Subnet: c.subnet, Gateway: c.gateway, IPRange: c.ipRange, AuxiliaryAddresses: c.auxAddress }),
      ),
    }),
  });
}

function fileTarget(f: Dict) {
  return {
    Name: f.fileName,
    // The provider's defaults: root-owned, world-readable.
    UID: String(f.fileUid ?? "0"),
    GID: String(f.fileGid ?? "0"),
    Mode: f.fileMode ?? 0o444,
  };
}

function mount(m: Dict, labels: Record<string, string>): Dict {
  const v = m.volumeOptions as Dict | undefined;
  return compact({
    Type: m.type,
    Source: m.source,
    Target: m.target,
    ReadOnly: m.readOnly,
    BindOptions: m.bindOptions ? compact({ Propagation: m.bindOptions.propagation }) : undefined,
    TmpfsOptions: m.tmpfsOptions
      ? compact({ SizeBytes: m.tmpfsOptions.sizeBytes, Mode: m.tmpfsOptions.mode })
      : undefined,
    // Volumes the swarm creates for a mount carry the e2e labels, so teardown finds them.
    VolumeOptions:
      m.type === "volume"
        ? compact({
            NoCopy: v?.noCopy,
            Labels: { ...labelsToMap(v?.labels), ...labels },
            DriverConfig:
              v?.driverName || v?.driverOptions
                ? compact({ Name: v?.driverName, Options: v?.driverOptions })
                : undefined,
          })
        : undefined,
  });
}

function updateConfig(u: Dict | undefined): Dict | undefined {
  if (!u) return undefined;
  return compact({
    Parallelism: u.parallelism,
    Delay: parseDuration(u.delay),
    FailureAction: u.failureAction,
    Monitor: parseDuration(u.monitor),
    MaxFailureRatio: u.maxFailureRatio !== undefined ? parseFloat(String(u.maxFailureRatio)) : undefined,
    Order: u.order,
  });
}

function genericResources(g: Dict | undefined): Dict[] | undefined {
  if (!g) return undefined;
  const split = (s: string) => {
    const i = s.indexOf("=");
    if (i < 0) throw new Error(`e2e harness: generic resource ${s} is not KIND=VALUE`);
    return [s.slice(0, i), s.slice(i + 1)];
  };
  return [
    ...((g.discreteResourcesSpecs ?? []) as string[]).map((s) => {
      const [Kind, v] = split(s);
      return { DiscreteResourceSpec: { Kind, Value: Number(v) } };
    }),
    ...((g.namedResourcesSpecs ?? []) as string[]).map((s) => {
      const [Kind, Value] = split(s);
      return { NamedResourceSpec: { Kind, Value } };
    }),
  ];
}

export interface ServiceSpecOptions {
  /** Labels added to the service, its containers and the volumes it creates. */
  labels: Record<string, string>;
  /** Maps the image the program names to the one to run (identity for the e2e stack). */
  imageMap?: (image: string) => string;
}

/** The provider's `docker.Service` inputs as an Engine API ServiceSpec. */
export function serviceSpecBody(name: string, inputs: Dict, opts: ServiceSpecOptions): Dict {
  const task = inputs.taskSpec as Dict | undefined;
  if (!task?.containerSpec?.image) throw new Error(`e2e harness: service ${name} has no taskSpec.containerSpec.image`);
  const mode = inputs.mode as Dict | undefined;
  return compact({
    Name: name,
    Labels: { ...labelsToMap(inputs.labels), ...opts.labels },
    TaskTemplate: taskTemplate(task, opts),
    Mode: mode?.global ? { Global: {} } : { Replicated: { Replicas: mode?.replicated?.replicas ?? 1 } },
    UpdateConfig: updateConfig(inputs.updateConfig),
    RollbackConfig: updateConfig(inputs.rollbackConfig),
    EndpointSpec: endpointSpec(inputs.endpointSpec),
  });
}

function taskTemplate(task: Dict, opts: ServiceSpecOptions): Dict {
  return compact({
    ContainerSpec: containerSpec(task.containerSpec as Dict, opts),
    Resources: resources(task.resources),
    RestartPolicy: restartPolicy(task.restartPolicy),
    Placement: placement(task.placement),
    ForceUpdate: task.forceUpdate,
    Runtime: task.runtime,
    Networks: task.networksAdvanceds ? (task.networksAdvanceds as Dict[]).map(networkAttachment) : undefined,
    LogDriver: task.logDriver ? compact({ Name: task.logDriver.name, Options: task.logDriver.options }) : undefined,
  });
}

function containerSpec(c: Dict, opts: ServiceSpecOptions): Dict {
  const dns = c.dnsConfig as Dict | undefined;
  const env = c.env as Record<string, string> | undefined;
  return compact({
    Image: opts.imageMap ? opts.imageMap(c.image) : c.image,
    Labels: { ...labelsToMap(c.labels), ...opts.labels },
    Command: c.commands,
    Args: c.args,
    Hostname: c.hostname,
    Env: env
      ? Object.keys(env)
          .sort()
          .map((k) => `${k}=${env[k]}`)
      : undefined,
    Dir: c.dir,
    User: c.user,
    Groups: c.groups,
    Privileges: privileges(c.privileges),
    Init: c.init,
    ReadOnly: c.readOnly,
    Mounts: c.mounts ? (c.mounts as Dict[]).map((m) => mount(m, opts.labels)) : undefined,
    StopSignal: c.stopSignal,
    StopGracePeriod: parseDuration(c.stopGracePeriod),
    Healthcheck: healthcheck(c.healthcheck),
    // Engine format: "IP hostname".
    Hosts: c.hosts ? (c.hosts as Dict[]).map((h) => `${h.ip} ${h.host}`) : undefined,
    DNSConfig: dns ? compact({ Nameservers: dns.nameservers, Search: dns.searches, Options: dns.options }) : undefined,
    Secrets: c.secrets
      ? (c.secrets as Dict[]).map((s) =>
          compact({ File: fileTarget(s), SecretID: s.secretId, SecretName: s.secretName }),
        )
      : undefined,
    Configs: c.configs
      ? (c.configs as Dict[]).map((s) =>
          compact({ File: fileTarget(s), ConfigID: s.configId, ConfigName: s.configName }),
        )
      : undefined,
    Isolation: c.isolation,
    Sysctls: c.sysctl,
    CapabilityAdd: c.capAdds,
    CapabilityDrop: c.capDrops,
  });
}

function privileges(priv: Dict | undefined): Dict | undefined {
  if (!priv) return undefined;
  const se = priv.seLinuxContext as Dict | undefined;
  return compact({
    CredentialSpec: priv.credentialSpec
      ? compact({ File: priv.credentialSpec.file, Registry: priv.credentialSpec.registry })
      : undefined,
    SELinuxContext: se
      ? compact({ Disable: se.disable, User: se.user, Role: se.role, Type: se.type, Level: se.level })
      : undefined,
  });
}

function healthcheck(hc: Dict | undefined): Dict | undefined {
  if (!hc) return undefined;
  return compact({
    Test: hc.tests,
    Interval: parseDuration(hc.interval),
    Timeout: parseDuration(hc.timeout),
    Retries: hc.retries,
    StartPeriod: parseDuration(hc.startPeriod),
  });
}

function resources(res: Dict | undefined): Dict | undefined {
  if (!res) return undefined;
  return compact({
    Limits: res.limits ? compact({ NanoCPUs: res.limits.nanoCpus, MemoryBytes: res.limits.memoryBytes }) : undefined,
    Reservations: res.reservation
      ? compact({
          NanoCPUs: res.reservation.nanoCpus,
          MemoryBytes: res.reservation.memoryBytes,
          GenericResources: genericResources(res.reservation.genericResources),
        })
      : undefined,
  });
}

function restartPolicy(rp: Dict | undefined): Dict | undefined {
  if (!rp) return undefined;
  return compact({
    Condition: rp.condition,
    Delay: parseDuration(rp.delay),
    MaxAttempts: rp.maxAttempts,
    Window: parseDuration(rp.window),
  });
}

function placement(pl: Dict | undefined): Dict | undefined {
  if (!pl) return undefined;
  return compact({
    Constraints: pl.constraints,
    Preferences: pl.prefs
      ? (pl.prefs as string[]).map((p) => ({ Spread: { SpreadDescriptor: p.replace(/^spread=/, "") } }))
      : undefined,
    MaxReplicas: pl.maxReplicas,
    Platforms: pl.platforms
      ? (pl.platforms as Dict[]).map((p) => ({ Architecture: p.architecture, OS: p.os }))
      : undefined,
  });
}

/** `id` is the provider's field; `name` is its deprecated alias (also an id, see pulumi-docker#233). */
function networkAttachment(n: Dict): Dict {
  return compact({
    Target: n.id ?? n.name,
    Aliases: n.aliases,
    DriverOpts: n.driverOpts
      ? Object.fromEntries((n.driverOpts as string[]).map((o) => [o.split("=")[0], o.split("=").slice(1).join("=")]))
      : undefined,
  });
}

function endpointSpec(ep: Dict | undefined): Dict | undefined {
  if (!ep) return undefined;
  return compact({
    Mode: ep.mode,
    Ports: ep.ports
      ? (ep.ports as Dict[]).map((p) =>
          compact({
            Name: p.name,
            Protocol: p.protocol ?? "tcp",
            TargetPort: p.targetPort,
            PublishedPort: p.publishedPort,
            PublishMode: p.publishMode ?? "ingress",
          }),
        )
      : undefined,
  });
}

/** Replica count the service should converge to (global: one per node, here one). */
export function desiredReplicas(inputs: Dict): number {
  const mode = inputs.mode as Dict | undefined;
  if (mode?.global) return 1;
  return mode?.replicated?.replicas ?? 1;
}
