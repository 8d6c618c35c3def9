/**
 * Users of the gateway on this host while faults happen: `users` loops, each requesting one route
 * over HTTPS (SNI and Host of the route, the program's CA), one request after another, each on a
 * new connection. Several, so that one request waiting long (a proxy waiting on a dead server)
 * does not leave the service unwatched meanwhile. The gateway publishes in host mode on the workers, so the name resolves to every
 * worker's address; like a browser or curl with a name of several addresses, the client tries
 * them in turn (starting one further each request, as DNS round-robin rotates them) and moves on
 * only when the TCP connect fails (refused, unreachable, no answer within `connectTimeoutMs`).
 * Anything after a connection was made counts as a failed request: a TLS or HTTP error, a reset,
 * no answer within `requestTimeoutMs`, a status other than 200.
 *
 * Faults are started while no request is in flight (`between`): a request in flight on a
 * connection to a node at the instant it is cut off would be lost with that node whatever the
 * stack does, since the client does not retry; what the run measures is whether the requests sent
 * while the fault lasts get served.
 */
import * as https from "node:https";
import * as net from "node:net";
import * as tls from "node:tls";
import { sleep } from "../lib/util";

export interface ClientOptions {
  readonly addresses: readonly string[];
  readonly port: number;
  /** Host name of the route (SNI and Host header). */
  readonly host: string;
  readonly path: string;
  readonly ca: string;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly pauseMs?: number;
  /** Concurrent request loops. */
  readonly users?: number;
}

export interface RequestRecord {
  /** Milliseconds since the epoch when the request started. */
  readonly at: number;
  readonly ms: number;
  readonly ok: boolean;
  /** The address that took the connection (undefined: none did). */
  readonly address?: string;
  /** Addresses tried before it, with why they were skipped. */
  readonly skipped: string[];
  readonly status?: number;
  readonly servedBy?: string;
  readonly error?: string;
}

type Attempt = { connected: false; error: string } | { connected: true; socket: net.Socket };

function connect(address: string, port: number, timeoutMs: number): Promise<Attempt> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ connected: false, error: `no connect within ${timeoutMs} ms` });
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve({ connected: true, socket });
    });
    socket.once("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ connected: false, error: e.code ?? e.message });
    });
  });
}

export class GatewayClient {
  readonly records: RequestRecord[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private next = 0;
  private inFlight = 0;
  /** Set while an action waits for, or runs in, a moment without requests in flight. */
  private paused?: Promise<void>;
  private idle?: () => void;

  constructor(private readonly o: ClientOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = Array.from({ length: this.o.users ?? 3 }, async () => {
      while (this.running) {
        while (this.paused) await this.paused;
        this.inFlight++;
        const r = await this.request();
        this.records.push(r);
        if (--this.inFlight === 0) this.idle?.();
        await sleep(this.o.pauseMs ?? 25);
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Runs `fn` when no request is in flight, holding new requests back until it is done. */
  async between<T>(fn: () => Promise<T>): Promise<T> {
    while (this.paused) await this.paused;
    let resume!: () => void;
    this.paused = new Promise<void>((r) => (resume = r));
    try {
      if (this.inFlight > 0) await new Promise<void>((r) => (this.idle = r));
      return await fn();
    } finally {
      this.idle = undefined;
      this.paused = undefined;
      resume();
    }
  }

  /** One request: the addresses in turn until one takes the connection, then the request on it. */
  async request(): Promise<RequestRecord> {
    const at = Date.now();
    const n = this.o.addresses.length;
    const start = this.next++ % n;
    const skipped: string[] = [];
    for (let k = 0; k < n; k++) {
      const address = this.o.addresses[(start + k) % n];
      const a = await connect(address, this.o.port, this.o.connectTimeoutMs ?? 2000);
      if (!a.connected) {
        skipped.push(`${address}: ${a.error}`);
        continue;
      }
      const r = await this.send(a.socket);
      return { at, ms: Date.now() - at, address, skipped, ...r };
    }
    return { at, ms: Date.now() - at, ok: false, skipped, error: "no address took the connection" };
  }

  private send(socket: net.Socket): Promise<Omit<RequestRecord, "at" | "ms" | "address" | "skipped">> {
    const timeoutMs = this.o.requestTimeoutMs ?? 45_000;
    return new Promise((resolve) => {
      let settled = false;
      const done = (r: Omit<RequestRecord, "at" | "ms" | "address" | "skipped">) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        resolve(r);
      };
      const timer = setTimeout(() => done({ ok: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
      const req = https.request(
        {
          host: this.o.host,
          path: this.o.path,
          method: "GET",
          headers: { Host: this.o.host, Connection: "close" },
          // No agent: with createConnection alone, the request goes over the socket this client connected.
          createConnection: () => tls.connect({ socket, servername: this.o.host, ca: this.o.ca }),
        },
        (res) => {
          res.resume();
          res.on("end", () =>
            done({
              ok: res.statusCode === 200,
              status: res.statusCode,
              servedBy: res.headers["x-served-by"] as string | undefined,
              error: res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`,
            }),
          );
          res.on("error", (e) => done({ ok: false, status: res.statusCode, error: e.message }));
        },
      );
      req.on("error", (e) => done({ ok: false, error: e.message }));
      req.end();
    });
  }

  /** The requests started within [from, to] (ms since the epoch). */
  window(from: number, to: number): RequestRecord[] {
    return this.records.filter((r) => r.at >= from && r.at <= to);
  }
}

/** Latency percentiles of a set of requests. */
export function latency(records: readonly RequestRecord[]): { p50: number; p99: number; max: number } {
  const ms = records.map((r) => r.ms).sort((a, b) => a - b);
  const at = (q: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] : 0);
  return { p50: at(0.5), p99: at(0.99), max: ms.length ? ms[ms.length - 1] : 0 };
}
