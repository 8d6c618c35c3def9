/** Mosquitto, the MQTT broker: configuration, ACL, and the CA and server certificate it verifies and serves. */
import { configFile, NO_FILES, secretFile } from "../fileSpec";
import { MOSQUITTO_PATHS, renderMosquittoAcl, renderMosquittoConfig } from "../render/mosquitto";
import { AppDefinition } from "./app";

export const mosquitto: AppDefinition = {
  files: (t, s) => ({
    files: [
      configFile("mosquitto.conf", MOSQUITTO_PATHS.config, renderMosquittoConfig(t)),
      configFile("acl", MOSQUITTO_PATHS.acl, renderMosquittoAcl(t)),
      configFile("ca.crt", MOSQUITTO_PATHS.ca, "{{ca.cert}}"),
      configFile("server.crt", MOSQUITTO_PATHS.cert, `{{cert.${s.name}}}`),
      secretFile("server.key", MOSQUITTO_PATHS.key, `{{key.${s.name}}}`),
    ],
    env: {},
  }),
};

/** sapcc/mosquitto-exporter: its own files are none; it reads the broker's $SYS topics as an MQTT client. */
export const mosquittoExporter: AppDefinition = {
  files: () => NO_FILES,
  mqttClientEnv: (w) => ({
    ...(w.broker ? { BROKER_ENDPOINT: `ssl://${w.broker.host}:${w.broker.port}` } : {}),
    ...(w.cert ? { MQTT_CERT: w.cert } : {}),
    ...(w.key ? { MQTT_KEY: w.key } : {}),
    // Go's TLS client reads extra trust roots from here: the stack's private CA.
    SSL_CERT_FILE: w.ca,
  }),
};
