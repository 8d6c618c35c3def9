/**
 * TLS as a device and a browser see it, from this host through the published ports: MQTTS with a
 * client certificate the program's CA issued works both ways with an in-swarm client; without a
 * certificate, or with one from another CA, the broker refuses; plaintext MQTT is refused on the
 * host and inside the swarm; the broker and the gateway serve the program's certificates, whose
 * chains verify against the program's CA and whose names are the ones clients use.
 */
import * as crypto from "node:crypto";
import * as net from "node:net";
import * as tls from "node:tls";
import * as mqtt from "mqtt";
import { mqttClientCertName } from "../../model/pki";
import { StackContext } from "../lib/context";
import {
  connectDevice,
  endDevice,
  nextMessage,
  publishAcked,
  strangerCertificate,
  subscribeGranted,
} from "../lib/mqttDevice";
import { deviceIdentity, mqttClientPaths, mqttExchange } from "./mqtt";
import { sharedTopic } from "./intent";

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface TlsReport {
  readonly mqttsOk: boolean;
  readonly plaintextRefused: boolean;
  readonly untrustedClientRefused: boolean;
  readonly checks: Check[];
  readonly details: Record<string, unknown>;
}

/** The certificate a TLS server on this host presents, and whether it verified against `ca` for `servername`. */
export function serverCertificate(
  port: number,
  servername: string,
  ca: string,
  client?: { cert: string; key: string },
): Promise<{ authorized: boolean; error?: string; cert?: crypto.X509Certificate; protocol?: string }> {
  return new Promise((resolve) => {
    const sock = tls.connect({
      host: "127.0.0.1",
      port,
      servername,
      ca,
      cert: client?.cert,
      key: client?.key,
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ authorized: false, error: "timeout" });
    }, 8000);
    sock.once("secureConnect", () => {
      clearTimeout(timer);
      const cert = sock.getPeerX509Certificate();
      // rejectUnauthorized: false only to read the certificate: the chain verdict is the socket's,
      // the name is checked against the certificate as a client would.
      const nameOk = cert?.checkHost(servername) !== undefined;
      resolve({
        authorized: sock.authorized && nameOk,
        error: sock.authorizationError
          ? String(sock.authorizationError)
          : nameOk
            ? undefined
            : `${servername} is not a name of the certificate`,
        cert,
        protocol: sock.getProtocol() ?? undefined,
      });
      sock.end();
    });
    sock.once("error", (e) => {
      clearTimeout(timer);
      resolve({ authorized: false, error: e.message });
    });
  });
}

function certificateCheck(
  name: string,
  served: Awaited<ReturnType<typeof serverCertificate>>,
  issuedPem: string,
  caPem: string,
  names: string[],
): Check {
  if (!served.cert) return { name, ok: false, detail: served.error ?? "no certificate" };
  const ca = new crypto.X509Certificate(caPem);
  const issued = new crypto.X509Certificate(issuedPem);
  const sans = (served.cert.subjectAltName ?? "").split(", ").map((s) => s.replace(/^DNS:/, ""));
  const missing = names.filter((n) => !sans.includes(n));
  const same = served.cert.fingerprint256 === issued.fingerprint256;
  const chain = served.cert.checkIssued(ca) && served.cert.verify(ca.publicKey);
  const ok = served.authorized && same && chain && missing.length === 0;
  return {
    name,
    ok,
    detail:
      `${served.protocol ?? "?"}, ${same ? "the program's certificate" : "NOT the program's certificate"}, chain ${chain ? "verifies" : "does NOT verify"} against the program's CA` +
      `${served.authorized ? "" : ` (${served.error})`}; SANs ${missing.length ? `missing ${missing.join(",")}` : `include ${names.join(", ")}`}`,
  };
}

function tcpRefused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve("timeout");
    }, 3000);
    s.once("connect", () => {
      clearTimeout(timer);
      s.destroy();
      resolve("open");
    });
    s.once("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(e.code ?? e.message);
    });
  });
}

/** Plain MQTT CONNECT to a port: resolves "CONNACK" if a broker answered in plaintext. */
function plainMqtt(port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = mqtt.connect({
      host: "127.0.0.1",
      port,
      protocol: "mqtt",
      reconnectPeriod: 0,
      connectTimeout: 4000,
      clientId: "e2e-plaintext",
    });
    const done = (r: string) => {
      c.end(true);
      resolve(r);
    };
    c.once("connect", () => done("CONNACK"));
    c.once("error", (e) => done(e.message));
    c.once("close", () => done("closed without CONNACK"));
  });
}

/**
 * The ACL binds a device to its own topics: publishing under another device's topic is refused,
 * and of two messages the in-swarm peer publishes under a wildcard the device subscribed to, only
 * the one under the device's own topic arrives (the other is the proof that filtering happened).
 */
async function aclConfinement(
  ctx: StackContext,
  device: string,
  peer: string,
  port: number,
  brokerPort: number,
  nonce: string,
): Promise<Check> {
  const t = ctx.topology;
  const name = "MQTT ACL confines a device to its own topics";
  const own = sharedTopic(t, peer, device, `e2e/${nonce}`);
  const paths = mqttClientPaths(ctx, peer);
  if (!own || !paths) return { name, ok: false, detail: `no topic ${peer} may publish and ${device} may read` };
  const levels = own.split("/");
  const foreignLevels = [...levels];
  const at = levels.indexOf(device);
  if (at < 0) return { name, ok: false, detail: `the device's topic ${own} does not carry its name` };
  foreignLevels[at] = `not-${device}`;
  const foreign = foreignLevels.join("/");
  const wildcard = `${levels.slice(0, at).join("/")}/#`;
  const leaf = ctx.leaf(mqttClientCertName(device));
  const conn = await connectDevice({
    port,
    servername: t.tls.mqttHostname,
    ca: ctx.caPem,
    cert: leaf.certPem,
    key: leaf.keyPem,
    clientId: `${device}-acl-${nonce}`,
  });
  if (!conn.connected) return { name, ok: false, detail: `device could not connect: ${conn.error}` };
  try {
    const refused = await publishAcked(conn.client, foreign, "outside the device's ACL");
    await subscribeGranted(conn.client, wildcard);
    const received: string[] = [];
    conn.client.on("message", (topic) => received.push(topic));
    const q = (x: string) => `'${x}'`;
    const tlsArgs = `-h mosquitto -p ${brokerPort} --cafile ${q(paths.ca)} --cert ${q(paths.cert)} --key ${q(paths.key)}`;
    const pub = await ctx.sh(
      peer,
      `for t in ${q(foreign)} ${q(own)}; do timeout 10 mosquitto_pub ${tlsArgs} -i e2e-${peer}-acl-${nonce} -q 1 -t "$t" -m acl || exit 1; done`,
      { timeoutMs: 25_000 },
    );
    const heardOwn = received.includes(own) || (await nextMessage(conn.client, own, 8000)) !== undefined;
    const heardForeign = received.includes(foreign);
    const ok = refused !== "success" && pub.exitCode === 0 && heardOwn && !heardForeign;
    return {
      name,
      ok,
      detail:
        `publish to ${foreign}: ${refused}; subscribed ${wildcard}, ${peer} published to ${foreign} and ${own}: ` +
        `device received ${[heardForeign ? foreign : "", heardOwn ? own : ""].filter(Boolean).join(" and ") || "nothing"}${pub.exitCode ? ` (pub exit ${pub.exitCode})` : ""}`,
    };
  } finally {
    await endDevice(conn.client);
  }
}

export async function probeTls(ctx: StackContext): Promise<TlsReport> {
  const checks: Check[] = [];
  const details: Record<string, unknown> = {};
  const mqttsPort = ctx.spec("mosquitto").ports.find((p) => p.appProtocol === "mqtts")!;
  const mqttsHost = ctx.published("mosquitto", mqttsPort.name);
  const device = deviceIdentity(ctx);
  const nonce = crypto.randomBytes(4).toString("hex");
  const mqttsOk = await deviceSession(ctx, { device, mqttsHost, mqttsPort: mqttsPort.port, nonce }, checks, details);
  const untrustedClientRefused = await strangersRefused(ctx, { device, mqttsHost, nonce }, checks, details);
  const plaintextRefused = await plaintextMqttRefused(ctx, mqttsHost, details);
  checks.push(await brokerCertificateCheck(ctx, mqttsHost, device));
  checks.push(await gatewayCertificateCheck(ctx));
  return { mqttsOk, plaintextRefused, untrustedClientRefused, checks, details };
}

/**
 * 1. A device with the program's client certificate: connect, ACL-bound publish/subscribe, both
 * ways with an in-swarm client. Returns whether the exchange worked.
 */
async function deviceSession(
  ctx: StackContext,
  at: { device?: string; mqttsHost: number; mqttsPort: number; nonce: string },
  checks: Check[],
  details: Record<string, unknown>,
): Promise<boolean> {
  const t = ctx.topology;
  const { device, mqttsHost } = at;
  if (!device) {
    details.mqtts = "no device identity in tls.mqttClients: nothing to connect as from outside";
    return false;
  }
  const peer = t.tls.mqttClients.find(
    (c) => c !== device && (sharedTopic(t, device, c, "x") || sharedTopic(t, c, device, "x")),
  );
  const exchange = peer
    ? await mqttExchange(ctx, peer, "mosquitto", at.mqttsPort)
    : { ok: false, evidence: ["no in-swarm client shares a topic with the device"] };
  details.mqtts = { device, peer, port: mqttsHost, evidence: exchange.evidence };
  if (peer) checks.push(await aclConfinement(ctx, device, peer, mqttsHost, at.mqttsPort, at.nonce));
  return exchange.ok;
}

/** 2. No client certificate; 3. a certificate from another CA. Returns whether the latter was refused. */
async function strangersRefused(
  ctx: StackContext,
  at: { device?: string; mqttsHost: number; nonce: string },
  checks: Check[],
  details: Record<string, unknown>,
): Promise<boolean> {
  const t = ctx.topology;
  const noCert = await connectDevice({
    port: at.mqttsHost,
    servername: t.tls.mqttHostname,
    ca: ctx.caPem,
    clientId: `e2e-nocert-${at.nonce}`,
  });
  if (noCert.connected) await endDevice(noCert.client);
  checks.push({
    name: "MQTTS without a client certificate refused",
    ok: !noCert.connected,
    detail: noCert.connected ? "CONNACK received" : noCert.error,
  });
  const stranger = await strangerCertificate(at.device ?? "e2e-device");
  const untrusted = await connectDevice({
    port: at.mqttsHost,
    servername: t.tls.mqttHostname,
    ca: ctx.caPem,
    ...stranger,
    clientId: `e2e-untrusted-${at.nonce}`,
  });
  if (untrusted.connected) await endDevice(untrusted.client);
  details.untrustedClient = untrusted.connected ? "CONNACK received" : untrusted.error;
  return !untrusted.connected;
}

/** 4. Plaintext MQTT: not on the host, not on the TLS port, not from any task that shares a network with the broker. */
async function plaintextMqttRefused(
  ctx: StackContext,
  mqttsHost: number,
  details: Record<string, unknown>,
): Promise<boolean> {
  const hostPlain = await tcpRefused(1883);
  const plainOnTls = await plainMqtt(mqttsHost);
  const neighbours = Object.entries(ctx.exports.intendedReachability)
    .filter(([, peers]) => peers.includes("mosquitto"))
    .map(([s]) => s);
  const inside: Record<string, string> = {};
  for (const s of neighbours) {
    const ips = ctx.ips("mosquitto", ctx.sharedNetworks(s, "mosquitto"));
    const r = await ctx.netprobe(s, { tcp: ips.map((ip) => [ip, 1883] as [string, number]) });
    for (const [k, v] of Object.entries(r.tcp)) inside[`${s} -> ${k}`] = v.result;
  }
  details.plaintext = { "127.0.0.1:1883": hostPlain, [`plain MQTT to 127.0.0.1:${mqttsHost}`]: plainOnTls, ...inside };
  return (
    hostPlain === "ECONNREFUSED" &&
    plainOnTls !== "CONNACK" &&
    Object.keys(inside).length > 0 &&
    Object.values(inside).every((v) => v !== "open")
  );
}

/** 5a. The broker's served certificate, against the one the program issued and its CA. */
async function brokerCertificateCheck(ctx: StackContext, mqttsHost: number, device?: string): Promise<Check> {
  const t = ctx.topology;
  const deviceLeaf = device ? ctx.leaf(mqttClientCertName(device)) : undefined;
  const broker = await serverCertificate(
    mqttsHost,
    t.tls.mqttHostname,
    ctx.caPem,
    deviceLeaf ? { cert: deviceLeaf.certPem, key: deviceLeaf.keyPem } : undefined,
  );
  return certificateCheck(
    `Broker serves the program's certificate on ${mqttsHost}`,
    broker,
    ctx.leaf("mosquitto").certPem,
    ctx.caPem,
    [t.tls.mqttHostname, "mosquitto", ...ctx.spec("mosquitto").aliases],
  );
}

/** 5b. The gateway's served certificate, verified for every route's name (SNI). */
async function gatewayCertificateCheck(ctx: StackContext): Promise<Check> {
  const t = ctx.topology;
  const httpsPort = ctx.published("gateway", "https");
  const hosts = t.routes.map((r) => `${r.subdomain}.${t.domain}`);
  const gatewayCerts = await Promise.all(hosts.map((h) => serverCertificate(httpsPort, h, ctx.caPem)));
  const gw = certificateCheck(
    `Gateway serves the program's certificate on ${httpsPort}`,
    gatewayCerts[0],
    ctx.leaf("gateway").certPem,
    ctx.caPem,
    [t.domain, ...hosts],
  );
  const everyName = gatewayCerts.every((c) => c.authorized);
  return {
    ...gw,
    ok: gw.ok && everyName,
    detail: `${gw.detail}; verified for SNI ${hosts.join(", ")}: ${everyName ? "yes" : gatewayCerts.map((c, i) => `${hosts[i]} ${c.error ?? "ok"}`).join(", ")}`,
  };
}
