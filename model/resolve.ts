/**
 * Turns parsed stack config into the Topology the components deploy: the reference catalog with the
 * stack's overrides applied, environment defaults filled in, and every cross-field rule checked.
 * All problems are collected and thrown together, each naming its config key, before any resource exists.
 */
import { referenceFlows, referenceRoutes, referenceServices, referenceTiers } from "./catalog";
import { Cidr, formatCidr, overlaps, parseCidr, subnetCount } from "./cidr";
import { tierNetworkName } from "./naming";
import { ConfigProblem, configKey, ServiceOverride, StackConfig, StackConfigError } from "./config";
import { FlowSpec, PortSpec, RouteSpec, ServiceSpec, TierSpec, Topology } from "./types";

/** Ports Swarm itself uses on every node: cluster management, gossip, VXLAN. */
export const SWARM_RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
  [2377, "Swarm cluster management"],
  [7946, "Swarm node gossip"],
  [4789, "Swarm overlay VXLAN"],
]);
/** Ports a CapRover host keeps for its own nginx and dashboard. */
export const CAPROVER_RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
  [80, "CapRover HTTP"],
  [443, "CapRover HTTPS"],
  [3000, "CapRover dashboard"],
]);
/** Address ranges Docker already uses on a default Swarm node. */
export const DOCKER_RESERVED_SUBNETS: readonly { cidr: string; use: string }[] = [
  { cidr: "10.0.0.0/24", use: "the Swarm ingress network" },
  { cidr: "172.17.0.0/16", use: "the docker0 bridge" },
  { cidr: "172.18.0.0/16", use: "docker_gwbridge" },
];
/** Browsers and most clients reject leaf certificates valid for longer than this. */
export const MAX_LEAF_VALIDITY_DAYS = 397;

const FLOW_PATTERN = /^\s*([a-z][a-z0-9-]*)\s*->\s*([a-z][a-z0-9-]*)\s*:\s*(\d{1,5})\s*$/;

export function resolveTopology(config: StackConfig): Topology {
  const problems: ConfigProblem[] = [];
  const report = (path: readonly PropertyKey[], message: string) => problems.push({ key: configKey(path), message });

  const tiers = resolveTiers(config, report);
  const tierNames = new Set(tiers.map((t) => t.name));
  const services = resolveServices(config, report);
  const byName = new Map(services.map((s) => [s.name, s]));

  for (const service of services) {
    service.tiers.forEach((tier, i) => {
      if (!tierNames.has(tier)) {
        report(
          ["services", service.name, "tiers", i],
          `unknown tier "${tier}"; tiers are: ${[...tierNames].join(", ")}`,
        );
      }
    });
  }
  checkPublishedPorts(config, services, report);
  checkAliases(services, report);
  const flows = resolveFlows(config, byName, report);
  const routes = resolveRoutes(config, byName, flows, report);
  checkSubnets(config, report);
  checkTls(config, report);
  checkMqttClients(config, flows, report);

  if (problems.length > 0) throw new StackConfigError(problems);

  return {
    environment: config.environment,
    domain: config.domain,
    encryptOverlays: config.encryptOverlays ?? config.environment === "prod",
    publishMode: config.publishMode,
    caproverCoexistence: config.caproverCoexistence,
    subnetPool: config.subnetPool,
    subnetPrefixLength: config.subnetPrefixLength,
    linkSubnetPrefixLength: config.linkSubnetPrefixLength,
    subnetPins: config.subnets,
    adminCidrs: config.adminCidrs,
    tiers,
    services,
    flows,
    routes,
    tls: {
      validityDays: config.tls.validityDays,
      earlyRenewalDays: config.tls.earlyRenewalDays,
      caValidityDays: config.tls.caValidityDays,
      organization: config.tls.organization,
      mqttHostname: config.tls.mqttHostname ?? `mqtt.${config.domain}`,
      mqttClients: config.tls.mqttClients,
      reissue: config.tls.reissue === undefined ? undefined : String(config.tls.reissue),
    },
    mqtt: config.mqtt,
    pinImageDigests: config.pinImageDigests,
    platforms: config.platforms,
    rotations: Object.fromEntries(Object.entries(config.rotations).map(([k, v]) => [k, String(v)])),
  };
}

type Report = (path: readonly PropertyKey[], message: string) => void;

function resolveTiers(config: StackConfig, report: Report): TierSpec[] {
  const tiers = new Map<string, TierSpec>(referenceTiers.map((t) => [t.name, t]));
  config.tiers.forEach((tier, i) => {
    const existing = tiers.get(tier.name);
    tiers.set(tier.name, {
      name: tier.name,
      network: tier.network ?? existing?.network ?? tierNetworkName(tier.name),
      description: tier.description || existing?.description || tier.name,
      attachable: tier.attachable,
    });
    const clash = [...tiers.values()].find((t) => t.name !== tier.name && t.network === tiers.get(tier.name)!.network);
    if (clash)
      report(["tiers", i, "network"], `network name "${clash.network}" is already used by tier "${clash.name}"`);
  });
  return [...tiers.values()];
}

function resolveServices(config: StackConfig, report: Report): ServiceSpec[] {
  const catalog = new Map(referenceServices.map((s) => [s.name, s]));
  const names = [...catalog.keys(), ...Object.keys(config.services).filter((n) => !catalog.has(n))];
  return names.flatMap((name) => {
    const override = config.services[name] ?? {};
    const path = ["services", name];
    if (!/^[a-z][a-z0-9-]{0,40}$/.test(name)) {
      report(path, `service name must be a lower-case DNS label of at most 41 characters, but "${name}" was provided`);
      return [];
    }
    const reference = catalog.get(name);
    if (!reference) {
      const missing = (["image", "tiers", "role", "ports", "health"] as const).filter((f) => override[f] === undefined);
      if (missing.length > 0) {
        report(path, `a service not in the reference catalog must set ${missing.join(", ")}`);
        return [];
      }
    }
    const service = mergeService(name, reference, override, config);
    checkService(service, override, path, config, report);
    return [service];
  });
}

function mergeService(
  name: string,
  reference: ServiceSpec | undefined,
  o: ServiceOverride,
  config: StackConfig,
): ServiceSpec {
  const ports: PortSpec[] = (o.ports ?? reference?.ports ?? []).map((p) => {
    const published = o.publish && p.name in o.publish ? (o.publish[p.name] ?? undefined) : p.published;
    return { ...p, published };
  });
  const singleton = o.singleton ?? reference?.singleton ?? false;
  // Scalable services run two replicas in prod so one can fail or roll without an outage.
  const replicas = o.replicas ?? (config.environment === "prod" && !singleton ? 2 : (reference?.replicas ?? 1));
  const externalEndpoints = o.externalEndpoints ?? reference?.externalEndpoints ?? [];
  const publishes = ports.some((p) => p.published !== undefined);
  const resources = {
    ...(reference?.resources ?? { cpus: 0.5, memoryMb: 256, reservedCpus: 0.1, reservedMemoryMb: 64 }),
    ...o.resources,
  };
  return {
    name,
    image: o.image ?? reference!.image,
    tiers: o.tiers ?? reference!.tiers,
    role: o.role ?? reference!.role,
    ports,
    health: (o.health as ServiceSpec["health"] | undefined) ?? reference!.health,
    replicas,
    aliases: [...(reference?.aliases ?? []), ...(o.aliases ?? [])],
    // A published port in ingress mode needs a VIP; everything else resolves tasks through DNS.
    endpointMode: o.endpointMode ?? (publishes ? (config.publishMode === "host" ? "dnsrr" : "vip") : "dnsrr"),
    singleton,
    egress: publishes || externalEndpoints.length > 0,
    uid: o.uid ?? reference?.uid ?? 65534,
    gid: o.gid ?? reference?.gid ?? 65534,
    readOnlyRootFilesystem: o.readOnlyRootFilesystem ?? reference?.readOnlyRootFilesystem ?? true,
    capDrop: ["ALL"],
    capAdd: o.capAdd ?? reference?.capAdd ?? [],
    resources,
    placement: o.placement ?? reference?.placement ?? [],
    env: { ...(reference?.env ?? {}), ...o.env },
    command: o.command ?? reference?.command,
    args: reference?.args,
    volumes: reference?.volumes ?? [],
    tmpfs: reference?.tmpfs ?? [],
    externalEndpoints,
  };
}

const SECRET_ENV = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_?KEY|API_?KEY)$/i;

function checkService(
  s: ServiceSpec,
  o: ServiceOverride,
  path: PropertyKey[],
  config: StackConfig,
  report: Report,
): void {
  if (
    !/^[^\s:@]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/.test(s.image) ||
    !/[:@]/.test(s.image.split("/").pop()!)
  ) {
    report(
      [...path, "image"],
      `must be pinned by tag or digest (e.g. "grafana/grafana:11.3.1"), but "${s.image}" was provided`,
    );
  } else if (/:latest$/.test(s.image)) {
    report([...path, "image"], `must not use the moving "latest" tag, but "${s.image}" was provided`);
  }
  if (s.replicas < 1) report([...path, "replicas"], `must be at least 1, but ${s.replicas} was provided`);
  if (s.singleton && s.replicas > 1) {
    report(
      [...path, "replicas"],
      `"${s.name}" is a singleton (its state or subscriptions live in one process) and must run 1 replica, but ${s.replicas} was provided (set singleton: false only for a clustered setup)`,
    );
  }
  if (s.resources.reservedMemoryMb > s.resources.memoryMb) {
    report(
      [...path, "resources", "reservedMemoryMb"],
      `must not exceed memoryMb (${s.resources.memoryMb}), but ${s.resources.reservedMemoryMb} was provided`,
    );
  }
  const portNames = new Set<string>();
  s.ports.forEach((p, i) => {
    if (portNames.has(p.name)) report([...path, "ports", i, "name"], `duplicate port name "${p.name}"`);
    portNames.add(p.name);
  });
  for (const key of Object.keys(o.publish ?? {})) {
    if (!portNames.has(key))
      report(
        [...path, "publish", key],
        `"${s.name}" has no port named "${key}"; its ports are: ${[...portNames].join(", ")}`,
      );
  }
  if (s.health.portName && !portNames.has(s.health.portName)) {
    report([...path, "health", "portName"], `"${s.name}" has no port named "${s.health.portName}"`);
  }
  const publishes = s.ports.some((p) => p.published !== undefined);
  if (publishes && config.publishMode === "ingress" && s.endpointMode === "dnsrr") {
    report(
      [...path, "endpointMode"],
      `"dnsrr" cannot publish ports in ingress mode; use "vip" or set publishMode to "host"`,
    );
  }
  for (const [key, value] of Object.entries(o.env ?? {})) {
    if (SECRET_ENV.test(key) && !key.endsWith("_FILE")) {
      report(
        [...path, "env", key],
        `looks like a secret; deliver it as a Docker secret and pass its path in ${key}_FILE instead of "${value.slice(0, 2)}…"`,
      );
    }
  }
}

function checkPublishedPorts(config: StackConfig, services: readonly ServiceSpec[], report: Report): void {
  const taken = new Map<string, { service: string; port: string }>();
  const used = new Set<number>();
  for (const s of services) for (const p of s.ports) if (p.published !== undefined) used.add(p.published);
  const reserved = reservedPorts(config.caproverCoexistence);
  for (const s of services) {
    for (const p of s.ports) {
      if (p.published === undefined) continue;
      const path = publishPath(config, s.name, p.name);
      const reason = reserved.get(p.published);
      if (reason) {
        report(
          path,
          `host port ${p.published} is reserved for ${reason}; use ${suggestFreePort(p.published, used, reserved)} instead`,
        );
      }
      if (p.appProtocol === "mqtt") {
        report(
          path,
          `plaintext MQTT must never be published; publish the TLS listener (8883) instead of ${p.published}`,
        );
      }
      const key = `${p.protocol}/${p.published}`;
      const other = taken.get(key);
      if (other) {
        report(
          path,
          `host port ${p.published}/${p.protocol} is published by both "${other.service}" (${other.port}) and "${s.name}" (${p.name}); ` +
            `publish "${s.name}" on ${suggestFreePort(p.published, used, reserved)} instead`,
        );
      } else {
        taken.set(key, { service: s.name, port: p.name });
      }
    }
  }
}

function publishPath(config: StackConfig, service: string, portName: string): PropertyKey[] {
  const o = config.services[service];
  if (o?.publish && portName in o.publish) return ["services", service, "publish", portName];
  if (o?.ports) return ["services", service, "ports", o.ports.findIndex((p) => p.name === portName), "published"];
  return ["services", service, "publish", portName];
}

export function reservedPorts(caproverCoexistence: boolean): Map<number, string> {
  return new Map([...SWARM_RESERVED_PORTS, ...(caproverCoexistence ? CAPROVER_RESERVED_PORTS : [])]);
}

/** The nearest free host port above `wanted` (unprivileged range when `wanted` is privileged). */
export function suggestFreePort(
  wanted: number,
  used: ReadonlySet<number>,
  reserved: ReadonlyMap<number, string>,
): number {
  const start = wanted < 1024 ? 8000 + wanted : wanted + 1;
  for (let candidate = start; candidate <= 65535; candidate++) {
    if (!used.has(candidate) && !reserved.has(candidate)) return candidate;
  }
  for (let candidate = 1024; candidate < start; candidate++) {
    if (!used.has(candidate) && !reserved.has(candidate)) return candidate;
  }
  throw new Error("no free host port left");
}

function checkAliases(services: readonly ServiceSpec[], report: Report): void {
  const owners = new Map<string, string>(services.map((s) => [s.name, s.name]));
  for (const s of services) {
    s.aliases.forEach((alias, i) => {
      const path = ["services", s.name, "aliases", i];
      if (!/^[a-z][a-z0-9-]{0,62}$/.test(alias)) {
        report(path, `must be a lower-case DNS label, but "${alias}" was provided`);
        return;
      }
      if (alias.startsWith("tasks")) report(path, `"${alias}" would shadow Swarm's tasks.<service> names`);
      const owner = owners.get(alias);
      if (owner !== undefined) {
        report(
          path,
          owner === alias
            ? `alias "${alias}" is already the name of service "${owner}"`
            : `duplicate alias "${alias}": already an alias of "${owner}"`,
        );
      } else {
        owners.set(alias, s.name);
      }
    });
  }
}

function resolveFlows(config: StackConfig, services: ReadonlyMap<string, ServiceSpec>, report: Report): FlowSpec[] {
  const flows: FlowSpec[] = [...referenceFlows];
  config.flows.forEach((text, i) => {
    const path = ["flows", i];
    const match = FLOW_PATTERN.exec(text);
    if (!match) {
      report(path, `must read "client -> server:port", but "${text}" was provided`);
      return;
    }
    const [, from, to, portText] = match;
    const port = Number(portText);
    const problems: string[] = [];
    if (!services.has(from)) problems.push(`unknown service "${from}"`);
    const server = services.get(to);
    if (!server) problems.push(`unknown service "${to}"`);
    else if (!server.ports.some((p) => p.port === port)) {
      problems.push(`"${to}" does not listen on ${port}; its ports are: ${server.ports.map((p) => p.port).join(", ")}`);
    }
    if (from === to) problems.push("a service always reaches itself; a flow needs two services");
    if (problems.length > 0) {
      report(path, `${problems.join("; ")} in "${text}"`);
      return;
    }
    if (!flows.some((f) => f.from === from && f.to === to && f.port === port)) {
      flows.push({ from, to, port, purpose: "Declared in stack config" });
    }
  });
  // Reference flows must still point at services that exist after overrides.
  return flows.filter((f) => services.has(f.from) && services.has(f.to));
}

function resolveRoutes(
  config: StackConfig,
  services: ReadonlyMap<string, ServiceSpec>,
  flows: readonly FlowSpec[],
  report: Report,
): RouteSpec[] {
  const routes = new Map<string, RouteSpec>(
    referenceRoutes.filter((r) => services.has(r.service)).map((r) => [r.subdomain, r]),
  );
  config.routes.forEach((route, i) => {
    if (!services.has(route.service)) {
      report(["routes", i, "service"], `unknown service "${route.service}"`);
    } else if (!flows.some((f) => f.from === "gateway" && f.to === route.service && f.port === route.port)) {
      report(
        ["routes", i],
        `the gateway has no declared flow to ${route.service}:${route.port}; add "gateway -> ${route.service}:${route.port}" to flows`,
      );
    }
    routes.set(route.subdomain, { ...route, purpose: route.purpose || `Route to ${route.service}` });
  });
  return [...routes.values()];
}

function checkSubnets(config: StackConfig, report: Report): void {
  let pool: Cidr;
  try {
    pool = parseCidr(config.subnetPool);
  } catch (e) {
    report(["subnetPool"], (e as Error).message);
    return;
  }
  if (subnetCount(pool, config.subnetPrefixLength) === 0) {
    report(
      ["subnetPrefixLength"],
      `must be at least the pool's prefix (/${pool.prefix}), but ${config.subnetPrefixLength} was provided`,
    );
  }
  for (const reserved of DOCKER_RESERVED_SUBNETS) {
    if (overlaps(pool, parseCidr(reserved.cidr))) {
      report(["subnetPool"], `${formatCidr(pool)} overlaps ${reserved.cidr}, used by ${reserved.use}`);
    }
  }
  config.lanSubnets.forEach((text, i) => {
    try {
      const lan = parseCidr(text);
      if (overlaps(pool, lan))
        report(["subnetPool"], `${formatCidr(pool)} overlaps the site LAN subnet ${text} (lanSubnets[${i}])`);
    } catch (e) {
      report(["lanSubnets", i], (e as Error).message);
    }
  });
  config.adminCidrs.forEach((text, i) => {
    try {
      parseCidr(text);
    } catch (e) {
      report(["adminCidrs", i], (e as Error).message);
    }
  });
}

/** With mTLS on the broker, every in-swarm MQTT client needs a certificate. */
function checkMqttClients(config: StackConfig, flows: readonly FlowSpec[], report: Report): void {
  if (!config.mqtt.requireClientCertificate) return;
  const clients = new Set(config.tls.mqttClients);
  for (const flow of flows.filter((f) => f.to === "mosquitto")) {
    if (!clients.has(flow.from)) {
      report(
        ["tls", "mqttClients"],
        `"${flow.from}" connects to the broker (${flow.from} -> mosquitto:${flow.port}) but has no client certificate; add it`,
      );
    }
  }
}

function checkTls(config: StackConfig, report: Report): void {
  const { tls, mqtt } = config;
  if (tls.validityDays > MAX_LEAF_VALIDITY_DAYS) {
    report(
      ["tls", "validityDays"],
      `must be at most ${MAX_LEAF_VALIDITY_DAYS} days, but ${tls.validityDays} was provided`,
    );
  }
  if (tls.earlyRenewalDays >= tls.validityDays) {
    report(
      ["tls", "earlyRenewalDays"],
      `must be less than validityDays (${tls.validityDays}), but ${tls.earlyRenewalDays} was provided`,
    );
  }
  if (tls.caValidityDays <= tls.validityDays) {
    report(
      ["tls", "caValidityDays"],
      `must exceed validityDays (${tls.validityDays}), but ${tls.caValidityDays} was provided`,
    );
  }
  const clients = new Set(tls.mqttClients);
  mqtt.acl.forEach((entry, i) => {
    if (!clients.has(entry.user)) {
      report(
        ["mqtt", "acl", i, "user"],
        `"${entry.user}" has no client certificate; add it to tls.mqttClients (${[...clients].join(", ") || "none"})`,
      );
    }
  });
  if ((config.caCertPem === undefined) !== (config.caKeyPem === undefined)) {
    report(
      [config.caCertPem === undefined ? "caCertPem" : "caKeyPem"],
      "a bring-your-own CA needs both caCertPem and caKeyPem",
    );
  }
}
