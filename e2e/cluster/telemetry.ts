/**
 * The renewable-energy telemetry path, measured end to end: a field device on this host publishes a
 * QoS 1 reading every `intervalMs` (a unique reading id, its own timestamp, power and energy) over mTLS
 * through the broker's published port; the stack carries it (broker -> Node-RED's provisioned flow ->
 * InfluxDB); at the end the run reads InfluxDB back and counts what arrived, what arrived more than
 * once, and, per fault window, what was sent and never stored.
 *
 * The device keeps one MQTT client for the whole run (mqtt.js: reconnects every second; a QoS 1 reading
 * stays in its outgoing store until the broker acknowledged it and is sent again after a reconnect), so a
 * broker restart delays readings and never drops them on the device's side.
 */
import * as crypto from "node:crypto";
import * as mqtt from "mqtt";
import { serviceFiles } from "../../model/files";
import { mqttClientCertName } from "../../model/pki";
import { StackContext } from "../lib/context";
import { deviceTls } from "../lib/mqttDevice";
import { sleep } from "../lib/util";
import { deviceIdentity } from "../probes/mqtt";

/** What the report says about the path: readings sent, distinct readings stored, readings stored more than once. */
export interface TelemetryCounts {
  readonly sent: number;
  /** Distinct reading ids of this run that InfluxDB holds. */
  readonly stored: number;
  /** Reading ids InfluxDB holds as more than one point (another series or timestamp: not an upsert). */
  readonly duplicates: number;
  /** Sent readings the broker never acknowledged to the device. */
  readonly unacknowledged: number;
  /** Seconds from the end of sending until InfluxDB held every reading (null: not within the wait). */
  readonly drainSeconds: number | null;
  /** The first sent readings InfluxDB does not hold: id, when sent and acknowledged (from the first reading). */
  readonly missing: string[];
}

export interface SentReading {
  readonly id: string;
  /** When the device handed it to its client (ms since the epoch). */
  readonly at: number;
}

/** A point as the InfluxDB stand-in returns it (GET /api/v2/e2e/points). */
export interface StoredPoint {
  readonly measurement: string;
  readonly tags: Record<string, string>;
  readonly fields: Record<string, unknown>;
  readonly time: number;
}

/** Pure: what arrived of what was sent. Points of other runs or devices (other reading ids) are ignored. */
export function tally(
  sent: readonly SentReading[],
  points: readonly StoredPoint[],
): { stored: number; duplicates: number; missing: string[] } {
  const ids = new Set(sent.map((r) => r.id));
  const perId = new Map<string, number>();
  for (const p of points) {
    const id = p.tags.reading;
    if (id !== undefined && ids.has(id)) perId.set(id, (perId.get(id) ?? 0) + 1);
  }
  return {
    stored: perId.size,
    duplicates: [...perId.values()].filter((n) => n > 1).length,
    missing: sent.filter((r) => !perId.has(r.id)).map((r) => r.id),
  };
}

/** Pure: readings sent in [from, to] that InfluxDB does not hold. */
export function lostIn(sent: readonly SentReading[], missing: ReadonlySet<string>, from: number, to: number): number {
  return sent.filter((r) => r.at >= from && r.at <= to && missing.has(r.id)).length;
}

export interface DeviceStreamOptions {
  /** The node that publishes the broker's port, asked again at every reconnect (the broker may move). */
  readonly host: () => string;
  readonly port: number;
  readonly servername: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** The device's name: its certificate's CN, and the topic's device level. */
  readonly device: string;
  readonly intervalMs?: number;
  /** Stop after this many readings (the single-node run); unbounded otherwise. */
  readonly limit?: number;
}

/** A field device publishing a reading every `intervalMs` until stopped. */
export class DeviceStream {
  readonly sent: SentReading[] = [];
  /** Reading id -> when the broker acknowledged it (ms since the epoch). */
  private readonly acked = new Map<string, number>();
  /** Reading id -> the connection (count of CONNACKs so far) it was handed over on, and acknowledged on. */
  private readonly onConnection = new Map<string, { sent: number; acked?: number }>();
  private connects = 0;
  private readonly run = crypto.randomBytes(4).toString("hex");
  private client?: mqtt.MqttClient;
  private timer?: NodeJS.Timeout;
  private seq = 0;
  reconnects = 0;
  lastError = "";

  constructor(private readonly o: DeviceStreamOptions) {}

  get topic(): string {
    return `devices/${this.o.device}/telemetry`;
  }

  start(): void {
    const o = this.o;
    const client = mqtt.connect({
      ...deviceTls({ ...o, host: o.host() }),
      protocolVersion: 4,
      clientId: `${o.device}-telemetry-${this.run}`,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      keepalive: 10,
    });
    client.on("reconnect", () => {
      this.reconnects++;
      try {
        client.options.host = o.host();
      } catch {
        // No broker task right now: try the last address again.
      }
    });
    client.on("connect", () => this.connects++);
    client.on("error", (e) => (this.lastError = e.message.split("\n")[0]));
    this.client = client;
    this.timer = setInterval(() => this.publishOne(), o.intervalMs ?? 200);
  }

  private publishOne(): void {
    if (!this.client) return;
    if (this.o.limit !== undefined && this.seq >= this.o.limit) {
      clearInterval(this.timer);
      return;
    }
    const id = `${this.run}-${String(this.seq++).padStart(6, "0")}`;
    const at = Date.now();
    // A PV inverter's reading: instantaneous power and the day's energy so far.
    const reading = { id, ts: at, power_w: Math.round(2000 + 1500 * Math.sin(this.seq / 50)), energy_wh: this.seq };
    this.sent.push({ id, at });
    const conn: { sent: number; acked?: number } = { sent: this.client.connected ? this.connects : -this.connects };
    this.onConnection.set(id, conn);
    this.client.publish(this.topic, JSON.stringify(reading), { qos: 1 }, (err) => {
      if (err) return;
      this.acked.set(id, Date.now());
      conn.acked = this.connects;
    });
  }

  /** Every reading the limit allows was handed to the client. */
  get finished(): boolean {
    return this.o.limit !== undefined && this.seq >= this.o.limit;
  }

  get unacknowledged(): number {
    return this.sent.length - this.acked.size;
  }

  /** A reading's story for the report: when it was sent and acknowledged, relative to `t0`. */
  describe(id: string, t0: number): string {
    const sent = this.sent.find((r) => r.id === id);
    const acked = this.acked.get(id);
    const rel = (t: number) => `+${((t - t0) / 1000).toFixed(1)} s`;
    const conn = this.onConnection.get(id);
    // Connection n: after the n-th CONNACK; -n: while disconnected after it.
    const on = conn ? ` (connection ${conn.sent} -> ${conn.acked ?? "none"}, ${this.connects} in all)` : "";
    return `${id} sent ${sent ? rel(sent.at) : "?"}, ${acked ? `acknowledged ${rel(acked)}` : "never acknowledged"}${on}`;
  }

  /** Stops publishing; waits up to `waitMs` for the broker to acknowledge what is outstanding, then disconnects. */
  async stop(waitMs = 60_000): Promise<void> {
    clearInterval(this.timer);
    const deadline = Date.now() + waitMs;
    while (this.unacknowledged > 0 && Date.now() < deadline) await sleep(200);
    await this.client?.endAsync(true).catch(() => undefined);
  }
}

/** The InfluxDB stand-in's points of `bucket`, read inside its task with the token from its own secret file. */
export async function readPoints(ctx: StackContext, bucket: string): Promise<StoredPoint[]> {
  const influx = ctx.topology.services.find((s) => s.app === "influxdb");
  if (!influx) throw new Error("the stack runs no InfluxDB");
  const token = serviceFiles(ctx.topology, influx).files.find((f) => f.name === "admin-token")?.target;
  const port = influx.ports.find((p) => p.appProtocol === "http")?.port ?? 8086;
  if (!token) throw new Error("InfluxDB has no admin-token file");
  const r = await ctx.sh(
    influx.name,
    `curl -sf -H "Authorization: Token $(cat ${token})" "http://127.0.0.1:${port}/api/v2/e2e/points?bucket=${bucket}"`,
    { timeoutMs: 60_000 },
  );
  if (r.exitCode !== 0) throw new Error(`reading InfluxDB's points failed (${r.exitCode}): ${r.stderr.slice(0, 300)}`);
  return (JSON.parse(r.stdout) as { points: StoredPoint[] }).points;
}

/** The device's stream to the broker's published port, as the run's field device identity. */
export function deviceStream(
  ctx: StackContext,
  host: () => string,
  extra: Pick<DeviceStreamOptions, "limit" | "intervalMs"> = {},
): DeviceStream {
  const device = deviceIdentity(ctx);
  if (!device) throw new Error("the stack issues no client certificate for a field device");
  const leaf = ctx.leaf(mqttClientCertName(device));
  return new DeviceStream({
    host,
    port: ctx.published("mosquitto", "mqtts"),
    servername: ctx.topology.tls.mqttHostname,
    ca: ctx.caPem,
    cert: leaf.certPem,
    key: leaf.keyPem,
    device,
    ...extra,
  });
}

/** What InfluxDB held of some sent readings at the last read, and how long the wait for all of them took. */
export interface StoredWait {
  readonly last: { stored: number; duplicates: number; missing: string[] };
  /** Seconds until InfluxDB held every reading (null: not within the wait). */
  readonly seconds: number | null;
}

/**
 * Reads the stored points (`read`: InfluxDB's) every 2 s until they hold every reading of `sent` (or `waitMs`
 * passed); a failed read keeps the last tally. `sent` is read again at every round, so a stream's own array
 * counts what it sent meanwhile.
 */
export async function waitUntilStored(
  read: () => Promise<readonly StoredPoint[]>,
  sent: readonly SentReading[],
  waitMs: number,
): Promise<StoredWait> {
  const t0 = Date.now();
  let last = { stored: 0, duplicates: 0, missing: sent.map((r) => r.id) };
  for (;;) {
    const points = await read().catch(() => undefined);
    if (points) last = tally(sent, points);
    if (last.missing.length === 0) return { last, seconds: Math.round((Date.now() - t0) / 100) / 10 };
    if (Date.now() - t0 > waitMs) return { last, seconds: null };
    await sleep(2000);
  }
}

/**
 * Seconds until InfluxDB holds every reading the device sent before this call (null if not within `waitMs`).
 * Between two faults: Node-RED acknowledges a reading to the broker when it receives it and holds it in memory
 * until InfluxDB took it, so a fault that kills Node-RED's node while a backlog is in its hands (the readings a
 * broker restart queued) would lose that backlog with the node, a loss of two faults at once, not of the second.
 */
export async function backlogStored(
  ctx: StackContext,
  stream: DeviceStream,
  bucket: string,
  waitMs: number,
): Promise<number | null> {
  return (await waitUntilStored(() => readPoints(ctx, bucket), stream.sent.slice(), waitMs)).seconds;
}

/**
 * Waits (up to `waitMs`) until InfluxDB holds every reading the device sent, then counts. Reads again
 * every 2 s: readings queued on the broker or in Node-RED's retry loop arrive late, never twice.
 */
export async function settleTelemetry(
  ctx: StackContext,
  stream: DeviceStream,
  bucket: string,
  waitMs: number,
): Promise<{ counts: TelemetryCounts; missing: Set<string> }> {
  const { last, seconds } = await waitUntilStored(() => readPoints(ctx, bucket), stream.sent, waitMs);
  return {
    counts: {
      sent: stream.sent.length,
      stored: last.stored,
      duplicates: last.duplicates,
      unacknowledged: stream.unacknowledged,
      drainSeconds: seconds,
      missing: last.missing.slice(0, 20).map((id) => stream.describe(id, stream.sent[0]?.at ?? 0)),
    },
    missing: new Set(last.missing),
  };
}
