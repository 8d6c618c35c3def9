/** NATS: server configuration; the users it includes come from the identity plan (wiring/credentials.ts). */
import { configFile } from "../fileSpec";
import { renderNatsConfig } from "../render/nats";
import { NATS_CONFIG } from "../wiring/paths";
import { AppDefinition } from "./app";

export const nats: AppDefinition = {
  files: (_t, s) => ({ files: [configFile("nats.conf", NATS_CONFIG, renderNatsConfig(s))], env: {} }),
};
