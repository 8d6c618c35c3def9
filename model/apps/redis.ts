/** Redis: a configuration that loads its users from the ACL secret the identity plan renders (wiring/credentials.ts). */
import { configFile } from "../fileSpec";
import { REDIS_CONFIG, renderRedisConfig } from "../render/redis";
import { AppDefinition } from "./app";

export const redis: AppDefinition = {
  files: (_t, s) => ({ files: [configFile("redis.conf", REDIS_CONFIG, renderRedisConfig(s))], env: {} }),
};
