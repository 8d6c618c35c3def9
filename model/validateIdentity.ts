/**
 * A flow's permissions must fit the server it reaches: Redis key patterns and command rules for Redis, NATS
 * subjects for NATS, a bucket and an access for InfluxDB (from a client whose application presents InfluxDB
 * credentials), nothing for a server that does not authenticate its clients by password. A Redis rule that
 * grants a dangerous command is refused rather than silently overridden by the `-@dangerous` every client ends on.
 */
import { StackConfig } from "./config";
import { parseFlow } from "./flows";
import { Report } from "./validateServices";
import { passwordPort } from "./identity";
import { Topology } from "./types";

/** Redis commands and categories no application client may be granted. */
const REDIS_DANGEROUS = new Set([
  "@dangerous",
  "@admin",
  "acl",
  "bgrewriteaof",
  "bgsave",
  "client",
  "cluster",
  "config",
  "debug",
  "failover",
  "flushall",
  "flushdb",
  "keys",
  "migrate",
  "module",
  "monitor",
  "psync",
  "replicaof",
  "restore",
  "save",
  "shutdown",
  "slaveof",
  "sync",
]);

export function checkFlowPermissions(config: StackConfig, t: Topology, report: Report): void {
  const services = new Map(t.services.map((s) => [s.name, s]));
  // A flow may be repeated, but two different permissions for it would hide which one holds.
  const first = new Map<string, { index: number; permissions: string }>();
  config.flows.forEach((entry, i) => {
    const flow = parseFlow(entry.flow);
    if (!flow || !entry.permissions) return;
    const key = `${flow.from} -> ${flow.to}:${flow.port}`;
    const permissions = JSON.stringify(entry.permissions);
    const earlier = first.get(key);
    if (!earlier) first.set(key, { index: i, permissions });
    else if (earlier.permissions !== permissions)
      report(["flows", i, "permissions"], `flows[${earlier.index}] already gives ${key} other permissions`);
  });
  config.flows.forEach((entry, i) => {
    const permissions = entry.permissions;
    const flow = parseFlow(entry.flow);
    const server = flow && services.get(flow.to);
    if (!permissions || !flow || !server) return;
    const at = (...path: PropertyKey[]) => ["flows", i, "permissions", ...path];
    // The identity plan's own rule for which flows carry a password identity (model/identity.ts).
    const client = services.get(flow.from);
    const scoped = client && passwordPort(server, client) === flow.port ? server.app : undefined;
    const kind = scoped === "redis" ? "redis" : undefined;
    const natsKind = scoped === "nats" ? "nats" : undefined;
    const influxKind = scoped === "influxdb" ? "influxdb" : undefined;
    if (!kind && !natsKind && !influxKind) {
      report(
        at(),
        `"${entry.flow}" reaches no Redis or NATS client port, nor InfluxDB's API from a client that presents ` +
          "InfluxDB credentials; permissions scope only identities on those servers",
      );
      return;
    }
    if (kind && permissions.subjects)
      report(at("subjects"), `${flow.to} is Redis: give keys and commands, not NATS subjects`);
    if (natsKind) {
      if (permissions.keys) report(at("keys"), `${flow.to} is NATS: give subjects, not Redis key patterns`);
      if (permissions.commands) report(at("commands"), `${flow.to} is NATS: give subjects, not Redis commands`);
    }
    if (!influxKind) {
      for (const key of ["bucket", "access"] as const)
        if (permissions[key] !== undefined)
          report(at(key), `${flow.to} is ${kind ? "Redis" : "NATS"}: ${key} scopes only InfluxDB identities`);
    } else {
      for (const key of ["subjects", "keys", "commands"] as const)
        if (permissions[key] !== undefined)
          report(
            at(key),
            `${flow.to} is InfluxDB: give bucket and access, not ${key === "subjects" ? "NATS subjects" : `Redis ${key}`}`,
          );
      return;
    }
    permissions.commands?.forEach((rule, j) => {
      // `+config|get` grants a subcommand of CONFIG: still CONFIG.
      const command = rule.slice(1).toLowerCase().split("|")[0];
      const granted = rule.startsWith("+") && REDIS_DANGEROUS.has(command);
      if (granted) {
        report(at("commands", j), `${rule} grants a dangerous command; application clients never get @dangerous`);
      }
    });
  });
}
