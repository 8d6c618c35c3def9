/** HAProxy, the API gateway: its configuration and the certificate, chain and key it serves. */
import { configFile, secretFile } from "../fileSpec";
import { HAPROXY_CONFIG, HAPROXY_PEM, renderHaproxyConfig } from "../render/haproxy";
import { AppDefinition } from "./app";

export const haproxy: AppDefinition = {
  files: (t, s) => ({
    files: [
      configFile("haproxy.cfg", HAPROXY_CONFIG, renderHaproxyConfig(t, s)),
      // HAProxy reads certificate, chain and key from one PEM file; the leaf is named after the service.
      secretFile("gateway.pem", HAPROXY_PEM, `{{cert.${s.name}}}\n{{ca.cert}}\n{{key.${s.name}}}\n`),
    ],
    env: {},
  }),
};
