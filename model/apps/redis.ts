/** Redis: a configuration that includes the password from a secret file beside it. */
import { configFile, secretFile, secretPath } from "../fileSpec";
import { AppDefinition } from "./app";

export const redis: AppDefinition = {
  files: (_t, s) => {
    const auth = secretPath(`${s.name}-auth.conf`);
    const port = s.ports.find((p) => p.appProtocol === "redis")?.port ?? 6379;
    const conf = [
      "bind 0.0.0.0",
      "protected-mode yes",
      `port ${port}`,
      "dir /data",
      "appendonly yes",
      `include ${auth}`,
    ];
    return {
      files: [
        configFile("redis.conf", "/usr/local/etc/redis/redis.conf", [...conf, ""].join("\n")),
        secretFile("auth.conf", auth, `requirepass {{password.${s.name}}}\n`),
      ],
      env: {},
    };
  },
};
