/**
 * MQTT over TLS between an in-swarm client (its own task, its mounted certificate and key) and the
 * field device the run plays on this host (through the broker's published port), in both
 * directions the broker's ACL allows; or, for a client that may only read broker statistics, one
 * `$SYS` message.
 */
import * as crypto from "node:crypto";
import { serviceFiles } from "../../model/files";
import { mqttClientCertName } from "../../model/pki";
import { StackContext, Task } from "../lib/context";
import { connectDevice, endDevice, nextMessage, publishAcked, subscribeGranted } from "../lib/mqttDevice";
import { sharedTopic, topicMatches } from "./intent";
import { shellQuote as q } from "../lib/util";

export interface MqttClientPaths {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** Where a service's MQTT client files are mounted, read from the model's file list. */
export function mqttClientPaths(ctx: StackContext, service: string): MqttClientPaths | undefined {
  const files = serviceFiles(ctx.topology, ctx.spec(service)).files;
  const at = (name: string) => files.find((f) => f.name === name)?.target;
  const ca = at("ca.crt");
  const cert = at("mqtt-client.crt");
  const key = at("mqtt-client.key");
  return ca && cert && key ? { ca, cert, key } : undefined;
}

/** The client identity the run plays as a field device: one the CA issues that no service uses. */
export function deviceIdentity(ctx: StackContext): string | undefined {
  const services = new Set(ctx.topology.services.map((s) => s.name));
  return ctx.topology.tls.mqttClients.find((c) => !services.has(c));
}

export interface MqttExchange {
  readonly ok: boolean;
  readonly evidence: string[];
}

/** One exchange between a client's task and the field device: who, where, and the nonce that marks its messages. */
interface Exchange {
  readonly ctx: StackContext;
  readonly client: string;
  readonly device: string;
  readonly tlsArgs: string;
  readonly nonce: string;
  readonly task?: Task;
}

type DeviceClient = Parameters<typeof endDevice>[0];

/** From `client`'s task (the first, or the one given), over TLS with its certificate, to `host:port`. */
export async function mqttExchange(
  ctx: StackContext,
  client: string,
  host: string,
  port: number,
  opts: { task?: Task } = {},
): Promise<MqttExchange> {
  const paths = mqttClientPaths(ctx, client);
  if (!paths) return { ok: false, evidence: [`${client} has no MQTT client certificate mounted`] };
  const tlsArgs = `-h ${q(host)} -p ${port} --cafile ${q(paths.ca)} --cert ${q(paths.cert)} --key ${q(paths.key)}`;
  const nonce = crypto.randomBytes(6).toString("hex");
  const device = deviceIdentity(ctx);
  const inbound = device ? sharedTopic(ctx.topology, device, client, `e2e/${nonce}`) : undefined;
  const outbound = device ? sharedTopic(ctx.topology, client, device, `e2e/${nonce}`) : undefined;
  if (device && (inbound || outbound)) {
    const x: Exchange = { ctx, client, device, tlsArgs, nonce, task: opts.task };
    return exchangeWithDevice(x, inbound, outbound);
  }
  return readSys(ctx, client, tlsArgs, nonce, opts.task);
}

/** The device connects from outside (published MQTTS port) and exchanges a message each way the ACL allows. */
async function exchangeWithDevice(x: Exchange, inbound?: string, outbound?: string): Promise<MqttExchange> {
  const { ctx, device, nonce } = x;
  const leaf = ctx.leaf(mqttClientCertName(device));
  const conn = await connectDevice({
    host: ctx.publishedHost("mosquitto"),
    port: ctx.published("mosquitto", "mqtts"),
    servername: ctx.topology.tls.mqttHostname,
    ca: ctx.caPem,
    cert: leaf.certPem,
    key: leaf.keyPem,
    clientId: `${device}-${nonce}`,
  });
  if (!conn.connected) return { ok: false, evidence: [`device ${device} could not connect: ${conn.error}`] };
  const evidence: string[] = [];
  let ok = true;
  try {
    for (const step of [
      inbound ? () => deviceToClient(x, conn.client, inbound) : undefined,
      outbound ? () => clientToDevice(x, conn.client, outbound) : undefined,
    ]) {
      if (!step) continue;
      const r = await step();
      ok &&= r.ok;
      evidence.push(r.evidence);
    }
  } finally {
    await endDevice(conn.client);
  }
  return { ok, evidence };
}

/** Device -> client: the client subscribes in its task while the device publishes until it is heard. */
async function deviceToClient(x: Exchange, device: DeviceClient, topic: string) {
  const { ctx, client, nonce } = x;
  const sub = ctx.sh(
    client,
    `timeout 20 mosquitto_sub ${x.tlsArgs} -i e2e-${client}-${nonce} -q 1 -t ${q(topic)} -C 1 -W 15`,
    { timeoutMs: 25_000, task: x.task },
  );
  let finished = false;
  void sub.finally(() => (finished = true)).catch(() => undefined);
  let acks = "";
  for (let i = 0; i < 30 && !finished; i++) {
    acks = await publishAcked(device, topic, `to-${client}-${nonce}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const r = await sub;
  const heard = r.stdout.trim() === `to-${client}-${nonce}`;
  return {
    ok: heard,
    evidence: `${x.device} -> ${client} on ${topic}: ${heard ? "received" : `not received (exit ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(0, 200)})`}, PUBACK ${acks}`,
  };
}

/** Client -> device: the device subscribes, the client publishes from its task. */
async function clientToDevice(x: Exchange, device: DeviceClient, topic: string) {
  const { ctx, client, nonce } = x;
  const sub = await subscribeGranted(device, topic);
  const message = nextMessage(device, topic, 10_000);
  const r = await ctx.sh(
    client,
    `timeout 10 mosquitto_pub ${x.tlsArgs} -i e2e-${client}-${nonce} -q 1 -t ${q(topic)} -m ${q(`from-${client}-${nonce}`)}`,
    { timeoutMs: 15_000, task: x.task },
  );
  const got = await message;
  const heard = got === `from-${client}-${nonce}`;
  return {
    ok: heard && r.exitCode === 0 && sub.granted,
    evidence: `${client} -> ${x.device} on ${topic}: ${heard ? "received" : `not received (pub exit ${r.exitCode}: ${r.stderr.trim().slice(0, 200)})`}, SUBACK ${sub.code}`,
  };
}

/** Without a device to talk to, a client the ACL lets read $SYS proves its TLS session by reading the uptime. */
async function readSys(
  ctx: StackContext,
  client: string,
  tlsArgs: string,
  nonce: string,
  task: Task | undefined,
): Promise<MqttExchange> {
  const sys = "$SYS/broker/uptime";
  if (ctx.topology.mqtt.acl.some((a) => a.user === client && a.access !== "write" && topicMatches(a.topic, sys))) {
    const r = await ctx.sh(
      client,
      `timeout 15 mosquitto_sub ${tlsArgs} -i e2e-${client}-${nonce} -t ${q(sys)} -C 1 -W 10`,
      { timeoutMs: 20_000, task },
    );
    const ok = r.exitCode === 0 && /\d/.test(r.stdout);
    return {
      ok,
      evidence: [
        `${client} subscribed to ${sys}: ${ok ? JSON.stringify(r.stdout.trim()) : `exit ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(0, 200)}`}`,
      ],
    };
  }
  return { ok: false, evidence: [`no topic the ACL lets ${client} exchange with a device or read from $SYS`] };
}
