/** NATS: server configuration and the credentials it includes. */
import { configFile, secretFile } from "../fileSpec";
import { renderNatsConfig } from "../render/nats";
import { AppDefinition } from "./app";

export const nats: AppDefinition = {
  files: (_t, s) => ({
    files: [
      configFile("nats.conf", "/etc/nats/nats.conf", renderNatsConfig(s)),
      // NATS resolves includes relative to the main file, so the secret sits beside it.
      secretFile(
        "auth.conf",
        "/etc/nats/auth.conf",
        `authorization { user: "iot", password: "{{password.${s.name}}}" }\n`,
      ),
    ],
    env: {},
  }),
};
