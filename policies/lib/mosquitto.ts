/**
 * Mosquitto 2.x configuration, read for its listeners: `listener <port> [bind address]` opens one, the options
 * after it (certfile, keyfile, psk_hint, require_certificate, protocol, bind_address, bind_interface) belong to
 * it, and options before the first `listener` belong to the default listener, which exists when `port` is set.
 * TLS options are per listener whatever `per_listener_settings` says (that setting only scopes authentication).
 * With no listener at all, Mosquitto 2 listens on the loopback interface only. Pure.
 */

export interface MosquittoListener {
  readonly port: number;
  /** 1-based line of its `listener` (or `port`) line. */
  readonly line: number;
  /** Bind address or host, when given. */
  readonly address?: string;
  readonly protocol: "mqtt" | "websockets";
  /** `certificate`: certfile and keyfile; `psk`: psk_hint; `none`: plaintext. */
  readonly tls: "certificate" | "psk" | "none";
  /** `require_certificate true`: clients must present a certificate the CA signed. */
  readonly requireCertificate: boolean;
  /** Bound to 127.0.0.0/8, ::1, localhost or the `lo` interface: unreachable from any network. */
  readonly loopback: boolean;
  /** A Unix socket (`listener 0 /path`), not a network listener. */
  readonly unixSocket: boolean;
}

/** Directives only Mosquitto uses; with `port`, they tell its config from Redis's (which also has `port`). */
const MOSQUITTO_ONLY =
  /^(listener|allow_anonymous|per_listener_settings|persistence_location|password_file|acl_file|require_certificate|use_identity_as_username|connection_messages|log_dest|max_inflight_messages|autosave_interval|psk_hint|psk_file|bind_interface)\s/m;

export function isMosquittoConfig(text: string): boolean {
  return /^\s*listener\s+\d+/m.test(text) || (/^\s*port\s+\d+\s*$/m.test(text) && MOSQUITTO_ONLY.test(text));
}

interface Block {
  port?: number;
  line: number;
  address?: string;
  options: Map<string, string>;
  explicit: boolean;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|\[::1\]|localhost)$/i;

function toListener(b: Block): MosquittoListener | undefined {
  if (b.port === undefined) return undefined;
  const address = b.address ?? b.options.get("bind_address");
  const certificate = b.options.has("certfile") && b.options.has("keyfile");
  return {
    port: b.port,
    line: b.line,
    address,
    protocol: b.options.get("protocol")?.toLowerCase() === "websockets" ? "websockets" : "mqtt",
    tls: certificate ? "certificate" : b.options.has("psk_hint") ? "psk" : "none",
    requireCertificate: b.options.get("require_certificate")?.toLowerCase() === "true",
    loopback: (address !== undefined && LOOPBACK.test(address)) || b.options.get("bind_interface") === "lo",
    unixSocket: b.port === 0 && address !== undefined && address.startsWith("/"),
  };
}

/** The listeners the config opens, in file order (the default listener first). */
export function mosquittoListeners(text: string): MosquittoListener[] {
  const blocks: Block[] = [{ line: 0, options: new Map(), explicit: false }];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    // Mosquitto only knows whole-line comments.
    if (line === "" || line.startsWith("#")) return;
    const [directive, ...rest] = line.split(/\s+/);
    const current = blocks[blocks.length - 1];
    if (directive === "listener" && /^\d+$/.test(rest[0] ?? "")) {
      blocks.push({ port: Number(rest[0]), line: i + 1, address: rest[1], options: new Map(), explicit: true });
    } else if (directive === "port" && !current.explicit && /^\d+$/.test(rest[0] ?? "")) {
      current.port = Number(rest[0]);
      current.line = i + 1;
    } else {
      current.options.set(directive, rest.join(" "));
    }
  });
  return blocks.map(toListener).filter((l): l is MosquittoListener => l !== undefined);
}

/** `listener 8883 on all interfaces` / `listener 1884 on 10.0.0.5` / `the default listener 1883`, for messages. */
export function describeListener(l: MosquittoListener): string {
  const kind = l.protocol === "websockets" ? "websockets listener" : "listener";
  const where = l.address === undefined ? "on all interfaces" : `on ${l.address}`;
  return `${kind} ${l.port} ${where} (line ${l.line})`;
}
