/** The identities section of docs/network-security-policies.md: one row per declared flow to a server that authenticates. */
import { Identity, planIdentities } from "../../model/identity";
import { MOSQUITTO_PATHS } from "../../model/render/mosquitto";
import { INFLUXDB_START, influxUserPasswordPath, NATS_AUTH, redisAclPath } from "../../model/wiring/paths";
import { Topology } from "../../model/types";
import { markdownTable } from "../table";
import { code } from "./common";
import { DocsModel, REFERENCE_STACKS } from "./model";

/** Where the server keeps its half: the users it admits and what they may do. */
function serverSide(t: Topology, i: Identity): string {
  const app = t.services.find((s) => s.name === i.server)?.app;
  if (app === "redis") return `user ${code(i.username)} in the ${code("users.acl")} secret, ${code(redisAclPath(i.server))} in ${i.server}`;
  if (app === "nats") return `user ${code(i.username)} in the ${code("auth.conf")} secret, ${code(NATS_AUTH)} in ${i.server}`;
  if (i.kind === "certificate") return `certificate CN ${code(i.username)}, topics in ${code(MOSQUITTO_PATHS.acl)} in ${i.server}`;
  if (app === "influxdb")
    return (
      `v1 user ${code(i.username)}, created and corrected at each start by ${code(INFLUXDB_START)} in ${i.server}; ` +
      `password in the ${code(`user-${i.client}-password`)} secret, ${code(influxUserPasswordPath(i.server, i.client))}`
    );
  return "?";
}

const rows = (t: Topology) =>
  planIdentities(t).map((i) => [
    `${i.client} -> ${i.server}:${i.flow.port}`,
    i.kind,
    code(i.credential),
    i.scope,
    `secret ${code(i.file.name)} at ${code(i.file.path)} in ${i.client}${Object.keys(i.env).length > 0 ? `; env ${Object.keys(i.env).map(code).join(", ")}` : ""}`,
    serverSide(t, i),
    i.rotate,
  ]);

export function renderIdentities(m: DocsModel): string[] {
  const tables = REFERENCE_STACKS.map((stack) => ({ stack, table: markdownTable(["flow", "kind", "credential", "scope", "client holds it", "server side", "rotate"], rows(m[stack].topology)) }));
  const same = tables.every((x) => x.table === tables[0].table);
  const out = [
    "## Identities per flow",
    "",
    "Each declared flow to a server that authenticates its clients gets its own identity (`model/identity.ts`): a Redis or NATS user " +
      "named after the client with its own generated password, scoped by the flow's `permissions` in stack config " +
      "(defaults: Redis keys `<client>:*` with `+@all -@dangerous`, NATS publish `events.>` and subscribe `_INBOX.>`); " +
      "the MQTT client certificate the CA issues to each client; and for clients whose application presents InfluxDB credentials " +
      "(Grafana, Node-RED) an InfluxDB v1 user named after the client with its own generated password, allowed to read or write one " +
      "bucket (the flow's `permissions`: `bucket` and `access`, `read`, `write` or `read-write`; defaults: Node-RED writes " +
      "`telemetry`, every other client reads it). InfluxDB 2 issues no API token of a chosen value, so its start script creates " +
      "these users through its API at deploy time, with the admin token, which stays with the operators and the server. " +
      "Redis turns its default user off, NATS admits only these users and InfluxDB's v1 API only its users and the admin token, " +
      "so a client without a flow holds nothing and gets nothing. " +
      `Each service carries the credentials it holds in its ${code("iot.credentials")} label, which ` +
      "`restrict-credentials-to-declared-flows` and `disallow-shared-credentials` check.",
    "",
  ];
  if (same) out.push(`Both reference stacks (${REFERENCE_STACKS.join(", ")}):`, "", tables[0].table, "");
  else for (const { stack, table } of tables) out.push(`### ${stack}`, "", table, "");
  out.push(...withoutIdentity(m[REFERENCE_STACKS[REFERENCE_STACKS.length - 1]].topology));
  return out;
}

/**
 * The declared flows whose server authenticates no service: the gateway's calls carry the end user's request
 * (the backend authenticates the user); Grafana's queries to Prometheus and Prometheus' scrapes take no credential.
 */
function withoutIdentity(t: Topology): string[] {
  const held = new Set(planIdentities(t).map((i) => `${i.client}\u0000${i.server}`));
  const flows = t.flows.filter((f) => !held.has(`${f.from}\u0000${f.to}`));
  if (flows.length === 0) return [];
  return [
    `Calls with no service identity (${REFERENCE_STACKS[REFERENCE_STACKS.length - 1]}): segmentation alone decides who reaches the server. ` +
      "The gateway forwards an end user's request, which the backend authenticates (Grafana's login, the admin " +
      "allowlist in front of the Node-RED editor and the InfluxDB UI); Grafana queries Prometheus's API and " +
      "Prometheus scrapes metrics endpoints (InfluxDB 2 serves its /metrics without authentication), neither of which " +
      "takes a credential. " +
      flows.map((f) => code(`${f.from} -> ${f.to}:${f.port}`)).join(", ") +
      ".",
    "",
  ];
}
