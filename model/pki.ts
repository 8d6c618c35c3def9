/** Which certificates the stack needs and what they say: pure, so SANs and usages are testable without Pulumi. */
import { serviceRunning } from "./lookup";
import { Topology } from "./types";

export type CertUsage = "server" | "client";

export interface LeafPlan {
  /** Logical name: `mosquitto`, `gateway`, `mqtt-client-node-red`. */
  readonly name: string;
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly usage: CertUsage;
  readonly validityHours: number;
  readonly earlyRenewalHours: number;
}

/** Usages the tls provider sets on each certificate class; the CA alone may sign. */
export const CA_USES = ["cert_signing", "crl_signing", "digital_signature"] as const;
export const LEAF_USES: Record<CertUsage, readonly string[]> = {
  server: ["digital_signature", "key_encipherment", "server_auth"],
  client: ["digital_signature", "key_encipherment", "client_auth"],
};

export const mqttClientCertName = (client: string) => `mqtt-client-${client}`;

export function planCertificates(t: Topology): LeafPlan[] {
  const hours = { validityHours: t.tls.validityDays * 24, earlyRenewalHours: t.tls.earlyRenewalDays * 24 };
  const leaves: LeafPlan[] = [];
  // Server certificates are named after the service that serves them.
  const broker = serviceRunning(t, "mosquitto");
  if (broker) {
    leaves.push({
      name: broker.name,
      commonName: t.tls.mqttHostname,
      // Field devices use the external name; in-swarm clients use the service name or an alias.
      dnsNames: unique([t.tls.mqttHostname, broker.name, ...broker.aliases, "localhost"]),
      usage: "server",
      ...hours,
    });
  }
  const gateway = serviceRunning(t, "haproxy");
  if (gateway) {
    leaves.push({
      name: gateway.name,
      commonName: t.domain,
      dnsNames: unique([
        t.domain,
        ...t.routes.map((r) => `${r.subdomain}.${t.domain}`),
        gateway.name,
        ...gateway.aliases,
      ]),
      usage: "server",
      ...hours,
    });
  }
  for (const client of t.tls.mqttClients) {
    leaves.push({ name: mqttClientCertName(client), commonName: client, dnsNames: [], usage: "client", ...hours });
  }
  return leaves;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
