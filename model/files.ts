/**
 * The files each service reads, rendered from the model. Contents that only exist at deploy time
 * (certificates, keys, generated passwords) appear as `{{placeholders}}` resolved by the components:
 * `{{ca.cert}}`, `{{cert.<leaf>}}`, `{{key.<leaf>}}`, `{{password.<id>}}`.
 * A file holding any key or password is a secret; everything else is a config.
 */
import { mqttClientCertName } from "./pki";
import { renderAlertRules } from "./render/alerts";
import {
  INFLUX_TOKEN_SECRET,
  renderDashboardProvider,
  renderGrafanaDatasources,
  renderNetworkDashboard,
} from "./render/grafana";
import { renderHaproxyConfig } from "./render/haproxy";
import { renderMosquittoAcl, renderMosquittoConfig } from "./render/mosquitto";
import { renderNatsConfig } from "./render/nats";
import { renderPrometheusConfig } from "./render/prometheus";
import { ServiceSpec, Topology } from "./types";

export type FileKind = "config" | "secret";

export interface FileSpec {
  /** Unique within the service; part of the Swarm object name. */
  readonly name: string;
  readonly target: string;
  readonly mode: number;
  readonly kind: FileKind;
  readonly template: string;
}

export interface ServiceFiles {
  readonly files: readonly FileSpec[];
  /** Environment pointing at files (`*_FILE`), merged over the service's plain env. */
  readonly env: Readonly<Record<string, string>>;
}

const PLACEHOLDER = /\{\{\s*(ca|cert|key|password|expiry)(?:\.([a-z0-9-]+))?\s*\}\}/g;
const SECRET_REFS = new Set(["key", "password"]);

export interface Placeholder {
  /** `expiry.<leaf>` is the certificate's end of validity in Unix seconds. */
  readonly kind: "ca" | "cert" | "key" | "password" | "expiry";
  readonly name: string;
}

export function placeholders(template: string): Placeholder[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => ({ kind: m[1] as Placeholder["kind"], name: m[2] ?? "" }));
}

/**
 * Replaces each placeholder with `value(index)`, in the order `placeholders` lists them. Other
 * `{{ }}` text (Prometheus and Grafana templates) is left alone.
 */
export function fillPlaceholders(template: string, value: (index: number) => string): string {
  let i = 0;
  return template.replace(PLACEHOLDER, () => value(i++));
}

const config = (name: string, target: string, template: string): FileSpec => ({
  name,
  target,
  mode: 0o444,
  kind: "config",
  template,
});
const secret = (name: string, target: string, template: string): FileSpec => ({
  name,
  target,
  mode: 0o400,
  kind: "secret",
  template,
});

export function passwordIds(t: Topology): string[] {
  return [
    ...new Set(
      t.services
        .flatMap((s) => serviceFiles(t, s).files.flatMap((f) => placeholders(f.template)))
        .filter((p) => p.kind === "password")
        .map((p) => p.name),
    ),
  ].sort();
}

export function serviceFiles(t: Topology, s: ServiceSpec): ServiceFiles {
  switch (s.name) {
    case "mosquitto":
      return {
        files: [
          config("mosquitto.conf", "/mosquitto/config/mosquitto.conf", renderMosquittoConfig(t)),
          config("acl", "/mosquitto/config/acl", renderMosquittoAcl(t)),
          config("ca.crt", "/mosquitto/certs/ca.crt", "{{ca.cert}}"),
          config("server.crt", "/mosquitto/certs/server.crt", "{{cert.mosquitto}}"),
          secret("server.key", "/run/secrets/mosquitto-server.key", "{{key.mosquitto}}"),
        ],
        env: {},
      };
    case "gateway":
      return {
        files: [
          config("haproxy.cfg", "/usr/local/etc/haproxy/haproxy.cfg", renderHaproxyConfig(t)),
          // HAProxy reads certificate, chain and key from one PEM file.
          secret("gateway.pem", "/run/secrets/gateway.pem", "{{cert.gateway}}\n{{ca.cert}}\n{{key.gateway}}\n"),
        ],
        env: {},
      };
    case "influxdb":
      return {
        files: [
          secret("admin-password", "/run/secrets/influxdb-admin-password", "{{password.influxdb-admin}}"),
          secret("admin-token", "/run/secrets/influxdb-admin-token", "{{password.influxdb-token}}"),
        ],
        env: {
          DOCKER_INFLUXDB_INIT_MODE: "setup",
          DOCKER_INFLUXDB_INIT_USERNAME: "admin",
          DOCKER_INFLUXDB_INIT_ORG: "iot",
          DOCKER_INFLUXDB_INIT_BUCKET: "telemetry",
          DOCKER_INFLUXDB_INIT_PASSWORD_FILE: "/run/secrets/influxdb-admin-password",
          DOCKER_INFLUXDB_INIT_ADMIN_TOKEN_FILE: "/run/secrets/influxdb-admin-token",
        },
      };
    case "grafana":
      return {
        files: [
          secret("admin-password", "/run/secrets/grafana-admin-password", "{{password.grafana-admin}}"),
          secret("influxdb-token", INFLUX_TOKEN_SECRET, "{{password.influxdb-token}}"),
          config("datasources.yaml", "/etc/grafana/provisioning/datasources/iot.yaml", renderGrafanaDatasources(t)),
          config("dashboards.yaml", "/etc/grafana/provisioning/dashboards/iot.yaml", renderDashboardProvider()),
          config("network-dashboard.json", "/etc/grafana/dashboards/network.json", renderNetworkDashboard()),
        ],
        env: {
          GF_SECURITY_ADMIN_PASSWORD__FILE: "/run/secrets/grafana-admin-password",
          GF_SERVER_ROOT_URL: `https://grafana.${t.domain}/`,
          GF_ANALYTICS_REPORTING_ENABLED: "false",
          GF_USERS_ALLOW_SIGN_UP: "false",
        },
      };
    case "node-red": {
      if (!t.tls.mqttClients.includes("node-red")) return { files: [], env: {} };
      const client = mqttClientFiles("node-red");
      return {
        files: client.files,
        env: {
          MQTT_BROKER_URL: "mqtts://mosquitto:8883",
          MQTT_CA_FILE: client.ca,
          MQTT_CERT_FILE: client.cert,
          MQTT_KEY_FILE: client.key,
        },
      };
    }
    case "redis":
      return {
        files: [
          config(
            "redis.conf",
            "/usr/local/etc/redis/redis.conf",
            [
              "bind 0.0.0.0",
              "protected-mode yes",
              "port 6379",
              "dir /data",
              "appendonly yes",
              "include /run/secrets/redis-auth.conf",
              "",
            ].join("\n"),
          ),
          secret("auth.conf", "/run/secrets/redis-auth.conf", "requirepass {{password.redis}}\n"),
        ],
        env: {},
      };
    case "nats":
      return {
        files: [
          config("nats.conf", "/etc/nats/nats.conf", renderNatsConfig(s)),
          // NATS resolves includes relative to the main file, so the secret sits beside it.
          secret("auth.conf", "/etc/nats/auth.conf", 'authorization { user: "iot", password: "{{password.nats}}" }\n'),
        ],
        env: {},
      };
    case "prometheus":
      return {
        files: [
          config("prometheus.yml", "/etc/prometheus/prometheus.yml", renderPrometheusConfig(t)),
          config("alerts.yml", "/etc/prometheus/rules/iot-network.yml", renderAlertRules(t)),
        ],
        env: {},
      };
    case "mqtt-exporter": {
      const client = mqttClientFiles("mqtt-exporter");
      return {
        files: client.files,
        env: {
          BROKER_ENDPOINT: "ssl://mosquitto:8883",
          MQTT_CERT: client.cert,
          MQTT_KEY: client.key,
          // Go's TLS client reads extra trust roots from here: the stack's private CA.
          SSL_CERT_FILE: client.ca,
        },
      };
    }
    default:
      return { files: [], env: {} };
  }
}

/** The CA, client certificate and client key an in-swarm MQTT client presents to the broker. */
function mqttClientFiles(service: string): { files: FileSpec[]; ca: string; cert: string; key: string } {
  const leaf = mqttClientCertName(service);
  const paths = {
    ca: "/etc/iot/certs/ca.crt",
    cert: "/etc/iot/certs/mqtt-client.crt",
    key: `/run/secrets/${service}-mqtt-client.key`,
  };
  return {
    files: [
      config("ca.crt", paths.ca, "{{ca.cert}}"),
      config("mqtt-client.crt", paths.cert, `{{cert.${leaf}}}`),
      secret("mqtt-client.key", paths.key, `{{key.${leaf}}}`),
    ],
    ...paths,
  };
}

/** A template holding a key or password must travel as a Docker secret. */
export function requiresSecret(template: string): boolean {
  return placeholders(template).some((p) => SECRET_REFS.has(p.kind));
}
