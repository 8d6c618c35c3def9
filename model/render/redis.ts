/** Redis configuration and its ACL file: the default user off, one user per declared flow (model/identity.ts). */
import { Identity } from "../identity";
import { ServiceSpec } from "../types";
import { redisAclPath } from "../wiring/paths";

export const REDIS_CONFIG = "/usr/local/etc/redis/redis.conf";

export function renderRedisConfig(s: ServiceSpec): string {
  const port = s.ports.find((p) => p.appProtocol === "redis")?.port ?? 6379;
  return [
    "bind 0.0.0.0",
    "protected-mode yes",
    `port ${port}`,
    "dir /data",
    "appendonly yes",
    `aclfile ${redisAclPath(s.name)}`,
    "",
  ].join("\n");
}

/**
 * `user default off` (no connection is anyone until it authenticates), then per identity
 * `user <client> on >{{password}} ~<keys> <commands>`; each client's commands end with `-@dangerous`.
 */
export function renderRedisAcl(identities: readonly Identity[]): string {
  const users = identities
    .filter((i) => i.redis)
    .map((i) =>
      [
        "user",
        i.username,
        "reset",
        "on",
        `>{{password.${i.credential}}}`,
        ...i.redis!.keys.map((k) => `~${k}`),
        "resetchannels",
        ...i.redis!.commands,
      ].join(" "),
    );
  return ["user default off", ...users, ""].join("\n");
}
