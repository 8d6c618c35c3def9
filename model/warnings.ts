/**
 * Settings a config may choose that are dangerous in production: accepted (dev and tests need them), but in prod
 * `npm run plan` lists them as warnings, each naming its config key, and the policy pack's mandatory rules
 * (require-admin-source-allowlist, require-mqtt-client-certificates under policies/config/prod.json) refuse them.
 */
import { ConfigProblem, configKey } from "./config";
import { serviceRunning } from "./lookup";
import { Topology } from "./types";

/** Source ranges that admit every address. */
const WORLD = new Set(["0.0.0.0/0", "::/0"]);

export function productionWarnings(t: Topology): ConfigProblem[] {
  if (t.environment !== "prod") return [];
  const warnings: ConfigProblem[] = [];
  t.adminCidrs.forEach((cidr, i) => {
    if (WORLD.has(cidr.trim())) {
      warnings.push({
        key: configKey(["adminCidrs", i]),
        message:
          `${cidr} admits every address, so the admin routes (Node-RED editor, InfluxDB, Prometheus) are open to ` +
          "the world; list only the operations networks (the pack's require-admin-source-allowlist refuses this)",
      });
    }
  });
  if (!t.mqtt.requireClientCertificate && serviceRunning(t, "mosquitto")) {
    warnings.push({
      key: configKey(["mqtt", "requireClientCertificate"]),
      message:
        "is false, so any client that reaches the broker's TLS port can connect without a certificate; set it to " +
        "true (the pack's require-mqtt-client-certificates refuses this)",
    });
  }
  return warnings;
}
