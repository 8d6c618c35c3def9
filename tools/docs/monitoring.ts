/** docs/network-monitoring.md: scrape jobs, alert rules, dashboards, access and broker logs, health endpoints. */
import { parse } from "yaml";
import { discoveryTable } from "../../model/discovery";
import { serviceFiles } from "../../model/files";
import { serviceRunning } from "../../model/lookup";
import { alertRules, CERT_EXPIRY_WARNING_DAYS } from "../../model/render/alerts";
import { renderGrafanaDatasources, renderNetworkDashboard } from "../../model/render/grafana";
import { renderHaproxyConfig } from "../../model/render/haproxy";
import { renderMosquittoConfig } from "../../model/render/mosquitto";
import { TELEMETRY_FLOW } from "../../model/render/nodeRed";
import { renderPrometheusConfig } from "../../model/render/prometheus";
import { Topology } from "../../model/types";
import { markdownTable } from "../table";
import { carryingNetwork, code, codeList, header, perStack, sameOrEach, stackColumns } from "./common";
import { DocsModel } from "./model";

/** Node-RED's provisioned telemetry flow, as rendered from the model (model/render/nodeRed.ts). */
function telemetryFlowDoc(t: Topology): string[] {
  const nodeRed = t.services.find((s) => s.app === "node-red");
  const files = nodeRed ? serviceFiles(t, nodeRed).files : [];
  const flows = files.find((f) => f.name === "flows.json");
  if (!nodeRed || !flows) return [];
  const nodes = JSON.parse(flows.template) as Record<string, unknown>[];
  const of = (type: string) => nodes.find((n) => n.type === type) ?? {};
  const broker = of("mqtt-broker");
  const subscribe = of("mqtt in");
  const write = of("http request");
  const target = (name: string) => code(files.find((f) => f.name === name)?.target ?? "?");
  return [
    "### Telemetry flow (Node-RED)",
    "",
    `Node-RED starts with a provisioned flow (${target("flows.json")}, settings ${target("settings.js")}): it subscribes with QoS ${String(subscribe.qos)} to ` +
      `${code(String(subscribe.topic))} on ${code(`${String(broker.broker)}:${String(broker.port)}`)} over mutual TLS (its client certificate), ` +
      `MQTT 3.1.1 with clean session off under the fixed client id ${code(String(broker.clientid))}, so the broker keeps its subscription and ` +
      "queues readings while Node-RED is away (see Broker sessions). Each reading becomes one line of InfluxDB line protocol tagged with " +
      "its device and reading id at the reading's own timestamp, so a reading delivered twice overwrites its point instead of adding one. " +
      `It is written with ${code(`POST ${String(write.url)}`)}; a write InfluxDB does not accept (no answer, an error status) is retried ` +
      `every ${TELEMETRY_FLOW.retrySeconds} s, so losing InfluxDB delays readings and loses none. It writes as its own InfluxDB v1 user ` +
      `(Basic auth, allowed to write its bucket and nothing else; see Identities per flow), whose password is only in ` +
      `${target("flows_cred.json")}, a Docker secret; Node-RED keeps it unencrypted (${code("credentialSecret: false")}) because the secret ` +
      "already protects it at rest and in the task. The flows come from the model: a deploy from the editor cannot overwrite them.",
    "",
  ];
}

/** What each HAProxy log-format variable records (HAProxy configuration manual, "Custom log format"). */
const HAPROXY_LOG_VARIABLES: Readonly<Record<string, string>> = {
  "%tr": "date and time the request was received",
  "%ci": "client (source) IP address",
  "%cp": "client (source) port",
  "%ft": "frontend name (`~` suffix when TLS)",
  "%b": "backend name (the route)",
  "%s": "server slot that answered (one task)",
  "%HM": "HTTP method",
  "%[capture.req.hdr(0)]": "the Host header captured by the HTTPS frontend",
  "%HP": "request path",
  "%ST": "HTTP status code",
  "%B": "bytes sent to the client",
  "%Ta": "total active time of the request, in milliseconds",
  "%rc": "retries on the backend (a task that failed and another that answered)",
  "%ts": "termination state (two letters: who ended the session and in what phase; `--` is normal)",
};

interface PromConfig {
  global: { scrape_interval: string; evaluation_interval: string };
  rule_files: string[];
  scrape_configs: { job_name: string; metrics_path?: string; dns_sd_configs?: { names: string[]; port: number; refresh_interval: string }[]; static_configs?: { targets: string[] }[] }[];
}

/** The access-log fields: JSON key and the HAProxy variable that fills it, read from the rendered config. */
export function haproxyLogFields(t: Topology): { field: string; variable: string }[] {
  const line = renderHaproxyConfig(t).split("\n").find((l) => l.trim().startsWith("log-format"));
  if (!line) return [];
  return [...line.matchAll(/"([a-z_]+)":"?(%(?:\[[^\]]+\]|[A-Za-z]+))/g)].map((x) => ({ field: x[1], variable: x[2] }));
}

export function renderMonitoring(m: DocsModel): string {
  const ref = m.prod;
  const t = ref.topology;
  const out: string[] = [
    header(
      "Network monitoring",
      "What Prometheus scrapes and over which networks, the alert rules, the Grafana dashboards, the gateway's access log " +
        "and the broker's log, and the health endpoints of every service.",
    ),
  ];

  // Scrape jobs.
  const prom = parse(renderPrometheusConfig(t)) as PromConfig;
  out.push("## What is scraped", "");
  out.push(
    `Each scrape job is a declared \`prometheus -> <service>:<port>\` flow (\`model/render/prometheus.ts\`), so Prometheus can only ` +
      `scrape what it is allowed to reach. Targets are every task of the service, found through \`tasks.<service>\`. Scrape interval ` +
      `${prom.global.scrape_interval}, rule evaluation every ${prom.global.evaluation_interval}.`,
    "",
  );
  out.push(
    markdownTable(
      ["job", "targets", "path", "network", "why"],
      prom.scrape_configs.map((j) => {
        const sd = j.dns_sd_configs?.[0];
        const flow = t.flows.find((f) => f.from === "prometheus" && f.to === j.job_name && f.port === sd?.port);
        return [
          j.job_name,
          sd ? codeList(sd.names.map((n) => `${n}:${sd.port}`)) : codeList(j.static_configs?.flatMap((c) => c.targets) ?? []),
          code(j.metrics_path ?? "/metrics"),
          flow ? code(carryingNetwork(ref.plan, flow)) : "loopback",
          flow?.purpose ?? "Prometheus's own metrics",
        ];
      }),
    ),
    "",
  );
  const scraped = new Set(t.flows.filter((f) => f.from === "prometheus").map((f) => f.to));
  const notScraped = t.services.filter((s) => !scraped.has(s.name) && s.name !== "prometheus").map((s) => s.name);
  const observed = (name: string): string => {
    const exporter = t.flows.find((f) => f.to === name && scraped.has(f.from) && t.services.find((x) => x.name === f.from)?.role === "exporter");
    if (exporter) return `broker metrics through ${exporter.from} (${code(`${exporter.from} -> ${name}:${exporter.port}`)})`;
    if (scraped.has("gateway") && t.routes.some((r) => r.service === name)) return "requests, errors, latency and healthy tasks through the gateway's backend metrics";
    return "health check only";
  };
  out.push(
    "Services without a scrape job of their own:",
    "",
    markdownTable(["service", "observed through"], notScraped.map((n) => [n, observed(n)])),
    "",
    "To scrape another service, declare the flow (`prometheus -> <service>:<port>` under `flows`); the job and the network follow.",
    "",
  );

  // Alert rules.
  out.push("## Alert rules", "");
  const rulesFile = serviceFiles(t, serviceRunning(t, "prometheus")!).files.find((f) => f.name === "alerts.yml");
  out.push(
    `Rendered by \`model/render/alerts.ts\` into ${rulesFile ? code(rulesFile.target) : "the rules file"} on Prometheus (group \`iot-network\`).`,
    "",
  );
  const rules = Object.fromEntries(perStack(m, (s) => [s.stack, alertRules(s.topology)] as const));
  const ruleKey = (r: { alert: string; expr: string }) => `${r.alert}|${r.expr}`;
  const keys = [...new Set([...rules.dev, ...rules.prod].map(ruleKey))];
  out.push(
    markdownTable(
      ["alert", "severity", "for", "expression", "summary", ...stackColumns("in")],
      keys.map((k) => {
        const r = (rules.prod.find((x) => ruleKey(x) === k) ?? rules.dev.find((x) => ruleKey(x) === k))!;
        return [
          r.alert,
          r.severity,
          r.for,
          code(r.expr),
          sameOrEach(m, (s) => rules[s.stack].find((x) => ruleKey(x) === k)?.summary ?? "–"),
          ...perStack(m, (s) => (rules[s.stack].some((x) => ruleKey(x) === k) ? "yes" : "no")),
        ];
      }),
    ),
    "",
  );
  out.push(
    "Certificate expiry needs no exporter: `{{expiry.<certificate>}}` is replaced at deploy time with the certificate's end of validity " +
      "(Unix seconds), and a renewed certificate changes the rule file, which rolls Prometheus with the new date. " +
      `Certificates are renewed ${sameOrEach(m, (s) => `${s.topology.tls.earlyRenewalDays} days`)} before they expire, on ` +
      `the next \`pulumi up\`; the alert fires at ${CERT_EXPIRY_WARNING_DAYS} days, so it means no deploy has renewed them.`,
    "",
  );

  // Dashboards.
  out.push("## Dashboards", "");
  const grafana = serviceRunning(t, "grafana");
  const grafanaFiles = grafana ? serviceFiles(t, grafana).files : [];
  const datasources = (parse(renderGrafanaDatasources(t)) as { datasources: { name: string; type: string; url: string; isDefault?: boolean }[] | null }).datasources ?? [];
  const route = t.routes.find((r) => r.service === "grafana");
  out.push(
    "Grafana is provisioned from files (no clicks, no drift): data sources and a file dashboard provider" +
      (route ? `; it is served at ${perStack(m, (s) => `${code(`https://${route.subdomain}.${s.topology.domain}/`)} (${s.stack})`).join(", ")}.` : "."),
    "",
  );
  out.push(
    markdownTable(
      ["data source", "type", "URL", "default"],
      datasources.map((d) => [d.name, d.type, code(d.url), d.isDefault ? "yes" : "no"]),
    ),
    "",
  );
  const dashboard = JSON.parse(renderNetworkDashboard()) as { uid: string; title: string; refresh: string; time: { from: string }; panels: { title: string; fieldConfig: { defaults: { unit: string } }; targets: { expr: string }[] }[] };
  const dashboardFile = grafanaFiles.find((f) => f.template.startsWith("{") && f.template.includes(`"uid": "${dashboard.uid}"`));
  out.push(
    `### ${dashboard.title} (uid ${code(dashboard.uid)})`,
    "",
    `Refreshes every ${dashboard.refresh}, shows ${dashboard.time.from.replace("now-", "the last ")} by default` +
      (dashboardFile ? `; provisioned at ${code(dashboardFile.target)}.` : "."),
    "",
    markdownTable(["panel", "query", "unit"], dashboard.panels.map((p) => [p.title, code(p.targets.map((x) => x.expr).join("; ")), p.fieldConfig.defaults.unit])),
    "",
  );

  // Logs.
  out.push("## Logs", "");
  out.push(
    "Every service logs to stdout; `docker service logs <service>` shows all tasks, each line prefixed with the task. " +
      "Secrets never appear in logs: they reach services as files, not environment or command line.",
    "",
  );
  const fields = haproxyLogFields(t);
  out.push(
    "### Gateway access log",
    "",
    "HAProxy writes one JSON object per request (`model/render/haproxy.ts`); requests to the health and metrics frontend are not logged, " +
      "nor are connections that send nothing (`option dontlognull`).",
    "",
    markdownTable(["field", "HAProxy variable", "meaning"], fields.map((f) => [code(f.field), code(f.variable), HAPROXY_LOG_VARIABLES[f.variable] ?? "see the HAProxy log-format reference"])),
    "",
    "For example, requests per route and status: `docker service logs gateway --raw | jq -rR 'fromjson? | [.backend, .status] | @tsv' | sort | uniq -c`.",
    "",
  );
  const mosquitto = renderMosquittoConfig(t).split("\n");
  const setting = (key: string) => mosquitto.filter((l) => l.startsWith(`${key} `)).map((l) => l.slice(key.length + 1));
  out.push(
    "### Broker log",
    "",
    `Mosquitto logs to ${codeList(setting("log_dest"))} with levels ${codeList(setting("log_type"))}; ` +
      `connection messages are ${setting("connection_messages")[0] === "true" ? "on: every connect and disconnect is logged with the client id, address and certificate user" : "off"}; ` +
      `timestamps use ${code(setting("log_timestamp_format")[0] ?? "the default format")}.`,
    "",
    "### Broker sessions",
    "",
    "A client that connects with a persistent session (clean session off) keeps its subscriptions and its queued QoS 1 " +
      "messages on the broker while it is away, so a restart of that subscriber loses no reading. The broker keeps them in " +
      `its volume: it saves every ${setting("autosave_interval")[0]} s (${code(`autosave_interval ${setting("autosave_interval")[0]}`)}) ` +
      "and on a clean stop, so a rolling update or `docker service update --force` loses nothing, and a crash or the " +
      `loss of its node loses at most the last ${setting("autosave_interval")[0]} s of queued messages. A session whose ` +
      `client stays away longer than ${setting("persistent_client_expiration")[0]} is removed ` +
      `(${code(`persistent_client_expiration ${setting("persistent_client_expiration")[0]}`)}); each offline client queues ` +
      `at most ${setting("max_queued_messages")[0]} messages (${code("max_queued_messages")}), then new ones are dropped. ` +
      `Saving on every change is off (${code(`autosave_on_changes ${setting("autosave_on_changes")[0]}`)}): it would rewrite the whole ` +
      "database for each message, and devices keep each QoS 1 reading until the broker acknowledged it.",
    "",
    ...telemetryFlowDoc(t),
  );

  // Health.
  out.push("## Health endpoints", "");
  out.push("Swarm restarts a task whose check fails its retries; the gateway and Prometheus see the same endpoints.", "");
  const disc = Object.fromEntries(perStack(m, (s) => [s.stack, discoveryTable(s.topology, s.plan)] as const));
  out.push(
    markdownTable(
      ["service", "health", "replicas", "checked every"],
      t.services.map((s) => {
        const d = disc.prod.find((x) => x.service === s.name)!;
        return [
          s.name,
          d.healthUrl ? code(d.healthUrl) : `command: ${code(s.health.test.slice(1).join(" "))}`,
          sameOrEach(m, (st) => String(disc[st.stack].find((x) => x.service === s.name)?.replicas ?? "–")),
          `${s.health.intervalSeconds}s (timeout ${s.health.timeoutSeconds}s, ${s.health.retries} retries)`,
        ];
      }),
    ),
    "",
  );
  return out.join("\n");
}
