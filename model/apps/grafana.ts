/** Grafana: admin password, provisioned data sources and the network dashboard. */
import { configFile, secretFile, secretPath } from "../fileSpec";
import { renderDashboardProvider, renderGrafanaDatasources, renderNetworkDashboard } from "../render/grafana";
import { AppDefinition } from "./app";

export const grafana: AppDefinition = {
  files: (t, s) => {
    const password = secretPath(`${s.name}-admin-password`);
    const route = t.routes.find((r) => r.service === s.name);
    return {
      files: [
        secretFile("admin-password", password, `{{password.${s.name}-admin}}`),
        configFile(
          "datasources.yaml",
          "/etc/grafana/provisioning/datasources/iot.yaml",
          renderGrafanaDatasources(t, s),
        ),
        configFile("dashboards.yaml", "/etc/grafana/provisioning/dashboards/iot.yaml", renderDashboardProvider()),
        configFile("network-dashboard.json", "/etc/grafana/dashboards/network.json", renderNetworkDashboard()),
      ],
      env: {
        GF_SECURITY_ADMIN_PASSWORD__FILE: password,
        GF_SERVER_ROOT_URL: `https://${route?.subdomain ?? s.name}.${t.domain}/`,
        GF_ANALYTICS_REPORTING_ENABLED: "false",
        GF_USERS_ALLOW_SIGN_UP: "false",
      },
    };
  },
  // Its InfluxDB data source authenticates with the token (read from the file, see renderGrafanaDatasources).
  presents: ["influxdb"],
};
