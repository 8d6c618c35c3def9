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

/** The setup (admin) token's secret file in InfluxDB's task: the operators' and the server's, no client's. */
export const INFLUXDB_ADMIN_TOKEN = (server: string) => secretPath(`${server}-admin-token`);

/** InfluxDB's start script: runs the image's entrypoint and reconciles the flows' v1 users (render/influxdb.ts). */
export const INFLUXDB_START = "/etc/iot/influxdb-start.sh";
/** A tmpfs of InfluxDB's task; the start script writes INFLUXDB_RECONCILED there once the users are reconciled. */
export const INFLUXDB_RUN_DIR = "/run/iot";
export const INFLUXDB_RECONCILED = `${INFLUXDB_RUN_DIR}/influxdb-reconciled`;

/** The secret file in InfluxDB's task with the password of `client`'s v1 user. */
export const influxUserPasswordPath = (server: string, client: string) =>
  secretPath(`${server}-user-${client}-password`);

/** The Redis ACL file (`aclfile`): one user per declared flow, the default user off. */
export const redisAclPath = (server: string) => secretPath(`${server}-users.acl`);

/** NATS users and permissions; NATS resolves includes relative to the main file, so it sits beside it. */
export const NATS_CONFIG = "/etc/nats/nats.conf";
export const NATS_AUTH = "/etc/nats/auth.conf";
