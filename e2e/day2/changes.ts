/**
 * The day-2 changes an operator makes to a running stack, each as an edit of the stack's config (keys as
 * `pulumi config` holds them, objects JSON-encoded). They are applied in this order, each on top of the last.
 */
import { CONFIG_NAMESPACE } from "../../model/config";
import { Identity, planIdentities } from "../../model/identity";
import { modelOf } from "./expected";

export type StackConfig = Readonly<Record<string, string>>;

export interface Day2Change {
  readonly name: string;
  /** What an operator does, in one line. */
  readonly description: string;
  readonly apply: (config: StackConfig) => StackConfig;
  /** The flow credential the change rotates (its id, read from the config before it): probed again after it. */
  readonly rotates?: (config: StackConfig) => string;
}

const key = (k: string) => `${CONFIG_NAMESPACE}:${k}`;
const read = <T>(config: StackConfig, k: string, fallback: T): T =>
  config[key(k)] === undefined ? fallback : (JSON.parse(config[key(k)]) as T);
const write = (config: StackConfig, k: string, value: unknown): StackConfig => ({
  ...config,
  [key(k)]: JSON.stringify(value),
});

/** The flow identity whose password the rotation replaces: the stack's first Redis flow (model/identity.ts). */
export function rotatedFlow(config: StackConfig): Identity {
  const i = planIdentities(modelOf(config).t).find((x) => x.kind === "password" && x.redis);
  if (!i) throw new Error("the stack declares no flow to a Redis server: no flow credential to rotate");
  return i;
}

export const DAY2_CHANGES: readonly Day2Change[] = [
  {
    name: "certificates re-issued",
    description: "tls.reissue set: every leaf certificate re-issued ahead of its renewal window (same keys)",
    apply: (c) => write(c, "tls", { ...read(c, "tls", {}), reissue: "day2-early-renewal" }),
  },
  {
    name: "MQTT ACL entry added",
    description: "mqtt.acl gains node-red write on alerts/#",
    apply: (c) => {
      const mqtt = read<{ acl?: unknown[] }>(c, "mqtt", {});
      return write(c, "mqtt", {
        ...mqtt,
        acl: [...(mqtt.acl ?? []), { user: "node-red", access: "write", topic: "alerts/#" }],
      });
    },
  },
  {
    name: "flow declared",
    description: "flows gains grafana -> redis:6379 (device state for dashboards)",
    apply: (c) => write(c, "flows", [...read<string[]>(c, "flows", []), "grafana -> redis:6379"]),
  },
  {
    name: "service scaled",
    description: "services.grafana.replicas from 3 to 2",
    apply: (c) => {
      const services = read<Record<string, Record<string, unknown>>>(c, "services", {});
      return write(c, "services", { ...services, grafana: { ...services.grafana, replicas: 2 } });
    },
  },
  {
    name: "password rotated",
    description: "rotations.grafana-admin set: a new Grafana admin password",
    apply: (c) => write(c, "rotations", { ...read(c, "rotations", {}), "grafana-admin": 1 }),
  },
  {
    name: "flow credential rotated",
    description:
      "rotations.<server>-<client> set for the first Redis flow: a new password for that client's own user, " +
      "so only it, the secrets holding it, the client and the server change",
    apply: (c) => write(c, "rotations", { ...read(c, "rotations", {}), [rotatedFlow(c).credential]: 1 }),
    rotates: (c) => rotatedFlow(c).credential,
  },
  {
    name: "route added",
    description:
      "routes gains metrics.<domain> -> prometheus:9090 (admin only), with the gateway -> prometheus:9090 flow",
    apply: (c) => {
      const withFlow = write(c, "flows", [...read<string[]>(c, "flows", []), "gateway -> prometheus:9090"]);
      return write(withFlow, "routes", [
        ...read<unknown[]>(c, "routes", []),
        { subdomain: "metrics", service: "prometheus", port: 9090, admin: true, purpose: "Prometheus UI" },
      ]);
    },
  },
];
