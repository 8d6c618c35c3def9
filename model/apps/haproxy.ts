/**
 * HAProxy, the API gateway: its configuration, the certificate, chain and key it serves, and the start script that
 * holds its listeners back until the routed services answer (render/gatewayStart.ts).
 */
import { configFile, secretFile } from "../fileSpec";
import { GATEWAY_START, renderGatewayStart } from "../render/gatewayStart";
import { gatewayBackends, HAPROXY_CONFIG, HAPROXY_PEM, renderHaproxyConfig } from "../render/haproxy";
import { AppDefinition } from "./app";

export const haproxy: AppDefinition = {
  files: (t, s) => ({
    files: [
      configFile("haproxy.cfg", HAPROXY_CONFIG, renderHaproxyConfig(t, s)),
      configFile(
        "gateway-start.sh",
        GATEWAY_START,
        renderGatewayStart({ backends: gatewayBackends(t), config: HAPROXY_CONFIG }),
      ),
      // HAProxy reads certificate, chain and key from one PEM file; the leaf is named after the service.
      secretFile("gateway.pem", HAPROXY_PEM, `{{cert.${s.name}}}\n{{ca.cert}}\n{{key.${s.name}}}\n`),
    ],
    env: {},
  }),
};
