import { serviceFiles } from "../model/files";
import { FileSpec } from "../model/fileSpec";
import { NODE_RED_PATHS, TELEMETRY_FLOW, TELEMETRY_NODE_IDS } from "../model/render/nodeRed";
import { Topology } from "../model/types";
import { readStackConfig } from "../tools/stackFile";
import { topologyFrom } from "./helpers";

type FlowNode = Record<string, unknown> & { id: string; type: string; wires?: string[][] };

/** The prod stack's topology, built before each test (not at load, where a broken renderer would stop the file). */
let prod: Topology;
const spec = (t: Topology) => t.services.find((s) => s.name === "node-red")!;
const files = (t: Topology) => serviceFiles(t, spec(t)).files;
const file = (t: Topology, name: string): FileSpec => {
  const f = files(t).find((x) => x.name === name);
  if (!f) throw new Error(`node-red has no ${name}`);
  return f;
};
const flows = (t: Topology): FlowNode[] => JSON.parse(file(t, "flows.json").template) as FlowNode[];
const ofType = (t: Topology, type: string) => flows(t).filter((n) => n.type === type);

/** The topology with InfluxDB's API on another port, and the flows to it following. */
function influxOn(t: Topology, port: number): Topology {
  const old = t.services.find((s) => s.name === "influxdb")!.ports[0].port;
  return {
    ...t,
    services: t.services.map((s) =>
      s.name === "influxdb" ? { ...s, ports: s.ports.map((p) => (p.port === old ? { ...p, port } : p)) } : s,
    ),
    flows: t.flows.map((f) => (f.to === "influxdb" && f.port === old ? { ...f, port } : f)),
  };
}

/** Runs the function node's body as Node-RED would, with `msg` and a `node` that collects warnings. */
function runFunction(body: string, msg: Record<string, unknown>): { out: unknown; warnings: string[] } {
  const warnings: string[] = [];
  const node = { warn: (w: string) => warnings.push(w) };
  const out = new Function("msg", "node", body)(msg, node) as unknown;
  return { out, warnings };
}

describe("Node-RED's provisioned telemetry flow", () => {
  beforeEach(() => {
    prod = topologyFrom(readStackConfig("prod").config as Record<string, unknown>, { namespaced: true });
  });

  it("subscribes with QoS 1 to every device's telemetry through the broker from the model", () => {
    const [subscribe] = ofType(prod, "mqtt in");
    expect(subscribe).toMatchObject({ topic: "devices/+/telemetry", qos: "1", datatype: "json" });
    const [broker] = ofType(prod, "mqtt-broker");
    expect(subscribe.broker).toBe(broker.id);
    const flow = prod.flows.find((f) => f.from === "node-red" && f.to === "mosquitto")!;
    expect(broker).toMatchObject({ broker: "mosquitto", port: String(flow.port), usetls: true });
  });

  it("keeps a persistent session under a stable client id (MQTT 3.1.1, clean session false, no unsubscribe on stop)", () => {
    const [broker] = ofType(prod, "mqtt-broker");
    expect(broker).toMatchObject({
      clientid: "node-red-telemetry",
      protocolVersion: "4",
      cleansession: false,
      autoUnsubscribe: false,
    });
  });

  it("presents the client certificate and key and trusts the CA where the program mounts them", () => {
    const [tls] = ofType(prod, "tls-config");
    const mounted = Object.fromEntries(files(prod).map((f) => [f.name, f.target]));
    expect(tls).toMatchObject({
      ca: mounted["ca.crt"],
      cert: mounted["mqtt-client.crt"],
      key: mounted["mqtt-client.key"],
      verifyservercert: true,
      servername: "mosquitto",
    });
    expect(ofType(prod, "mqtt-broker")[0].tls).toBe(tls.id);
  });

  it("writes to InfluxDB's v1 endpoint at its address and its identity's bucket; another port changes the flow", () => {
    const url = (t: Topology) => String(ofType(t, "http request")[0].url);
    const port = prod.flows.find((f) => f.from === "node-red" && f.to === "influxdb")!.port;
    expect(url(prod)).toBe(`http://influxdb:${port}/write?db=telemetry&rp=autogen&precision=ms`);
    const moved = influxOn(prod, 9086);
    expect(url(moved)).toBe("http://influxdb:9086/write?db=telemetry&rp=autogen&precision=ms");
    expect(file(moved, "flows.json").template).not.toBe(file(prod, "flows.json").template);
  });

  it("keeps its InfluxDB password out of flows.json: only the credentials secret carries it, for Basic auth", () => {
    const password = "{{password.influxdb-node-red}}";
    expect(file(prod, "flows.json").template).not.toContain("password.");
    expect(file(prod, "flows.json").kind).toBe("config");
    const cred = file(prod, "flows_cred.json");
    expect(cred).toMatchObject({ kind: "secret", target: NODE_RED_PATHS.credentials, mode: 0o400 });
    const write = ofType(prod, "http request")[0];
    expect(write.authType).toBe("basic");
    expect(JSON.parse(cred.template)).toEqual({ [write.id]: { user: "node-red", password } });
    expect(cred.template).not.toContain("influxdb-token");
    // The settings leave the credentials unencrypted (the secret protects them) and point at the flow file.
    const settings = file(prod, "settings.js").template;
    expect(settings).toContain('"credentialSecret": false');
    expect(settings).toContain('"mqttReconnectTime": 2000');
    expect(settings).toContain(`"flowFile": "${NODE_RED_PATHS.flows}"`);
    expect(serviceFiles(prod, spec(prod)).env.FLOWS).toBe(NODE_RED_PATHS.flows);
  });

  it("turns a reading into one line of line protocol keyed by device and reading id at the reading's time", () => {
    const fn = String(flows(prod).find((n) => n.id === TELEMETRY_NODE_IDS.lineProtocol)!.func);
    const msg = {
      topic: "devices/pv-roof 1/telemetry",
      payload: { id: "r-000042", ts: 1765000000123, power_w: 812.5, energy_wh: 12, note: "text is no field" },
    };
    const { out, warnings } = runFunction(fn, msg);
    expect(warnings).toEqual([]);
    expect((out as { line: string }).line).toBe(
      "telemetry,device=pv-roof\\ 1,reading=r-000042 energy_wh=12,power_w=812.5 1765000000123",
    );
    for (const payload of [{ ts: 1, power_w: 1 }, { id: "x", power_w: 1 }, { id: "x", ts: 1 }, "not json"])
      expect(runFunction(fn, { topic: "devices/d/telemetry", payload }).out).toBeNull();
  });

  it("retries a write InfluxDB did not accept after a delay, and ends a written one", () => {
    const nodes = flows(prod);
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const write = nodes.find((n) => n.type === "http request")!;
    const check = byId.get(write.wires![0][0])!;
    expect(check.type).toBe("switch");
    expect(check.rules).toEqual([{ t: "btwn", v: "200", vt: "num", v2: "299", v2t: "num" }, { t: "else" }]);
    expect(check.wires![0]).toEqual([]);
    const retry = byId.get(check.wires![1][0])!;
    expect(retry).toMatchObject({ type: "delay", pauseType: "delay", timeout: String(TELEMETRY_FLOW.retrySeconds) });
    // Back through the node that rebuilds the request, then the write again.
    const prepare = byId.get(retry.wires![0][0])!;
    expect(prepare.wires![0]).toEqual([write.id]);
  });

  it("is provisioned only when the model has both flows of the telemetry path", () => {
    expect(files(prod).map((f) => f.name)).toEqual(
      expect.arrayContaining(["settings.js", "flows.json", "flows_cred.json"]),
    );
    for (const to of ["influxdb", "mosquitto"]) {
      const without = { ...prod, flows: prod.flows.filter((f) => !(f.from === "node-red" && f.to === to)) };
      const names = files(without).map((f) => f.name);
      expect([to, names.filter((n) => ["settings.js", "flows.json", "flows_cred.json"].includes(n))]).toEqual([to, []]);
    }
  });
});
