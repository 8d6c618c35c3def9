/** Tables a reviewer reads: discovery (names, ports, networks) and published ports, derived from the plan. */
import { NetworkPlan } from "./networks";
import { Topology } from "./types";

export interface DiscoveryEntry {
  readonly service: string;
  /** Names that resolve on every network the service joins. */
  readonly dnsNames: readonly string[];
  /** Resolves to each task's address (what the gateway and Prometheus use). */
  readonly tasksName: string;
  readonly endpointMode: string;
  readonly replicas: number;
  readonly ports: readonly string[];
  readonly networks: readonly string[];
  readonly healthUrl?: string;
}

export function discoveryTable(t: Topology, plan: NetworkPlan): DiscoveryEntry[] {
  return t.services.map((s) => {
    const healthPort = s.ports.find((p) => p.name === s.health.portName);
    return {
      service: s.name,
      dnsNames: [s.name, ...s.aliases],
      tasksName: `tasks.${s.name}`,
      endpointMode: s.endpointMode,
      replicas: s.replicas,
      ports: s.ports.map((p) => `${p.port}/${p.protocol} (${p.name})`),
      networks: plan.attachments[s.name] ?? [],
      healthUrl:
        s.health.httpPath && healthPort ? `http://${s.name}:${healthPort.port}${s.health.httpPath}` : undefined,
    };
  });
}

export interface PublishedPort {
  readonly service: string;
  readonly portName: string;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: string;
  readonly mode: string;
  readonly purpose: string;
}

export function publishedPorts(t: Topology): PublishedPort[] {
  return t.services
    .flatMap((s) =>
      s.ports
        .filter((p) => p.published !== undefined)
        .map((p) => ({
          service: s.name,
          portName: p.name,
          hostPort: p.published!,
          containerPort: p.port,
          protocol: p.protocol,
          mode: t.publishMode,
          purpose: p.purpose,
        })),
    )
    .sort((a, b) => a.hostPort - b.hostPort);
}

export interface ServiceEndpoints {
  /** HTTP health URL inside the swarm, or the health command for services without one. */
  readonly health: string;
  readonly internal: readonly string[];
  /** URLs or host:port reachable from outside the swarm. */
  readonly external: readonly string[];
}

export function endpoints(t: Topology): Record<string, ServiceEndpoints> {
  const scheme: Record<string, string> = {
    http: "http",
    https: "https",
    mqtt: "mqtt",
    mqtts: "mqtts",
    redis: "redis",
    nats: "nats",
    metrics: "http",
  };
  return Object.fromEntries(
    t.services.map((s) => {
      const healthPort = s.ports.find((p) => p.name === s.health.portName);
      const health =
        s.health.httpPath && healthPort
          ? `http://${s.name}:${healthPort.port}${s.health.httpPath}`
          : `exec: ${s.health.test.slice(1).join(" ")}`;
      const external = [
        ...t.routes.filter((r) => r.service === s.name).map((r) => `https://${r.subdomain}.${t.domain}/`),
        ...s.ports
          .filter((p) => p.published !== undefined && p.appProtocol !== "http")
          .map((p) => {
            const host = p.appProtocol === "mqtts" ? t.tls.mqttHostname : t.domain;
            return p.appProtocol === "https" && p.published === 443
              ? `https://${host}/`
              : `${scheme[p.appProtocol]}://${host}:${p.published}`;
          }),
      ];
      return [
        s.name,
        { health, internal: s.ports.map((p) => `${scheme[p.appProtocol]}://${s.name}:${p.port}`), external },
      ];
    }),
  );
}
