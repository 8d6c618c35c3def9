/**
 * Where the cross-cutting files land in a client's container. The file sources that deliver them and the
 * renderers that point applications at them both read these, so a path is written down once.
 */
import { secretPath } from "../fileSpec";

/** The CA, client certificate and client key an MQTT client presents to the broker. */
export interface MqttClientPaths {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export function mqttClientPaths(client: string): MqttClientPaths {
  return {
    ca: "/etc/iot/certs/ca.crt",
    cert: "/etc/iot/certs/mqtt-client.crt",
    key: secretPath(`${client}-mqtt-client.key`),
  };
}

/** The secret file holding the credential `client` presents to `server` over a declared flow. */
export function flowCredentialPath(client: string, server: string, credential: string): string {
  return secretPath(`${client}-${server}-${credential}`);
}

/** The name of the credential InfluxDB issues to its clients. */
export const INFLUXDB_TOKEN = "token";
