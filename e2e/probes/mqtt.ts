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

const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

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
  const evidence: string[] = [];
  const device = deviceIdentity(ctx);
  const inbound = device ? sharedTopic(ctx.topology, device, client, `e2e/${nonce}`) : undefined;
  const outbound = device ? sharedTopic(ctx.topology, client, device, `e2e/${nonce}`) : undefined;

  if (device && (inbound || outbound)) {
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
    let ok = true;
    try {
      if (inbound) {
        // Device -> client: the client subscribes in its task while the device publishes until it is heard.
        const sub = ctx.sh(
          client,
          `timeout 20 mosquitto_sub ${tlsArgs} -i e2e-${client}-${nonce} -q 1 -t ${q(inbound)} -C 1 -W 15`,
          { timeoutMs: 25_000, task: opts.task },
        );
        let finished = false;
        void sub.finally(() => (finished = true)).catch(() => undefined);
        let acks = "";
        for (let i = 0; i < 30 && !finished; i++) {
          acks = await publishAcked(conn.client, inbound, `to-${client}-${nonce}`);
          await new Promise((r) => setTimeout(r, 500));
        }
        const r = await sub;
        const heard = r.stdout.trim() === `to-${client}-${nonce}`;
        ok &&= heard;
        evidence.push(
          `${device} -> ${client} on ${inbound}: ${heard ? "received" : `not received (exit ${r.exitCode}: ${(r.stderr || r.stdout).trim().slice(0, 200)})`}, PUBACK ${acks}`,
        );
      }
      if (outbound) {
        // Client -> device: the device subscribes, the client publishes from its task.
        const sub = await subscribeGranted(conn.client, outbound);
        const message = nextMessage(conn.client, outbound, 10_000);
        const r = await ctx.sh(
          client,
          `timeout 10 mosquitto_pub ${tlsArgs} -i e2e-${client}-${nonce} -q 1 -t ${q(outbound)} -m ${q(`from-${client}-${nonce}`)}`,
          { timeoutMs: 15_000, task: opts.task },
        );
        const got = await message;
        const heard = got === `from-${client}-${nonce}`;
        ok &&= heard && r.exitCode === 0 && sub.granted;
        evidence.push(
          `${client} -> ${device} on ${outbound}: ${heard ? "received" : `not received (pub exit ${r.exitCode}: ${r.stderr.trim().slice(0, 200)})`}, SUBACK ${sub.code}`,
        );
      }
    } finally {
      await endDevice(conn.client);
    }
    return { ok, evidence };
  }

  const sys = "$SYS/broker/uptime";
  if (ctx.topology.mqtt.acl.some((a) => a.user === client && a.access !== "write" && topicMatches(a.topic, sys))) {
    const r = await ctx.sh(
      client,
      `timeout 15 mosquitto_sub ${tlsArgs} -i e2e-${client}-${nonce} -t ${q(sys)} -C 1 -W 10`,
      { timeoutMs: 20_000, task: opts.task },
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
