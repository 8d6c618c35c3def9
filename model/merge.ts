/**
 * The merge step: the reference catalog, the stack's overrides and the environment's defaults,
 * combined into a Topology. It judges nothing; what it cannot build (a service without its required
 * fields, a flow to nowhere) it leaves out, and validate.ts reports why.
 */
import { referenceFlows, referenceRoutes, referenceServices, referenceTiers } from "./catalog";
import { ServiceOverride, StackConfig } from "./config";
import { flowProblems, parseFlow } from "./flows";
import { placementWithPin } from "./placement";
import { FlowSpec, PortSpec, RouteSpec, ServiceSpec, TierSpec, Topology } from "./types";
import { tierNetworkName } from "./naming";

/** Fields a service outside the reference catalog must set. */
export const REQUIRED_NEW_SERVICE_FIELDS = ["image", "tiers", "role", "ports", "health"] as const;
/** A DNS label (no trailing hyphen) short enough for the names derived from it (networks, configs, secrets). */
const SERVICE_NAME = /^[a-z](?:[a-z0-9-]{0,39}[a-z0-9])?$/;
const DEFAULT_RESOURCES = { cpus: 0.5, memoryMb: 256, reservedCpus: 0.1, reservedMemoryMb: 64 };

/** Why a configured service cannot be built, or undefined when it can. */
export function unbuildableService(name: string, override: ServiceOverride, inCatalog: boolean): string | undefined {
  if (!SERVICE_NAME.test(name)) {
    return `service name must be a lower-case DNS label of at most 41 characters, but "${name}" was provided`;
  }
  const missing = inCatalog ? [] : REQUIRED_NEW_SERVICE_FIELDS.filter((f) => override[f] === undefined);
  return missing.length > 0 ? `a service not in the reference catalog must set ${missing.join(", ")}` : undefined;
}

export function mergeTopology(config: StackConfig): Topology {
  const services = mergeServices(config);
  const byName = new Map(services.map((s) => [s.name, s]));
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
    tiers: mergeTiers(config),
    services,
    flows: mergeFlows(config, byName),
    routes: mergeRoutes(config),
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

function mergeTiers(config: StackConfig): TierSpec[] {
  const tiers = new Map<string, TierSpec>(referenceTiers.map((t) => [t.name, t]));
  for (const tier of config.tiers) {
    const existing = tiers.get(tier.name);
    tiers.set(tier.name, {
      name: tier.name,
      network: tier.network ?? existing?.network ?? tierNetworkName(tier.name),
      description: tier.description || existing?.description || tier.name,
      attachable: tier.attachable,
    });
  }
  return [...tiers.values()];
}

/** Catalog services first, in catalog order, then the stack's own in config order. */
function mergeServices(config: StackConfig): ServiceSpec[] {
  const catalog = new Map(referenceServices.map((s) => [s.name, s]));
  const names = [...catalog.keys(), ...Object.keys(config.services).filter((n) => !catalog.has(n))];
  return names.flatMap((name) => {
    const override = config.services[name] ?? {};
    const reference = catalog.get(name);
    if (unbuildableService(name, override, reference !== undefined)) return [];
    return [mergeService(name, reference, override, config)];
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
  // A scaled-out (non-singleton) service keeps its state elsewhere; a node-local volume per task would split it.
  const volumes = singleton ? (reference?.volumes ?? []) : [];
  return {
    name,
    app: reference?.app,
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
    resources: { ...(reference?.resources ?? DEFAULT_RESOURCES), ...o.resources },
    placement: placementWithPin(o.placement ?? reference?.placement ?? [], volumes, o.stateNode),
    env: { ...(reference?.env ?? {}), ...o.env },
    command: o.command ?? reference?.command,
    args: reference?.args,
    volumes,
    tmpfs: reference?.tmpfs ?? [],
    externalEndpoints,
  };
}

/** Reference flows (between catalog services, which always exist), then the stack's that can exist, each once. */
function mergeFlows(config: StackConfig, services: ReadonlyMap<string, ServiceSpec>): FlowSpec[] {
  const flows: FlowSpec[] = [...referenceFlows];
  for (const entry of config.flows) {
    const flow = parseFlow(entry.flow);
    if (!flow || flowProblems(flow, services).length > 0) continue;
    const permissions = entry.permissions && { permissions: entry.permissions };
    const index = flows.findIndex((f) => f.from === flow.from && f.to === flow.to && f.port === flow.port);
    if (index < 0) flows.push({ ...flow, purpose: "Declared in stack config", ...permissions });
    // Repeating a flow declares it once; permissions given with it scope its identity.
    else if (permissions) flows[index] = { ...flows[index], ...permissions };
  }
  return flows;
}

/**
 * Reference routes (to catalog services), then the stack's, one per subdomain. A stack route on a reference
 * route's subdomain replaces it; validation allows that only for the same service (validateRoutes.ts), and
 * rejects a second stack route on one subdomain, so nothing is replaced silently.
 */
function mergeRoutes(config: StackConfig): RouteSpec[] {
  const routes = new Map<string, RouteSpec>(referenceRoutes.map((r) => [r.subdomain, r]));
  const configured = new Set<string>();
  for (const { subdomain, service, port, admin, purpose } of config.routes) {
    if (configured.has(subdomain)) continue;
    configured.add(subdomain);
    routes.set(subdomain, { subdomain, service, port, admin, purpose: purpose || `Route to ${service}` });
  }
  return [...routes.values()];
}
