/**
 * Traffic that keeps running while a day-2 change applies:
 *
 * - a client requesting the replicated service through the gateway, one request after another on a new
 *   connection each, interleaved with a request the gateway answers itself (a host without a route: 404).
 *   A failed request to the service is the gateway's own restart when the gateway-only request next to it
 *   failed too, and the backend's otherwise;
 * - a field device publishing numbered QoS 1 messages over mTLS through the broker's published port, and a
 *   subscriber inside Node-RED's task, with Node-RED's own client certificate and a persistent session
 *   (clean session off, fixed client id), restarted in the new task whenever the task is replaced.
 *   Messages the device published and the subscriber never printed are lost; printed twice, duplicated.
 */
import * as mqtt from "mqtt";
import { PassThrough } from "node:stream";
import { placeholders, serviceFiles } from "../../model/files";
import { mqttClientCertName } from "../../model/pki";
import { RouteSpec } from "../../model/types";
import { StackContext, Task } from "../lib/context";
import { sleep } from "../lib/util";
import { gatewayGet } from "../probes/gateway";

export interface RequestOutcome {
  readonly at: number;
  readonly ok: boolean;
  readonly gatewayOnly: boolean;
  readonly detail?: string;
}

export interface RequestTally {
  readonly requests: number;
  readonly failedRequests: number;
  /** Failures while the gateway itself did not answer (its own restart). */
  readonly failedWhileGatewayDown: number;
  /** Failures the gateway answered or could not route: the replicated service's own. */
  readonly failedAtBackend: number;
  /** From the first to the last failed gateway-only request: how long the gateway itself did not answer. */
  readonly gatewayDownSeconds: number;
  readonly failures: readonly string[];
}

/** Requests through the gateway until stopped; see the file comment for how failures are attributed. */
export class GatewayClient {
  private readonly outcomes: RequestOutcome[] = [];
  private running = false;
  private loop?: Promise<void>;

  constructor(
    private readonly ctx: StackContext,
    private readonly route: RouteSpec,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      const host = `${this.route.subdomain}.${this.ctx.topology.domain}`;
      const path = this.ctx.spec(this.route.service).health.httpPath ?? "/";
      const local = `no-route.${this.ctx.topology.domain}`;
      while (this.running) {
        const service = await gatewayGet(this.ctx, host, path, undefined, 10_000);
        this.outcomes.push({
          at: Date.now(),
          ok: service.status === 200,
          gatewayOnly: false,
          detail: service.error ?? `HTTP ${service.status}`,
        });
        const own = await gatewayGet(this.ctx, local, "/", undefined, 5000, host);
        this.outcomes.push({
          at: Date.now(),
          ok: own.status === 404,
          gatewayOnly: true,
          detail: own.error ?? `HTTP ${own.status}`,
        });
        await sleep(40);
      }
    })();
  }

  async stop(): Promise<RequestTally> {
    this.running = false;
    await this.loop;
    const service = this.outcomes.filter((o) => !o.gatewayOnly);
    const own = this.outcomes.filter((o) => o.gatewayOnly);
    // The gateway-only requests sent right before and right after a failed request tell whether the gateway answered.
    const gatewayDown = (o: RequestOutcome) => {
      const prev = [...own].reverse().find((x) => x.at <= o.at);
      const next = own.find((x) => x.at >= o.at);
      return [prev, next].some((x) => x !== undefined && !x.ok);
    };
    const failed = service.filter((o) => !o.ok);
    const down = failed.filter(gatewayDown);
    const ownFailed = own.filter((o) => !o.ok);
    const gatewayDownSeconds =
      ownFailed.length === 0 ? 0 : Math.round((ownFailed[ownFailed.length - 1].at - ownFailed[0].at) / 100) / 10;
    return {
      requests: service.length,
      failedRequests: failed.length,
      failedWhileGatewayDown: down.length,
      failedAtBackend: failed.length - down.length,
      gatewayDownSeconds,
      failures: failed
        .slice(0, 10)
        .map((o) => `${new Date(o.at).toISOString()} ${o.detail}${gatewayDown(o) ? " (gateway down)" : ""}`),
    };
  }
}

export interface MessageTally {
  readonly sent: number;
  readonly received: number;
  readonly lostMessages: number;
  readonly duplicateMessages: number;
  readonly subscriberRestarts: number;
}

/** A device publishing QoS 1 readings and a persistent subscriber in Node-RED's task. */
export class TelemetryFlow {
  private client?: mqtt.MqttClient;
  private seq = 0;
  private readonly seen = new Map<number, number>();
  private publishing = false;
  private publisher?: Promise<void>;
  private subscriber?: { task: Task; stop: () => void; ended: Promise<void> };
  private watching = false;
  private watcher?: Promise<void>;
  private restarts = 0;
  private readonly topic: string;

  constructor(
    private readonly ctx: StackContext,
    private readonly device: { readonly name: string; readonly cert: string; readonly key: string },
    private readonly runTag: string,
  ) {
    this.topic = `devices/${device.name}/telemetry`;
  }

  /** Starts the subscriber (first, so the persistent session exists) and the device. */
  async start(): Promise<void> {
    await this.startSubscriber();
    this.watching = true;
    this.watcher = this.watchSubscriber();
    this.client = mqtt.connect({
      protocol: "mqtts",
      host: "127.0.0.1",
      port: this.ctx.published("mosquitto", "mqtts"),
      servername: this.ctx.topology.tls.mqttHostname,
      ca: this.ctx.caPem,
      cert: this.device.cert,
      key: this.device.key,
      rejectUnauthorized: true,
      protocolVersion: 4,
      clientId: `${this.device.name}-${this.runTag}`,
      // The device's unacknowledged QoS 1 messages are resent after a reconnect.
      clean: false,
      reconnectPeriod: 500,
      connectTimeout: 5000,
    });
    await new Promise<void>((resolve, reject) => {
      this.client!.once("connect", () => resolve());
      setTimeout(() => reject(new Error("the device did not connect within 10 s")), 10_000);
    });
    // Counting starts once the subscriber's session exists: until it has subscribed, the broker has nobody
    // to keep a message for. Message 0 is published until the subscriber prints it.
    const deadline = Date.now() + 20_000;
    while (!this.seen.has(0)) {
      if (Date.now() > deadline) throw new Error("the subscriber in Node-RED's task received nothing within 20 s");
      this.client.publish(this.topic, JSON.stringify({ seq: 0, run: this.runTag }), { qos: 1 });
      await sleep(250);
    }
    this.seen.delete(0);
    this.publishing = true;
    this.publisher = (async () => {
      while (this.publishing) {
        const n = ++this.seq;
        // Not awaited: a publish waits for its PUBACK, which a broker restart delays.
        this.client!.publish(this.topic, JSON.stringify({ seq: n, run: this.runTag }), { qos: 1 });
        await sleep(100);
      }
    })();
  }

  /** Stops publishing, waits until every published message arrived (or `drainMs` passed), and counts. */
  async stop(drainMs = 30_000): Promise<MessageTally> {
    this.publishing = false;
    await this.publisher;
    const deadline = Date.now() + drainMs;
    while (Date.now() < deadline && [...Array(this.seq).keys()].some((i) => !this.seen.has(i + 1))) await sleep(250);
    const received = [...this.seen.values()].reduce((a, b) => a + b, 0);
    const lost = this.seq - this.seen.size;
    return {
      sent: this.seq,
      received,
      lostMessages: lost,
      duplicateMessages: received - this.seen.size,
      subscriberRestarts: this.restarts,
    };
  }

  async close(): Promise<void> {
    this.watching = false;
    this.subscriber?.stop();
    await this.watcher;
    await new Promise<void>((resolve) => (this.client ? this.client.end(true, {}, () => resolve()) : resolve()));
  }

  /** The file paths Node-RED's task holds its MQTT CA, client certificate and key at, from the model. */
  private clientFiles(): { ca: string; cert: string; key: string } {
    const spec = this.ctx.spec("node-red");
    const leaf = mqttClientCertName("node-red");
    const files = serviceFiles(this.ctx.topology, spec).files;
    const find = (kind: string, name?: string) => {
      const f = files.find((x) =>
        placeholders(x.template).some((p) => p.kind === kind && (name === undefined || p.name === name)),
      );
      if (!f) throw new Error(`node-red has no file with a ${kind} placeholder${name ? ` for ${name}` : ""}`);
      return f.target;
    };
    return { ca: find("ca"), cert: find("cert", leaf), key: find("key", leaf) };
  }

  private async startSubscriber(): Promise<void> {
    await this.ctx.refreshTasks();
    const task = this.ctx.tasks["node-red"]?.[0];
    if (!task) throw new Error("no running node-red task for the telemetry subscriber");
    const files = this.clientFiles();
    const argv = [
      "mosquitto_sub",
      ...["-h", "mqtt", "-p", "8883", "--cafile", files.ca, "--cert", files.cert, "--key", files.key],
      // A persistent session: the broker keeps QoS 1 messages for it while it is away.
      ...["-i", `node-red-day2-${this.runTag}`, "-c", "-q", "1", "-t", this.topic],
    ];
    const exec = await this.ctx.docker
      .getContainer(task.containerId)
      .exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    let buffer = "";
    out.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        try {
          const { seq, run } = JSON.parse(line) as { seq: number; run: string };
          if (run === this.runTag && (seq > 0 || !this.publishing)) this.seen.set(seq, (this.seen.get(seq) ?? 0) + 1);
        } catch {
          // mosquitto_sub's own messages.
        }
      }
    });
    this.ctx.docker.modem.demuxStream(stream, out, new PassThrough());
    const ended = new Promise<void>((resolve) => {
      stream.on("end", () => resolve());
      stream.on("close", () => resolve());
      stream.on("error", () => resolve());
    });
    this.subscriber = { task, stop: () => stream.destroy(), ended };
  }

  /** Starts the subscriber again in Node-RED's new task whenever the current one ends. */
  private async watchSubscriber(): Promise<void> {
    while (this.watching) {
      await this.subscriber?.ended;
      while (this.watching) {
        await sleep(500);
        try {
          await this.startSubscriber();
          this.restarts++;
          break;
        } catch {
          // No running Node-RED task yet: the change is still rolling it.
        }
      }
    }
  }
}
