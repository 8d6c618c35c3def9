/**
 * Synthetic stacks for the bench: the reference stack's config plus generated services, tiers and
 * flows, encoded the way Pulumi hands config to the program (namespaced keys, string values, JSON
 * strings for objects), so the measured path is the real one from `allConfig` to the last resource.
 */
import { referenceServices } from "../model/catalog";
import { CONFIG_NAMESPACE } from "../model/config";

/** Services every stack has: the reference catalog. */
export const REFERENCE_SERVICE_COUNT = referenceServices.length;
/** Services per synthetic tier: a tier is a team's slice of the platform, not the whole of it. */
export const SYNTHETIC_TIER_SIZE = 10;
/** Large enough for a /24 per network at a thousand services and more. */
export const SYNTHETIC_SUBNET_POOL = "100.64.0.0/10";

const key = (name: string) => `${CONFIG_NAMESPACE}:${name}`;
const HTTP_PORT = 8080;
const METRICS_PORT = 9100;

export const syntheticServiceName = (i: number) => `syn-${i}`;
export const syntheticTierName = (t: number) => `syn-t${t}`;

/**
 * `base` (a stack's config, e.g. dev) grown to `total` services: `total - 9` synthetic services in tiers
 * of ten. Each synthetic service
 * - serves HTTP on 8080 (health at /healthz) and metrics on 9100, which Prometheus scrapes (a flow each);
 * - calls one service of the next tier on 8080 (a cross-tier flow, so the planner builds link networks);
 * and the first service of each tier publishes events to NATS. Keys already in `base` are extended, not replaced.
 */
export function syntheticStackConfig(total: number, base: Readonly<Record<string, string>>): Record<string, string> {
  const count = total - REFERENCE_SERVICE_COUNT;
  if (!Number.isInteger(total) || count < 0) {
    throw new Error(
      `services must be an integer of at least ${REFERENCE_SERVICE_COUNT} (the reference stack), but ${total} was provided`,
    );
  }
  const tierOf = (i: number) => Math.floor((i - 1) / SYNTHETIC_TIER_SIZE);
  const tierCount = Math.ceil(count / SYNTHETIC_TIER_SIZE);

  const tiers = Array.from({ length: tierCount }, (_, t) => ({
    name: syntheticTierName(t),
    description: `Synthetic tier ${t} (bench)`,
  }));
  const services: Record<string, unknown> = {};
  const scrapes: string[] = [];
  const calls: string[] = [];
  const events: string[] = [];
  for (let i = 1; i <= count; i++) {
    const name = syntheticServiceName(i);
    services[name] = {
      image: "alpine:3.20.3",
      tiers: [syntheticTierName(tierOf(i))],
      role: "worker",
      ports: [
        { name: "http", port: HTTP_PORT, appProtocol: "http", purpose: "Worker API and /healthz" },
        { name: "metrics", port: METRICS_PORT, appProtocol: "metrics", purpose: "Prometheus metrics (/metrics)" },
      ],
      health: {
        test: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${HTTP_PORT}/healthz`],
        httpPath: "/healthz",
        portName: "http",
      },
    };
    scrapes.push(`prometheus -> ${name}:${METRICS_PORT}`);
    const peer = ((i - 1 + SYNTHETIC_TIER_SIZE) % count) + 1;
    if (tierOf(peer) !== tierOf(i)) calls.push(`${name} -> ${syntheticServiceName(peer)}:${HTTP_PORT}`);
    if ((i - 1) % SYNTHETIC_TIER_SIZE === 0) events.push(`${name} -> nats:4222`);
  }

  const config: Record<string, string> = { ...base, [key("subnetPool")]: SYNTHETIC_SUBNET_POOL };
  config[key("tiers")] = JSON.stringify([...decodeArray(base[key("tiers")]), ...tiers]);
  config[key("services")] = JSON.stringify({ ...decodeObject(base[key("services")]), ...services });
  config[key("flows")] = JSON.stringify([...decodeArray(base[key("flows")]), ...scrapes, ...calls, ...events]);
  return config;
}

function decodeArray(value: string | undefined): unknown[] {
  return value === undefined ? [] : (JSON.parse(value) as unknown[]);
}

function decodeObject(value: string | undefined): Record<string, unknown> {
  return value === undefined ? {} : (JSON.parse(value) as Record<string, unknown>);
}
