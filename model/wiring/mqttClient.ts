/**
 * MQTT client files, from the model: a service with a declared flow to the broker's TLS port gets the CA
 * that signed the broker's certificate, and a service in `tls.mqttClients` also gets its client
 * certificate and key. The application decides the environment that points at them.
 */
import { defaultMqttClientEnv, MqttClientWiring } from "../apps/app";
import { APPS } from "../apps";
import { configFile, NO_FILES, secretFile, ServiceFiles } from "../fileSpec";
import { serviceRunning } from "../lookup";
import { mqttClientCertName } from "../pki";
import { ServiceSpec, Topology } from "../types";
import { mqttClientPaths } from "./paths";

export function mqttClientFiles(t: Topology, s: ServiceSpec): ServiceFiles {
  const broker = serviceRunning(t, "mosquitto");
  // The broker is no client of itself.
  if (!broker || broker.name === s.name) return NO_FILES;
  const tlsPorts = broker.ports.filter((p) => p.appProtocol === "mqtts").map((p) => p.port);
  const flow = t.flows.find((f) => f.from === s.name && f.to === broker.name && tlsPorts.includes(f.port));
  const certified = t.tls.mqttClients.includes(s.name);
  if (!flow && !certified) return NO_FILES;

  const paths = mqttClientPaths(s.name);
  const leaf = mqttClientCertName(s.name);
  const wiring: MqttClientWiring = {
    broker: flow && { host: broker.name, port: flow.port },
    ca: paths.ca,
    ...(certified ? { cert: paths.cert, key: paths.key } : {}),
  };
  const env = (s.app && APPS[s.app].mqttClientEnv) || defaultMqttClientEnv;
  return {
    files: [
      configFile("ca.crt", paths.ca, "{{ca.cert}}"),
      ...(certified
        ? [
            configFile("mqtt-client.crt", paths.cert, `{{cert.${leaf}}}`),
            secretFile("mqtt-client.key", paths.key, `{{key.${leaf}}}`),
          ]
        : []),
    ],
    env: env(wiring),
  };
}
