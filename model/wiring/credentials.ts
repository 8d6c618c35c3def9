/**
 * Credentials over declared flows, from the identity plan (model/identity.ts): each client gets the secret part
 * of each identity it holds as a secret file, and the environment pointing at it; each server that
 * authenticates by password gets its users (Redis ACL file, NATS users) as a secret, or, for InfluxDB, a start
 * script that creates them and each user's password as a secret file. A service with no flow
 * to a server holds nothing for it. MQTT client certificates travel with the MQTT client files (mqttClient.ts).
 */
import { INFLUXDB_SETUP } from "../apps/influxdb";
import { configFile, NO_FILES, secretFile, ServiceFiles } from "../fileSpec";
import { Identity, planIdentities } from "../identity";
import { renderInfluxStart } from "../render/influxdb";
import { renderNatsAuth } from "../render/nats";
import { renderRedisAcl } from "../render/redis";
import { ServiceSpec, Topology } from "../types";
import {
  INFLUXDB_ADMIN_TOKEN,
  INFLUXDB_RECONCILED,
  INFLUXDB_START,
  influxUserPasswordPath,
  NATS_AUTH,
  redisAclPath,
} from "./paths";

/** The client half: a secret file per password identity of `s` (unless its application's own file carries it). */
export function flowCredentialFiles(t: Topology, s: ServiceSpec): ServiceFiles {
  const held = planIdentities(t).filter((i) => i.client === s.name && i.kind !== "certificate" && !i.inAppFile);
  if (held.length === 0) return NO_FILES;
  return {
    files: held.map((i) => secretFile(i.file.name, i.file.path, `{{password.${i.credential}}}`)),
    env: Object.assign({}, ...held.map((i) => i.env)) as Record<string, string>,
  };
}

/**
 * InfluxDB's half: its start script, which creates the v1 users at deploy time, and each user's password as a
 * secret file of its own, so rotating one changes one file.
 */
function influxUserFiles(t: Topology, s: ServiceSpec, users: readonly Identity[]): ServiceFiles {
  const start = renderInfluxStart({
    port: s.ports.find((p) => p.appProtocol === "http")?.port ?? 8086,
    org: INFLUXDB_SETUP.org,
    adminTokenFile: INFLUXDB_ADMIN_TOKEN(s.name),
    marker: INFLUXDB_RECONCILED,
    users: users.map((i) => ({
      username: i.username,
      scope: i.influxdb!,
      passwordFile: influxUserPasswordPath(s.name, i.client),
    })),
  });
  return {
    files: [
      configFile("influxdb-start.sh", INFLUXDB_START, start),
      ...users.map((i) =>
        secretFile(
          `user-${i.client}-password`,
          influxUserPasswordPath(s.name, i.client),
          `{{password.${i.credential}}}`,
        ),
      ),
    ],
    env: {},
  };
}

/** The server half: the users of a Redis, NATS or InfluxDB server, one per identity on it. */
export function flowUserFiles(t: Topology, s: ServiceSpec): ServiceFiles {
  if (s.app !== "redis" && s.app !== "nats" && s.app !== "influxdb") return NO_FILES;
  const users: Identity[] = planIdentities(t).filter((i) => i.server === s.name && i.kind === "password");
  if (s.app === "influxdb") return influxUserFiles(t, s, users);
  const file =
    s.app === "redis"
      ? secretFile("users.acl", redisAclPath(s.name), renderRedisAcl(users))
      : secretFile("auth.conf", NATS_AUTH, renderNatsAuth(s.name, users));
  return { files: [file], env: {} };
}
