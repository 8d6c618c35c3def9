import { parseStackConfig } from "../model/config";
import { parseAndResolveStackConfig, resolveTopology } from "../model/resolve";
import { Topology } from "../model/types";
import { RecordedResource } from "../tools/evaluate";

/**
 * Resolves a topology from raw config values (as Pulumi passes them: JSON strings for objects). With
 * `namespaced`, keys carry the `iot-swarm-net:` prefix, as in a stack file (tools/stackFile.ts).
 */
export function topologyFrom(raw: Record<string, unknown>, opts: { namespaced?: boolean } = {}): Topology {
  return resolveTopology(parseStackConfig(encodeRaw(raw, opts)));
}

function encodeRaw(raw: Record<string, unknown>, opts: { namespaced?: boolean } = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [
      opts.namespaced ? k.replace(/^iot-swarm-net:/, "") : k,
      typeof v === "string" ? v : JSON.stringify(v),
    ]),
  );
}

/**
 * The error message loading this config throws (schema, validation, rotations and network planning, as the
 * program loads it), or "" when it is valid.
 */
export function configError(raw: Record<string, unknown>): string {
  try {
    parseAndResolveStackConfig(encodeRaw(raw));
    return "";
  } catch (e) {
    return (e as Error).message;
  }
}

export const ofType = (resources: readonly RecordedResource[], type: string) =>
  resources.filter((r) => r.type === type);

export const SERVICE = "docker:index/service:Service";
export const NETWORK = "docker:index/network:Network";
export const SECRET = "docker:index/secret:Secret";
export const CONFIG = "docker:index/serviceConfig:ServiceConfig";

export const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

/** Reachability computed from registered resources alone: services sharing a network id. */
export function reachabilityFromResources(resources: readonly RecordedResource[]): Record<string, string[]> {
  const services = ofType(resources, SERVICE);
  const nets = (s: RecordedResource) =>
    new Set<string>((s.inputs.taskSpec.networksAdvanceds ?? []).map((n: { id: string }) => n.id));
  const result: Record<string, string[]> = {};
  for (const a of services) {
    result[a.inputs.name] = services
      .filter((b) => b !== a && [...nets(a)].some((id) => nets(b).has(id)))
      .map((b) => b.inputs.name)
      .sort();
  }
  return result;
}

/**
 * The dev stack plus `bridge`, a service no application of the catalog describes, on the backend tier, with
 * `flows` (raw values, as in Pulumi.<stack>.yaml).
 */
export const bridgeConfig = (flows: unknown[]) => ({
  environment: "dev",
  services: {
    bridge: {
      image: "ghcr.io/acme/bridge:1.0.0",
      tiers: ["backend"],
      role: "bridge",
      ports: [{ name: "http", port: 8080, appProtocol: "http", purpose: "health" }],
      health: { test: ["CMD", "true"] },
    },
  },
  flows,
});

/** Stack config adding an API service in its own tier, routed by the gateway (raw values, as in Pulumi.<stack>.yaml). */
export const apiServiceConfig = {
  tiers: [{ name: "api", description: "Public API" }],
  services: {
    api: {
      image: "ghcr.io/acme/energy-api:1.4.2",
      tiers: ["api"],
      role: "api",
      ports: [{ name: "http", port: 8000, appProtocol: "http", purpose: "REST API" }],
      health: {
        test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8000/healthz"],
        httpPath: "/healthz",
        portName: "http",
      },
    },
  },
  flows: ["gateway -> api:8000", "api -> influxdb:8086"],
  routes: [{ subdomain: "api", service: "api", port: 8000, admin: false }],
};

/**
 * Loads index.ts in a fresh module registry, so one test file can evaluate the program more than once
 * (a cached module would not register its resources again).
 */
export function freshProgram(): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) =>
    jest.isolateModules(() => {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        resolve(require("../index"));
      } catch (e) {
        reject(e);
      }
    }),
  );
}
