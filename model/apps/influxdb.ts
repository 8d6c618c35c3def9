/**
 * InfluxDB 2: first-start setup from secret files. The admin token it is set up with stays with the operators and
 * the server; the clients of its flows get v1 users of their own, which its start script (wiring/credentials.ts,
 * render/influxdb.ts) creates at deploy time.
 */
import { secretFile, secretPath } from "../fileSpec";
import { INFLUXDB_ADMIN_TOKEN } from "../wiring/paths";
import { AppDefinition } from "./app";

/** The organisation and bucket InfluxDB is set up with; Node-RED's telemetry flow writes to them. */
export const INFLUXDB_SETUP = { org: "iot", bucket: "telemetry" } as const;

export const influxdb: AppDefinition = {
  files: (_t, s) => {
    const password = secretPath(`${s.name}-admin-password`);
    const token = INFLUXDB_ADMIN_TOKEN(s.name);
    return {
      files: [
        secretFile("admin-password", password, `{{password.${s.name}-admin}}`),
        secretFile("admin-token", token, `{{password.${s.name}-token}}`),
      ],
      env: {
        DOCKER_INFLUXDB_INIT_MODE: "setup",
        DOCKER_INFLUXDB_INIT_USERNAME: "admin",
        DOCKER_INFLUXDB_INIT_ORG: INFLUXDB_SETUP.org,
        DOCKER_INFLUXDB_INIT_BUCKET: INFLUXDB_SETUP.bucket,
        DOCKER_INFLUXDB_INIT_PASSWORD_FILE: password,
        DOCKER_INFLUXDB_INIT_ADMIN_TOKEN_FILE: token,
      },
    };
  },
};
