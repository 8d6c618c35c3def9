/** A field device on this host: MQTT over TLS to the broker's published port, with the `mqtt` package. */
import * as mqtt from "mqtt";
import { realiseTls } from "../harness/tls";

export interface DeviceOptions {
  /** Address of the broker's published port; default loopback (single node). */
  readonly host?: string;
  readonly port: number;
  /** Name the broker's certificate must carry (SNI and hostname check). */
  readonly servername: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly clientId: string;
  readonly timeoutMs?: number;
}

/** How a device reaches the broker: MQTT over TLS to `host:port`, the broker's name checked, its own certificate. */
export function deviceTls(o: Omit<DeviceOptions, "clientId" | "timeoutMs">) {
  return {
    protocol: "mqtts" as const,
    host: o.host ?? "127.0.0.1",
    port: o.port,
    servername: o.servername,
    ca: o.ca,
    cert: o.cert,
    key: o.key,
    rejectUnauthorized: true,
  };
}

export type ConnectOutcome = { connected: true; client: mqtt.MqttClient } | { connected: false; error: string };

/** Connects (MQTT 5, no reconnects); resolves with the reason when the broker or TLS refuses. */
export async function connectDevice(o: DeviceOptions): Promise<ConnectOutcome> {
  const timeoutMs = o.timeoutMs ?? 8000;
  return new Promise<ConnectOutcome>((resolve) => {
    let settled = false;
    const client = mqtt.connect({
      ...deviceTls(o),
      protocolVersion: 5,
      clientId: o.clientId,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      clean: true,
    });
    const done = (r: ConnectOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!r.connected) client.end(true);
      resolve(r);
    };
    const timer = setTimeout(
      () => done({ connected: false, error: `no CONNACK within ${timeoutMs} ms` }),
      timeoutMs + 500,
    );
    client.once("connect", () => done({ connected: true, client }));
    client.once("error", (e) => done({ connected: false, error: shortTlsError(e.message) }));
    client.once("close", () => done({ connected: false, error: "connection closed before CONNACK" }));
  });
}

/** OpenSSL's one-line errors, down to the alert a peer sent ("tlsv13 alert certificate required (SSL alert 116)"). */
export function shortTlsError(message: string): string {
  const alert = /(tlsv1\d* alert [a-z ]+).*SSL alert number (\d+)/s.exec(message);
  return alert ? `${alert[1].trim()} (TLS alert ${alert[2]})` : message.split("\n")[0].trim();
}

/** Resolves with the first message on `topic`, or undefined after `timeoutMs`. */
export function nextMessage(client: mqtt.MqttClient, topic: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return;
      cleanup();
      resolve(payload.toString());
    };
    const timer = setTimeout(() => {
      cleanup();
      resolve(undefined);
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      client.off("message", onMessage);
    };
    client.on("message", onMessage);
  });
}

/** Publishes with QoS 1 and returns the broker's answer ("success" or the MQTT 5 reason). */
export async function publishAcked(client: mqtt.MqttClient, topic: string, message: string): Promise<string> {
  try {
    await client.publishAsync(topic, message, { qos: 1 });
    return "success";
  } catch (e) {
    return (e as Error).message;
  }
}

export async function subscribeGranted(
  client: mqtt.MqttClient,
  topic: string,
): Promise<{ granted: boolean; code: number }> {
  const granted = await client.subscribeAsync(topic, { qos: 1 });
  const code = granted[0]?.qos ?? 128;
  return { granted: code < 128, code };
}

export async function endDevice(client: mqtt.MqttClient): Promise<void> {
  await client.endAsync(true).catch(() => undefined);
}

/** Ends the session as a well-behaved client does: DISCONNECT, then close; forced if the broker does not let go. */
export async function disconnectDevice(client: mqtt.MqttClient, timeoutMs = 3000): Promise<void> {
  const graceful = client.endAsync(false).then(
    () => true,
    () => false,
  );
  const timer = new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref());
  if (!(await Promise.race([graceful, timer]))) await endDevice(client);
}

/** A CA and a client certificate the stack has never seen, under a name the stack knows (a device's, a service's). */
export async function strangerCertificate(commonName: string): Promise<{ cert: string; key: string }> {
  const caKey = await realiseTls("tls:index/privateKey:PrivateKey", { algorithm: "ECDSA", ecdsaCurve: "P256" });
  const ca = await realiseTls("tls:index/selfSignedCert:SelfSignedCert", {
    privateKeyPem: caKey.privateKeyPem,
    subject: { commonName: "untrusted e2e CA", organization: "elsewhere" },
    isCaCertificate: true,
    validityPeriodHours: 2,
    allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
  });
  const key = await realiseTls("tls:index/privateKey:PrivateKey", { algorithm: "ECDSA", ecdsaCurve: "P256" });
  const csr = await realiseTls("tls:index/certRequest:CertRequest", {
    privateKeyPem: key.privateKeyPem,
    subject: { commonName },
  });
  const cert = await realiseTls("tls:index/locallySignedCert:LocallySignedCert", {
    certRequestPem: csr.certRequestPem,
    caPrivateKeyPem: caKey.privateKeyPem,
    caCertPem: ca.certPem,
    validityPeriodHours: 2,
    allowedUses: ["digital_signature", "key_encipherment", "client_auth"],
  });
  return { cert: String(cert.certPem), key: String(key.privateKeyPem) };
}
