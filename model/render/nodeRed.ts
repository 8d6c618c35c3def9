/**
 * Node-RED's provisioned telemetry flow: device readings from the broker (QoS 1, persistent session) into
 * InfluxDB, each reading once. Rendered from the model: the broker and InfluxDB addresses are the declared
 * flows' service names and ports, the TLS files are where the program mounts them.
 *
 * Exactly once, end to end:
 *   - the device publishes QoS 1 and keeps a reading until the broker acknowledged it (at least once);
 *   - Node-RED subscribes QoS 1 with a persistent session under a stable client id, so the broker queues
 *     readings while Node-RED is away and after its own restart (see MQTT_SESSIONS in ./mosquitto);
 *   - a failed write to InfluxDB is retried every `retrySeconds` until InfluxDB accepts it, so InfluxDB's
 *     absence delays readings and never drops them;
 *   - each point is keyed by device and reading id at the reading's own timestamp: a reading delivered or
 *     written twice overwrites its point (InfluxDB upserts series + timestamp) instead of adding one.
 */

/** Where Node-RED's provisioned files live in its container. */
export const NODE_RED_PATHS = {
  /** Read from the user directory (the /data volume) at start, as the nodered/node-red image does. */
  settings: "/data/settings.js",
  flows: "/etc/node-red/flows.json",
  /** Node-RED reads the flow's credentials from the user directory, named after the flow file: `<flows>_cred.json`. */
  credentials: "/data/flows_cred.json",
} as const;

/** The flow's fixed choices. */
export const TELEMETRY_FLOW = {
  /** The broker keys the persistent session by it: it must not change between restarts. */
  clientId: "node-red-telemetry",
  /** Every device's readings: devices/<device>/telemetry. */
  topic: "devices/+/telemetry",
  qos: 1,
  /** InfluxDB measurement the readings land in. */
  measurement: "telemetry",
  /** Seconds between attempts to write a reading InfluxDB did not accept. */
  retrySeconds: 2,
  /** A write that hangs (InfluxDB's node unplugged) fails after this and is retried. */
  requestTimeoutMs: 10_000,
  /** Milliseconds between attempts to reach the broker again (Node-RED's default 5000): queued readings flow sooner. */
  reconnectMs: 2000,
} as const;

/** Node ids, stable so a re-render changes nothing and flows_cred.json can key the credentials by the request node. */
const ID = {
  tab: "iot-telemetry",
  tls: "iot-telemetry-tls",
  broker: "iot-telemetry-broker",
  subscribe: "iot-telemetry-subscribe",
  lineProtocol: "iot-telemetry-line-protocol",
  prepare: "iot-telemetry-prepare-write",
  write: "iot-telemetry-write",
  written: "iot-telemetry-written",
  retry: "iot-telemetry-retry",
} as const;

export interface TelemetryFlowInput {
  readonly broker: { readonly host: string; readonly port: number };
  readonly tls: { readonly ca: string; readonly cert?: string; readonly key?: string };
  /** InfluxDB's v1 write endpoint: the bucket is the database (DBRP mapping, retention policy `autogen`). */
  readonly influxdb: { readonly host: string; readonly port: number; readonly bucket: string };
}

/**
 * Body of the function node that turns a reading into one line of InfluxDB line protocol. A reading is the
 * JSON `{"id": "<reading id>", "ts": <Unix ms>, "<field>": <number>, ...}` on `devices/<device>/telemetry`.
 */
export const LINE_PROTOCOL_FUNCTION = `const r = msg.payload;
const device = String(msg.topic || "").split("/")[1];
if (!device || r === null || typeof r !== "object" || typeof r.id !== "string" || !r.id || !Number.isFinite(r.ts)) {
  node.warn("not a reading: " + JSON.stringify(r).slice(0, 200));
  return null;
}
const tag = (v) => String(v).replace(/[,= \\\\]/g, (c) => "\\\\" + c);
const fields = Object.keys(r)
  .filter((k) => k !== "id" && k !== "ts" && typeof r[k] === "number" && Number.isFinite(r[k]))
  .sort()
  .map((k) => tag(k) + "=" + r[k]);
if (fields.length === 0) {
  node.warn("reading " + r.id + " has no numeric field");
  return null;
}
msg.line = "${TELEMETRY_FLOW.measurement},device=" + tag(device) + ",reading=" + tag(r.id) + " " + fields.join(",") + " " + Math.round(r.ts);
return msg;`;

/** Body of the function node that (re)builds the write request: the request node replaces payload and headers with its answer. */
const PREPARE_FUNCTION = `msg.payload = msg.line;
msg.headers = { "Content-Type": "text/plain; charset=utf-8" };
delete msg.statusCode;
return msg;`;

/** The v1 write endpoint, where Node-RED's own InfluxDB user (Basic auth) may write its bucket. */
export function writeUrl(i: TelemetryFlowInput["influxdb"]): string {
  const q = `db=${encodeURIComponent(i.bucket)}&rp=autogen&precision=ms`;
  return `http://${i.host}:${i.port}/write?${q}`;
}

/** flows.json: the broker and TLS configuration nodes and the flow; no credential in it. */
export function renderNodeRedFlows(input: TelemetryFlowInput): string {
  const { broker, tls, influxdb } = input;
  const flows = [
    { id: ID.tab, type: "tab", label: "Telemetry to InfluxDB", disabled: false, info: "Generated by iot-swarm-net." },
    {
      id: ID.tls,
      type: "tls-config",
      name: "broker mTLS",
      cert: tls.cert ?? "",
      key: tls.key ?? "",
      ca: tls.ca,
      certname: "",
      keyname: "",
      caname: "",
      servername: broker.host,
      verifyservercert: true,
      alpnprotocol: "",
    },
    {
      id: ID.broker,
      type: "mqtt-broker",
      name: "broker",
      broker: broker.host,
      port: String(broker.port),
      tls: ID.tls,
      clientid: TELEMETRY_FLOW.clientId,
      autoConnect: true,
      usetls: true,
      // MQTT 3.1.1 with clean session false: the broker keeps the subscription and queues QoS 1 readings.
      protocolVersion: "4",
      keepalive: "30",
      cleansession: false,
      // Leaving the session subscribed on a stop keeps readings queued for the next start.
      autoUnsubscribe: false,
      birthTopic: "",
      closeTopic: "",
      willTopic: "",
    },
    {
      id: ID.subscribe,
      type: "mqtt in",
      z: ID.tab,
      name: "device readings",
      topic: TELEMETRY_FLOW.topic,
      qos: String(TELEMETRY_FLOW.qos),
      datatype: "json",
      broker: ID.broker,
      nl: false,
      rap: true,
      rh: 0,
      inputs: 0,
      x: 140,
      y: 80,
      wires: [[ID.lineProtocol]],
    },
    functionNode(ID.lineProtocol, "reading to line protocol", LINE_PROTOCOL_FUNCTION, 360, 80, ID.prepare),
    functionNode(ID.prepare, "write request", PREPARE_FUNCTION, 580, 80, ID.write),
    {
      id: ID.write,
      type: "http request",
      z: ID.tab,
      name: "InfluxDB write",
      method: "POST",
      ret: "txt",
      paytoqs: "ignore",
      url: writeUrl(influxdb),
      tls: "",
      persist: false,
      proxy: "",
      insecureHTTPParser: false,
      // Node-RED's own InfluxDB v1 user: Basic auth with the user and password from flows_cred.json.
      authType: "basic",
      senderr: false,
      headers: [],
      x: 790,
      y: 80,
      wires: [[ID.written]],
    },
    {
      id: ID.written,
      type: "switch",
      z: ID.tab,
      name: "written?",
      property: "statusCode",
      propertyType: "msg",
      // 2xx: written; anything else (an error code, 401, 5xx, no answer) goes round again.
      rules: [{ t: "btwn", v: "200", vt: "num", v2: "299", v2t: "num" }, { t: "else" }],
      checkall: "false",
      repair: false,
      outputs: 2,
      x: 980,
      y: 80,
      wires: [[], [ID.retry]],
    },
    {
      id: ID.retry,
      type: "delay",
      z: ID.tab,
      name: `retry after ${TELEMETRY_FLOW.retrySeconds} s`,
      pauseType: "delay",
      timeout: String(TELEMETRY_FLOW.retrySeconds),
      timeoutUnits: "seconds",
      rate: "1",
      nbRateUnits: "1",
      rateUnits: "second",
      randomFirst: "1",
      randomLast: "5",
      randomUnits: "seconds",
      drop: false,
      allowrate: false,
      outputs: 1,
      x: 790,
      y: 160,
      wires: [[ID.prepare]],
    },
  ];
  return JSON.stringify(flows, null, 2) + "\n";
}

function functionNode(id: string, name: string, func: string, x: number, y: number, next: string) {
  return {
    id,
    type: "function",
    z: ID.tab,
    name,
    func,
    outputs: 1,
    timeout: 0,
    noerr: 0,
    initialize: "",
    finalize: "",
    libs: [],
    x,
    y,
    wires: [[next]],
  };
}

/**
 * flows_cred.json: the write node's InfluxDB user and password, the password as a template the components fill. Plain JSON: with
 * `credentialSecret: false` Node-RED reads and keeps it unencrypted; the file travels as a Docker secret
 * (encrypted in the swarm's Raft log, mounted on tmpfs, readable by Node-RED's user only), so a key to
 * encrypt it would be one more secret beside it and protect nothing more.
 */
export function renderNodeRedCredentials(user: string, passwordTemplate: string): string {
  return JSON.stringify({ [ID.write]: { user, password: passwordTemplate } }, null, 2) + "\n";
}

/** settings.js: the flow file, credentials unencrypted (see renderNodeRedCredentials), no palette installs. */
export function renderNodeRedSettings(uiPort: number): string {
  const settings = {
    uiPort,
    flowFile: NODE_RED_PATHS.flows,
    flowFilePretty: true,
    credentialSecret: false,
    httpRequestTimeout: TELEMETRY_FLOW.requestTimeoutMs,
    mqttReconnectTime: TELEMETRY_FLOW.reconnectMs,
    diagnostics: { enabled: false, ui: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false, allowUpload: false } },
    editorTheme: { projects: { enabled: false }, tours: false },
    logging: { console: { level: "info", metrics: false, audit: false } },
  };
  return [
    "// Generated by iot-swarm-net from the topology model; edit the model, not this file.",
    "// The flows are provisioned (read-only): a deploy from the editor cannot overwrite them.",
    `module.exports = ${JSON.stringify(settings, null, 2)};`,
    "",
  ].join("\n");
}

/** Node ids a test or the e2e run looks up. */
export const TELEMETRY_NODE_IDS = ID;
