/** Prometheus: a scrape job per declared flow, and the alert rules. */
import { configFile } from "../fileSpec";
import { renderAlertRules } from "../render/alerts";
import { renderPrometheusConfig } from "../render/prometheus";
import { AppDefinition } from "./app";

export const prometheus: AppDefinition = {
  files: (t, s) => ({
    files: [
      configFile("prometheus.yml", "/etc/prometheus/prometheus.yml", renderPrometheusConfig(t, s)),
      configFile("alerts.yml", "/etc/prometheus/rules/iot-network.yml", renderAlertRules(t)),
    ],
    env: {},
  }),
};
