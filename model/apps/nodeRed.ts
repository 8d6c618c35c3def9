/**
 * Node-RED: its settings, the provisioned telemetry flow (broker -> InfluxDB) and the flow's credentials.
 * Provisioned only when the model has both flows the telemetry path takes: Node-RED to the broker's MQTT
 * over TLS port, and Node-RED to InfluxDB. Its MQTT client files come from model/wiring/mqttClient.ts.
 */
import { configFile, NO_FILES, secretFile } from "../fileSpec";
import { NODE_RED_PATHS, renderNodeRedCredentials, renderNodeRedFlows, renderNodeRedSettings } from "../render/nodeRed";
import { planIdentities } from "../identity";
import { ServiceSpec, Topology } from "../types";
import { mqttClientPaths } from "../wiring/paths";
import { AppDefinition } from "./app";

/** The service with application `app` that `s` has a declared flow to, and the flow's port (on `appProtocol`, if given). */
function flowTo(t: Topology, s: ServiceSpec, app: string, appProtocol?: string) {
  for (const f of t.flows.filter((x) => x.from === s.name)) {
    const server = t.services.find((x) => x.name === f.to && x.app === app);
    const port = server?.ports.find((p) => p.port === f.port);
    if (server && port && (!appProtocol || port.appProtocol === appProtocol)) return { server, port: f.port };
  }
  return undefined;
}

export const nodeRed: AppDefinition = {
  // The telemetry flow writes as Node-RED's own InfluxDB v1 user, held in flows_cred.json (Node-RED's
  // credential handling); by default it may write the telemetry bucket and nothing else.
  presents: ["influxdb"],
  influxdbAccess: "write",
  presentsIn: { influxdb: { name: "flows_cred.json", path: NODE_RED_PATHS.credentials } },
  files: (t, s) => {
    const broker = flowTo(t, s, "mosquitto", "mqtts");
    const tsdb = flowTo(t, s, "influxdb");
    if (!broker || !tsdb) return NO_FILES;
    const paths = mqttClientPaths(s.name);
    const certified = t.tls.mqttClients.includes(s.name);
    const uiPort = s.ports.find((p) => p.appProtocol === "http")?.port ?? 1880;
    const identity = planIdentities(t).find((i) => i.client === s.name && i.server === tsdb.server.name && i.influxdb);
    if (!identity) return NO_FILES;
    const flows = renderNodeRedFlows({
      broker: { host: broker.server.name, port: broker.port },
      tls: { ca: paths.ca, ...(certified ? { cert: paths.cert, key: paths.key } : {}) },
      influxdb: { host: tsdb.server.name, port: tsdb.port, bucket: identity.influxdb!.bucket },
    });
    return {
      files: [
        configFile("settings.js", NODE_RED_PATHS.settings, renderNodeRedSettings(uiPort)),
        configFile("flows.json", NODE_RED_PATHS.flows, flows),
        secretFile(
          "flows_cred.json",
          NODE_RED_PATHS.credentials,
          renderNodeRedCredentials(identity.username, `{{password.${identity.credential}}}`),
        ),
      ],
      // nodered/node-red's entrypoint passes $FLOWS to Node-RED as its flow file.
      env: { FLOWS: NODE_RED_PATHS.flows },
    };
  },
};
