/** Label keys the program writes and the policy pack and operators read. */
export const LABELS = {
  stack: "iot.stack",
  environment: "iot.environment",
  role: "iot.role",
  /** A service's logical name, which its Docker name may extend with a generation (see model/rollout.ts). */
  service: "iot.service",
  /** Comma-separated tiers a service belongs to, or the tier a network carries. */
  tiers: "iot.tiers",
  /** Comma-separated declared outgoing flows of a service: `server:port`. */
  flows: "iot.flows",
  /** Comma-separated credentials a service holds as a client: `server:credential` (model/identity.ts). */
  credentials: "iot.credentials",
  /**
   * Comma-separated credentials of `credentials` that others hold too by design (InfluxDB's operator-held admin
   * token); only these may be shared.
   */
  sharedCredentials: "iot.shared-credentials",
  /** tier | link | egress */
  networkKind: "iot.network-kind",
  /** Swarm config or secret: the service and file it belongs to. */
  file: "iot.file",
} as const;

export function toLabelList(labels: Readonly<Record<string, string>>): { label: string; value: string }[] {
  return Object.entries(labels).map(([label, value]) => ({ label, value }));
}
