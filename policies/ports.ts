/**
 * Published port rules: who may publish, which ports never leave the swarm, conflicts across the stack,
 * privileged host ports, and how ports are published.
 */
import { PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { mapsTo } from "./lib/catalog";
import { configOf, integerList, stringList } from "./lib/config";
import { buildStackGraph } from "./lib/stack";
import { describeListener, isMosquittoConfig, mosquittoListeners } from "./lib/mosquitto";
import { describeConfig, forServiceConfigs } from "./lib/serviceConfigs";
import { isKnown, Maybe, UNKNOWN } from "./lib/values";
import { describe, forWorkloads, matchesNameOrRole, PortView, WorkloadView } from "./lib/workloads";

/** What listens on the ports that must never be published (for messages). */
export const SENSITIVE_PORTS: Readonly<Record<number, string>> = {
  1880: "Node-RED editor",
  2375: "Docker API (plaintext)",
  2376: "Docker API",
  2377: "Swarm cluster management",
  3000: "Grafana",
  3306: "MySQL",
  4222: "NATS clients",
  4789: "Swarm overlay VXLAN",
  5432: "PostgreSQL",
  5672: "AMQP",
  6222: "NATS cluster routes",
  6379: "Redis",
  7946: "Swarm node gossip",
  8086: "InfluxDB API and admin UI",
  8222: "NATS monitoring",
  8405: "HAProxy metrics",
  9090: "Prometheus",
  9093: "Alertmanager",
  9100: "node exporter",
  9200: "Elasticsearch",
  11211: "memcached",
  15672: "RabbitMQ management",
  27017: "MongoDB",
};

const portText = (p: PortView) => {
  const published =
    p.published === UNKNOWN ? "(unknown)" : p.published === undefined ? "(random)" : String(p.published);
  const target = isKnown(p.target) ? String(p.target) : "(unknown)";
  return `${published}->${target}/${p.protocol}`;
};

const knownPorts = (w: WorkloadView): readonly PortView[] => (w.ports === UNKNOWN ? [] : w.ports);

const publishersSchema: PolicyConfigSchema = {
  properties: {
    allowedPublishers: stringList("Service or container names (or iot.role values) that may publish ports.", [
      "gateway",
      "mosquitto",
      "broker",
    ]),
  },
};

export const restrictPortPublishers: ResourceValidationPolicy = {
  name: "restrict-port-publishers",
  description: "Only allowlisted entry points (the gateway and the MQTT broker) publish ports outside the swarm.",
  severity: "high",
  remediationSteps:
    "Remove the published ports and route the traffic through the gateway (a declared flow from the gateway), " +
    "or add the service to this policy's allowedPublishers after review.",
  ...mapsTo("ports", { cis: ["5.9"] }),
  configSchema: publishersSchema,
  validateResource: forWorkloads((w, args, reportViolation) => {
    const { allowedPublishers } = configOf<{ allowedPublishers: string[] }>(publishersSchema, args);
    if (matchesNameOrRole(w, allowedPublishers)) return;
    if (w.ports === UNKNOWN) return;
    if (w.ports.length > 0) {
      reportViolation(
        `${describe(w)} publishes ${w.ports.map(portText).join(", ")} but is not an allowlisted publisher (${allowedPublishers.join(", ")}).`,
      );
    }
  }),
};

const mqttSchema: PolicyConfigSchema = {
  properties: {
    plaintextMqttPorts: integerList(
      "Ports that speak MQTT without TLS (1883 MQTT, 9001 MQTT over websockets).",
      [1883, 9001],
    ),
  },
};

export const disallowPlaintextMqtt: ResourceValidationPolicy = {
  name: "disallow-plaintext-mqtt",
  description:
    "No MQTT listener without TLS: plaintext MQTT ports (1883, websockets 9001) are never published, and a Mosquitto config opens no plaintext listener beyond the container's loopback.",
  severity: "critical",
  remediationSteps:
    "Publish the broker's TLS listener (8883, with client certificates); give every other listener certfile and keyfile, " +
    "or bind it to 127.0.0.1 (`listener 1883 127.0.0.1`) for health checks only.",
  ...mapsTo("ports", {
    cis: ["5.9"],
    beyond:
      "No catalog knows which application protocol a port carries or reads the broker's config; device credentials and telemetry would cross the network in clear text.",
  }),
  configSchema: mqttSchema,
  validateResource: [
    ...forWorkloads((w, args, reportViolation) => {
      const { plaintextMqttPorts } = configOf<{ plaintextMqttPorts: number[] }>(mqttSchema, args);
      for (const p of knownPorts(w)) {
        if (
          (isKnown(p.target) && plaintextMqttPorts.includes(p.target)) ||
          (isKnown(p.published) && plaintextMqttPorts.includes(p.published))
        ) {
          reportViolation(`${describe(w)} publishes plaintext MQTT (${portText(p)}); publish only the TLS listener.`);
        }
      }
    }),
    forServiceConfigs((c, _args, reportViolation) => {
      if (!isKnown(c.text) || !isMosquittoConfig(c.text)) return;
      for (const l of mosquittoListeners(c.text)) {
        if (l.tls !== "none" || l.loopback || l.unixSocket) continue;
        reportViolation(
          `${describeConfig(c)} opens MQTT ${describeListener(l)} without TLS (no certfile and keyfile); ` +
            "anyone on its networks can read and inject messages.",
        );
      }
    }),
  ],
};

const sensitiveSchema: PolicyConfigSchema = {
  properties: {
    forbiddenPorts: integerList(
      "Database, admin, metrics and cluster ports that are never published (checked as container and as host port).",
      Object.keys(SENSITIVE_PORTS).map(Number),
    ),
  },
};

export const disallowSensitivePortPublishing: ResourceValidationPolicy = {
  name: "disallow-sensitive-port-publishing",
  description:
    "Database, admin, metrics and cluster ports (InfluxDB 8086, Redis 6379, NATS 4222, Grafana 3000, Node-RED 1880, Prometheus 9090, ...) are never published.",
  severity: "critical",
  remediationSteps:
    "Remove the published port; reach the UI through a gateway route restricted to admin CIDRs, and let Prometheus scrape metrics over the overlay.",
  ...mapsTo("ports", { cis: ["5.9"] }),
  configSchema: sensitiveSchema,
  validateResource: forWorkloads((w, args, reportViolation) => {
    const { forbiddenPorts } = configOf<{ forbiddenPorts: number[] }>(sensitiveSchema, args);
    for (const p of knownPorts(w)) {
      const candidates: Maybe<number>[] = [p.target, p.published];
      const hit = candidates.find((port): port is number => isKnown(port) && forbiddenPorts.includes(port));
      if (hit !== undefined) {
        reportViolation(
          `${describe(w)} publishes ${portText(p)}, a ${SENSITIVE_PORTS[hit] ?? "sensitive"} port that must stay inside the swarm.`,
        );
      }
    }
  }),
};

export const disallowHostPortConflicts: StackValidationPolicy = {
  name: "disallow-host-port-conflicts",
  description: "No host port is published twice across the stack.",
  severity: "high",
  remediationSteps:
    "Publish one of the two on another host port (the conflicting deployment fails, or one task never schedules).",
  ...mapsTo("ports", {
    beyond:
      "Catalogs check one service at a time; a clash only shows across the stack (an ingress port is taken on every node).",
  }),
  validateStack: (args, reportViolation) => {
    const owners = new Map<string, { urn: string; label: string }>();
    for (const w of buildStackGraph(args.resources).workloads) {
      for (const p of knownPorts(w.view)) {
        if (!isKnown(p.published)) continue;
        const key = `${p.published}/${p.protocol}`;
        const label = `${describe(w.view)} (${portText(p)})`;
        const first = owners.get(key);
        if (first) {
          reportViolation(
            `host port ${key} is published by both ${first.label} and ${label} (between ${first.urn} and ${w.resource.urn})`,
            w.resource.urn,
          );
        } else {
          owners.set(key, { urn: w.resource.urn, label });
        }
      }
    }
  },
};

const privilegedSchema: PolicyConfigSchema = {
  properties: {
    allowances: {
      type: "object",
      additionalProperties: { type: "array", items: { type: "integer", minimum: 1, maximum: 1023 } },
      default: { gateway: [80, 443] },
      description: "Service or container name (or iot.role value) -> host ports below 1024 it may publish.",
    },
  },
};

export const disallowPrivilegedHostPorts: ResourceValidationPolicy = {
  name: "disallow-privileged-host-ports",
  description: "No host port below 1024 is published, except 80 and 443 on the gateway.",
  severity: "medium",
  remediationSteps: "Publish the port on 1024 or above, or route it through the gateway.",
  ...mapsTo("ports", { cis: ["5.8"], kics: ["bc2908f3-f73c-40a9-8793-c1b7d5544f79"] }),
  configSchema: privilegedSchema,
  validateResource: forWorkloads((w, args, reportViolation) => {
    const { allowances } = configOf<{ allowances: Record<string, number[]> }>(privilegedSchema, args);
    const allowed = new Set(
      [w.name, w.dockerName, ...(w.role ? [w.role] : [])].flatMap((key) => allowances[key] ?? []),
    );
    for (const p of knownPorts(w)) {
      if (isKnown(p.published) && p.published < 1024 && !allowed.has(p.published)) {
        reportViolation(`${describe(w)} publishes privileged host port ${p.published} (${portText(p)}).`);
      }
    }
  }),
};

const publishModeSchema: PolicyConfigSchema = {
  properties: {
    publishMode: {
      type: "string",
      enum: ["ingress", "host"],
      default: "ingress",
      description: "How Swarm services publish ports.",
    },
  },
};

export const enforcePublishMode: ResourceValidationPolicy = {
  name: "enforce-publish-mode",
  description: "Swarm services publish ports in the configured mode (ingress routing mesh or host).",
  severity: "medium",
  remediationSteps:
    "Set publishMode on each published port to the configured mode (the stack's publishMode setting in iot-swarm-net).",
  ...mapsTo("ports", { beyond: "Catalogs do not model Swarm's ingress and host publish modes." }),
  configSchema: publishModeSchema,
  validateResource: forWorkloads((w, args, reportViolation) => {
    if (w.kind !== "service") return;
    const { publishMode } = configOf<{ publishMode: string }>(publishModeSchema, args);
    for (const p of knownPorts(w)) {
      if (isKnown(p.mode) && p.mode !== publishMode) {
        reportViolation(
          `${describe(w)} publishes ${portText(p)} in "${p.mode}" mode; this stack publishes in "${publishMode}" mode.`,
        );
      }
    }
  }),
};

const WILDCARD_IPS = new Set(["", "0.0.0.0", "::", "[::]", "0.0.0.0/0"]);

export const requireHostInterfaceBinding: ResourceValidationPolicy = {
  name: "require-host-interface-binding",
  description: "A container's published ports bind to a specific host interface, not to every interface.",
  severity: "medium",
  remediationSteps:
    'Set `ip` on each port to the interface that should receive the traffic (e.g. "127.0.0.1" or the LAN address).',
  ...mapsTo("ports", { cis: ["5.14"], kics: ["451d79dc-0588-476a-ad03-3c7f0320abb3"] }),
  validateResource: forWorkloads((w, _args, reportViolation) => {
    if (w.kind !== "container") return;
    for (const p of knownPorts(w)) {
      if (isKnown(p.hostIp) && WILDCARD_IPS.has(p.hostIp.trim())) {
        reportViolation(`${describe(w)} publishes ${portText(p)} on every host interface (${p.hostIp || "unset"}).`);
      }
    }
  }),
};

export const portPolicies = [
  restrictPortPublishers,
  disallowPlaintextMqtt,
  disallowSensitivePortPublishing,
  disallowHostPortConflicts,
  disallowPrivilegedHostPorts,
  enforcePublishMode,
  requireHostInterfaceBinding,
];
