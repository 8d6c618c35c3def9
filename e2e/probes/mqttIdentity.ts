/**
 * MQTT identities per flow (model/identity.ts, kind "certificate"): a client in `tls.mqttClients` with a flow to
 * the broker holds the certificate and key the program's CA issued it, mounted in its task. This probe reads
 * both from the client's own task (the files its application reads) and presents them from this host through
 * the broker's published MQTTS port, as `e2e-identity-<client>` with a clean session: never the application's
 * own client id, which would take over (and end) its live session.
 * - allowed: what its ACL entries allow works: a QoS 1 message the field device publishes on its own topic
 *   arrives on the client's read filter (Node-RED: `devices/#`), or the client's message reaches the device,
 *   or, for a client that may only read broker statistics, a `$SYS` message arrives;
 * - out of scope: a QoS 1 publish to a topic none of its write entries match while a subscriber that may read
 *   it listens (the client itself, else the device): the broker answers PUBACK "not authorized" (MQTT 5 reason
 *   0x87) and the subscriber never gets it;
 * - undeclared: without a client certificate, and with a certificate under the client's name from another CA,
 *   the broker refuses the connection.
 */
import * as crypto from "node:crypto";
import { Identity, planIdentities } from "../../model/identity";
import { mqttClientCertName } from "../../model/pki";
import { Topology } from "../../model/types";
import { execIn } from "../harness";
import { StackContext } from "../lib/context";
import {
  connectDevice,
  ConnectOutcome,
  disconnectDevice,
  nextMessage,
  publishAcked,
  strangerCertificate,
  subscribeGranted,
} from "../lib/mqttDevice";
import type { IdentityResult } from "./identity";
import { sharedTopic, topicMatches, topicUnder } from "./intent";
import { deviceIdentity, mqttClientPaths } from "./mqtt";

type Session = Extract<ConnectOutcome, { connected: true }>["client"];

interface Credentials {
  readonly cert: string;
  readonly key: string;
}

/** One identity's probe: the broker as this host reaches it, the client's own session, the device's if any. */
interface Probe {
  readonly ctx: StackContext;
  readonly i: Identity;
  readonly nonce: string;
  readonly own: Session;
  readonly device?: { readonly name: string; readonly session: Session };
}

/** The topic filters an ACL grants `user` for reading or for writing. */
export function aclFilters(t: Topology, user: string, access: "read" | "write"): string[] {
  return t.mqtt.acl
    .filter((a) => a.user === user && (a.access === access || a.access === "readwrite"))
    .map((a) => a.topic);
}

/**
 * A topic `client` may not publish on that `witness` may read, under the witness's first read filter outside
 * `$SYS`, with `suffix` filling its wildcard; undefined when there is none.
 */
export function outOfScopeTopic(
  t: Topology,
  client: string,
  witness: string,
  suffix: string,
): { topic: string; filter: string } | undefined {
  const writes = aclFilters(t, client, "write");
  for (const filter of aclFilters(t, witness, "read")) {
    if (filter.startsWith("$")) continue;
    const topic = topicUnder(filter, suffix);
    if (!writes.some((w) => topicMatches(w, topic))) return { topic, filter };
  }
  return undefined;
}

/** The client certificate and key in the client's task, as its application reads them (read, never logged). */
async function taskCredentials(ctx: StackContext, client: string): Promise<Credentials | string> {
  const paths = mqttClientPaths(ctx, client);
  if (!paths) return `${client} has no MQTT client certificate mounted`;
  const task = ctx.tasks[client]?.[0];
  if (!task) return `no running task of ${client}`;
  const read = (p: string) => execIn(ctx.engineOf(task), task.containerId, ["cat", p], { timeoutMs: 10_000 });
  const [cert, key] = [await read(paths.cert), await read(paths.key)];
  if (cert.exitCode !== 0 || key.exitCode !== 0 || !cert.stdout.includes("BEGIN CERTIFICATE"))
    return `could not read ${paths.cert} and ${paths.key} in ${client}'s task: ${(cert.stderr || key.stderr).trim().slice(0, 200)}`;
  return { cert: cert.stdout, key: key.stdout };
}

/** MQTT 5 over TLS to the broker's published port for this identity's flow, with the given certificate or none. */
function connectAs(ctx: StackContext, i: Identity, clientId: string, creds?: Credentials): Promise<ConnectOutcome> {
  const port = ctx.spec(i.server).ports.find((p) => p.port === i.flow.port);
  return connectDevice({
    host: ctx.publishedHost(i.server),
    port: ctx.published(i.server, port?.name ?? "mqtts"),
    servername: ctx.topology.tls.mqttHostname,
    ca: ctx.caPem,
    cert: creds?.cert,
    key: creds?.key,
    clientId,
  });
}

/** Whether the certificate in the task is the one the program issued (the harness's record of it). */
function issuedCheck(ctx: StackContext, i: Identity, creds: Credentials): string {
  const held = new crypto.X509Certificate(creds.cert);
  let issued: string | undefined;
  try {
    issued = new crypto.X509Certificate(ctx.leaf(i.credential).certPem).fingerprint256;
  } catch {
    issued = undefined;
  }
  const cn = /CN=([^\n,]+)/.exec(held.subject)?.[1] ?? "?";
  return `${i.client}'s task holds CN=${cn}, ${held.fingerprint256 === issued ? "the certificate the program issued" : "NOT the certificate the program issued"}`;
}

/** Something the ACL allows: device -> client on the client's read filter, client -> device, or a `$SYS` read. */
async function allowedOperation(p: Probe): Promise<{ ok: boolean; evidence: string }> {
  const { ctx, i, own, device, nonce } = p;
  const t = ctx.topology;
  const payload = `identity-${i.client}-${nonce}`;
  const suffix = `e2e-identity/${nonce}`;
  const inbound = device ? sharedTopic(t, device.name, i.client, suffix) : undefined;
  if (device && inbound) {
    const filter = aclFilters(t, i.client, "read").find((f) => topicMatches(f, inbound)) ?? inbound;
    const sub = await subscribeGranted(own, filter);
    const heard = nextMessage(own, inbound, 8000);
    const ack = await publishAcked(device.session, inbound, payload);
    const got = await heard;
    return {
      ok: sub.granted && got === payload,
      evidence: `subscribed ${filter} (SUBACK ${sub.code}); ${device.name} published QoS 1 to ${inbound} (PUBACK ${ack}): ${got === payload ? "received" : "NOT received"}`,
    };
  }
  const outbound = device ? sharedTopic(t, i.client, device.name, suffix) : undefined;
  if (device && outbound) {
    const sub = await subscribeGranted(device.session, outbound);
    const heard = nextMessage(device.session, outbound, 8000);
    const ack = await publishAcked(own, outbound, payload);
    const got = await heard;
    return {
      ok: sub.granted && ack === "success" && got === payload,
      evidence: `published QoS 1 to ${outbound} (PUBACK ${ack}): ${device.name} ${got === payload ? "received it" : "did NOT receive it"}`,
    };
  }
  const sys = "$SYS/broker/uptime";
  if (aclFilters(t, i.client, "read").some((f) => topicMatches(f, sys))) {
    const sub = await subscribeGranted(own, sys);
    const got = await nextMessage(own, sys, 15_000);
    return {
      ok: sub.granted && got !== undefined && /\d/.test(got),
      evidence: `subscribed ${sys} (SUBACK ${sub.code}): ${got !== undefined ? JSON.stringify(got) : "nothing within 15 s"}`,
    };
  }
  return { ok: false, evidence: `no topic the ACL lets ${i.client} exchange with a device or read from $SYS` };
}

/** A publish outside its write entries, while a subscriber that may read the topic listens. */
async function outOfScope(p: Probe): Promise<{ ok: boolean; evidence: string }> {
  const { ctx, i, own, device, nonce } = p;
  const t = ctx.topology;
  const suffix = `e2e-other/e2e-identity-${nonce}`;
  const witnesses = [{ name: i.client, session: own }, ...(device ? [device] : [])];
  for (const w of witnesses) {
    const target = outOfScopeTopic(t, i.client, w.name, suffix);
    if (!target) continue;
    const sub = await subscribeGranted(w.session, target.filter);
    const heard = nextMessage(w.session, target.topic, 5000);
    const ack = await publishAcked(own, target.topic, `outside-${i.client}-${nonce}`);
    const got = await heard;
    return {
      ok: ack !== "success" && got === undefined && sub.granted,
      evidence: `published QoS 1 to ${target.topic} (PUBACK ${ack}); ${w.name}, subscribed to ${target.filter} (SUBACK ${sub.code}), ${got === undefined ? "did not receive it" : "RECEIVED it"}`,
    };
  }
  return { ok: false, evidence: `no topic outside ${i.client}'s write entries that a probed identity may read` };
}

/** Without a certificate, and with one under the client's name from another CA: both refused. */
async function undeclared(ctx: StackContext, i: Identity): Promise<{ ok: boolean; evidence: string[] }> {
  const outcome = async (label: string, clientId: string, creds?: Credentials) => {
    const r = await connectAs(ctx, i, clientId, creds);
    if (r.connected) await disconnectDevice(r.client);
    return { refused: !r.connected, line: `${label} -> ${r.connected ? "CONNACK (accepted)" : r.error}` };
  };
  const noCert = await outcome("no client certificate", `e2e-identity-${i.client}-nocert`);
  const stranger = await strangerCertificate(i.username);
  const otherCa = await outcome(`CN=${i.username} from another CA`, `e2e-identity-${i.client}-other-ca`, stranger);
  return { ok: noCert.refused && otherCa.refused, evidence: [noCert.line, otherCa.line] };
}

async function mqttIdentity(ctx: StackContext, i: Identity): Promise<IdentityResult> {
  const flow = `${i.client} -> ${i.server}:${i.flow.port}`;
  const failed = (why: string, refusals?: { ok: boolean; evidence: string[] }): IdentityResult => ({
    flow,
    user: i.username,
    allowedOk: false,
    outOfScopeRefused: false,
    undeclaredRefused: refusals?.ok ?? false,
    evidence: [why, ...(refusals?.evidence ?? [])],
  });
  const refusals = await undeclared(ctx, i);
  const creds = await taskCredentials(ctx, i.client);
  if (typeof creds === "string") return failed(creds, refusals);
  const nonce = crypto.randomBytes(4).toString("hex");
  const own = await connectAs(ctx, i, `e2e-identity-${i.client}`, creds);
  if (!own.connected) return failed(`${issuedCheck(ctx, i, creds)}; its certificate refused: ${own.error}`, refusals);
  const deviceName = deviceIdentity(ctx);
  const deviceConn = deviceName
    ? await (async () => {
        const leaf = ctx.leaf(mqttClientCertName(deviceName));
        return connectAs(ctx, i, `e2e-identity-${deviceName}-for-${i.client}`, {
          cert: leaf.certPem,
          key: leaf.keyPem,
        });
      })()
    : undefined;
  const device = deviceName && deviceConn?.connected ? { name: deviceName, session: deviceConn.client } : undefined;
  try {
    const probe: Probe = { ctx, i, nonce, own: own.client, device };
    const allowed = await allowedOperation(probe);
    const outside = await outOfScope(probe);
    return {
      flow,
      user: i.username,
      allowedOk: allowed.ok,
      outOfScopeRefused: outside.ok,
      undeclaredRefused: refusals.ok,
      evidence: [
        `${issuedCheck(ctx, i, creds)}, connected as e2e-identity-${i.client}`,
        ...(deviceName && !device
          ? [`device ${deviceName} could not connect: ${deviceConn && !deviceConn.connected ? deviceConn.error : "?"}`]
          : []),
        allowed.evidence,
        outside.evidence,
        ...refusals.evidence,
      ],
    };
  } finally {
    await disconnectDevice(own.client);
    if (device) await disconnectDevice(device.session);
  }
}

/** Every certificate identity of the stack (a client's certificate for the broker), probed from this host. */
export async function probeMqttIdentities(ctx: StackContext): Promise<IdentityResult[]> {
  const results: IdentityResult[] = [];
  for (const i of planIdentities(ctx.topology).filter((x) => x.kind === "certificate"))
    results.push(await mqttIdentity(ctx, i));
  return results;
}
