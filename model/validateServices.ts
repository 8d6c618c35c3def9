/**
 * Cross-field rules on the merged services: pinned images, replicas, resources, port names, host
 * ports (reserved, plaintext MQTT, conflicts) and DNS aliases. Each problem names its config key.
 */
// The pack's environment-secret rule, so config and resources are judged alike. The pack keeps the file free of
// imports from outside policies/ (it stays an independent Node project); tools/installCheck.ts copies it.
import { secretEnvReason } from "../policies/lib/secretEnv";
import { ServiceOverride, StackConfig } from "./config";
import { constraintProblem } from "./constraint";
import { parseImageRef } from "./imageRef";
import { reservedPorts, suggestFreePort } from "./reserved";
import { ServiceSpec } from "./types";

export type Report = (path: readonly PropertyKey[], message: string) => void;

const ALIAS = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkService(s: ServiceSpec, o: ServiceOverride, config: StackConfig, report: Report): void {
  const path = ["services", s.name];
  checkImage(s, path, report);
  if (s.replicas < 1) report([...path, "replicas"], `must be at least 1, but ${s.replicas} was provided`);
  if (s.singleton && s.replicas > 1) {
    report(
      [...path, "replicas"],
      `"${s.name}" is a singleton (its state or subscriptions live in one process) and must run 1 replica, but ${s.replicas} was provided (set singleton: false only for a clustered setup)`,
    );
  }
  if (s.resources.reservedCpus > s.resources.cpus) {
    report(
      [...path, "resources", "reservedCpus"],
      `must not exceed cpus (${s.resources.cpus}), but ${s.resources.reservedCpus} was provided`,
    );
  }
  if (s.resources.reservedMemoryMb > s.resources.memoryMb) {
    report(
      [...path, "resources", "reservedMemoryMb"],
      `must not exceed memoryMb (${s.resources.memoryMb}), but ${s.resources.reservedMemoryMb} was provided`,
    );
  }
  if (o.stateNode !== undefined && s.volumes.length === 0) {
    report(
      [...path, "stateNode"],
      `"${s.name}" keeps no state in a volume${s.singleton ? "" : " (singleton: false)"}, so there is nothing to pin to node "${o.stateNode}"`,
    );
  }
  checkPortNames(s, o, path, report);
  (o.placement ?? []).forEach((constraint, i) => {
    const problem = constraintProblem(constraint);
    if (problem) report([...path, "placement", i], problem);
  });
  const publishes = s.ports.some((p) => p.published !== undefined);
  if (publishes && config.publishMode === "ingress" && s.endpointMode === "dnsrr") {
    report(
      [...path, "endpointMode"],
      `"dnsrr" cannot publish ports in ingress mode; use "vip" or set publishMode to "host"`,
    );
  }
  checkEnvSecrets(o, path, report);
}

/**
 * No secret in plain `env`, judged by name and by value as the pack's disallow-secrets-in-env judges it. The
 * value is never echoed, not even in part: the reason names the key and what gave the secret away.
 */
function checkEnvSecrets(o: ServiceOverride, path: readonly PropertyKey[], report: Report): void {
  for (const [key, value] of Object.entries(o.env ?? {})) {
    const reason = secretEnvReason(key, value);
    if (reason === undefined) continue;
    // A name that already points at a file (`*_FILE`, `*__FILE`, `*_PATH`) keeps its name; its value is the problem.
    const fileKey = /(^|[^A-Za-z0-9])(FILE|PATH)$/i.test(key) ? key : `${key}_FILE`;
    report(
      [...path, "env", key],
      `looks like a secret (${reason}); deliver it as a Docker secret and pass its path in ${fileKey} instead`,
    );
  }
}

function checkImage(s: ServiceSpec, path: readonly PropertyKey[], report: Report): void {
  const ref = parseImageRef(s.image);
  if (typeof ref === "string") {
    report([...path, "image"], `must be a Docker image reference: ${ref}, but "${s.image}" was provided`);
  } else if (ref.tag === undefined && ref.digest === undefined) {
    report(
      [...path, "image"],
      `must be pinned by tag or digest (e.g. "grafana/grafana:11.3.1"), but "${s.image}" was provided`,
    );
  } else if (ref.tag === "latest" && ref.digest === undefined) {
    report([...path, "image"], `must not use the moving "latest" tag, but "${s.image}" was provided`);
  }
}

function checkPortNames(s: ServiceSpec, o: ServiceOverride, path: readonly PropertyKey[], report: Report): void {
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
}

/** Host ports: none reserved, never plaintext MQTT, each published by one service only. */
export function checkPublishedPorts(config: StackConfig, services: readonly ServiceSpec[], report: Report): void {
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

/** The config key that set a published port: `publish.<port name>`, or the port's entry in `ports`. */
function publishPath(config: StackConfig, service: string, portName: string): PropertyKey[] {
  const o = config.services[service];
  if (o?.publish && portName in o.publish) return ["services", service, "publish", portName];
  if (o?.ports) return ["services", service, "ports", o.ports.findIndex((p) => p.name === portName), "published"];
  return ["services", service, "publish", portName];
}

/** Every DNS name resolves to one service: aliases are labels, unique, and shadow no service or `tasks.` name. */
export function checkAliases(services: readonly ServiceSpec[], report: Report): void {
  const owners = new Map<string, string>(services.map((s) => [s.name, s.name]));
  for (const s of services) {
    s.aliases.forEach((alias, i) => {
      const path = ["services", s.name, "aliases", i];
      if (!ALIAS.test(alias)) {
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
