/**
 * Credentials over declared flows, from the identity plan (model/identity.ts): each client gets the secret part
 * of each identity it holds as a secret file, and the environment pointing at it; each server that
 * authenticates by password gets its users (Redis ACL file, NATS users) as a secret. A service with no flow
 * to a server holds nothing for it. MQTT client certificates travel with the MQTT client files (mqttClient.ts).
 */
import { NO_FILES, secretFile, ServiceFiles } from "../fileSpec";
import { Identity, planIdentities } from "../identity";
import { renderNatsAuth } from "../render/nats";
import { renderRedisAcl } from "../render/redis";
import { ServiceSpec, Topology } from "../types";
import { NATS_AUTH, redisAclPath } from "./paths";

/** The client half: a secret file per password or token identity of `s`. */
export function flowCredentialFiles(t: Topology, s: ServiceSpec): ServiceFiles {
  const held = planIdentities(t).filter((i) => i.client === s.name && i.kind !== "certificate" && !i.inAppFile);
  if (held.length === 0) return NO_FILES;
  return {
    files: held.map((i) => secretFile(i.file.name, i.file.path, `{{password.${i.credential}}}`)),
    env: Object.assign({}, ...held.map((i) => i.env)) as Record<string, string>,
  };
}

/** The server half: the users of a Redis or NATS server, one per identity on it. */
export function flowUserFiles(t: Topology, s: ServiceSpec): ServiceFiles {
  if (s.app !== "redis" && s.app !== "nats") return NO_FILES;
  const users: Identity[] = planIdentities(t).filter((i) => i.server === s.name && i.kind === "password");
  const file =
    s.app === "redis"
      ? secretFile("users.acl", redisAclPath(s.name), renderRedisAcl(users))
      : secretFile("auth.conf", NATS_AUTH, renderNatsAuth(s.name, users));
  return { files: [file], env: {} };
}
