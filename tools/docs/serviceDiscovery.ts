/** docs/service-discovery.md: DNS names, aliases, `tasks.*`, endpoints, health URLs and how the gateway and Prometheus find tasks. */
import { parse } from "yaml";
import { discoveryTable, endpoints } from "../../model/discovery";
import { planCertificates } from "../../model/pki";
import { singlePointsOfFailure } from "../../model/resilience";
import { GATEWAY_START, GATEWAY_START_WAIT_SECONDS } from "../../model/render/gatewayStart";
import { renderHaproxyConfig, SERVER_SLOTS } from "../../model/render/haproxy";
import { renderPrometheusConfig } from "../../model/render/prometheus";
import { markdownTable } from "../table";
import { code, codeList, header, perStack, sameOrEach, stackColumns } from "./common";
import { DocsModel } from "./model";

export function renderServiceDiscovery(m: DocsModel): string {
  const ref = m.prod;
  const out: string[] = [
    header(
      "Service discovery",
      "How services find each other on the stack's overlay networks: the DNS names each service answers to, " +
        "what they resolve to, the addresses and health endpoints of every service, and how the gateway and " +
        "Prometheus discover individual tasks.",
    ),
  ];

  const example = ref.topology.services.find((s) => s.aliases.length > 0);
  out.push("## How names resolve", "");
  out.push(
    "Every container asks Docker's embedded DNS server at `127.0.0.11`. It answers only for services that share a " +
      "network with the asking container, so a name resolving is itself a sign that the two services are meant to talk " +
      "(see the networking guide: networks are planned so that sharing one equals a declared tier or flow).",
    "",
    `- **Service name and aliases** (${codeList(example ? [example.name, ...example.aliases] : ["<service>"])}): with endpoint mode \`vip\` they resolve to one virtual IP that ` +
      "Swarm load-balances over the healthy tasks; with `dnsrr` they resolve to every task's address (DNS round-robin). " +
      "Aliases are set on every network the service joins.",
    "- **`tasks.<service>`** resolves to the address of every running task, whatever the endpoint mode. The gateway and " +
      "Prometheus use it so that they see, check and balance each task themselves.",
    "- A task with a health check joins its service's VIP only once it is healthy; DNS round-robin and `tasks.<service>` " +
      "entries can appear earlier, so the gateway health-checks every server it discovers (`check`) and keeps failing ones out of rotation.",
    "- Services with published ports in `ingress` mode use `vip` (the routing mesh needs it); everything else uses `dnsrr`, " +
      "which also works on hosts without IPVS.",
    "",
  );

  out.push("## Names", "");
  const disc = Object.fromEntries(perStack(m, (s) => [s.stack, discoveryTable(s.topology, s.plan)] as const));
  out.push(
    markdownTable(
      ["service", "DNS names", "all tasks", ...stackColumns("endpoint mode"), ...stackColumns("replicas"), "networks", "resolvable from"],
      ref.topology.services.map((s) => {
        const entry = (stack: string) => disc[stack].find((d) => d.service === s.name);
        return [
          s.name,
          codeList(entry("prod")!.dnsNames),
          code(entry("prod")!.tasksName),
          ...perStack(m, (st) => entry(st.stack)?.endpointMode ?? "–"),
          ...perStack(m, (st) => String(entry(st.stack)?.replicas ?? "–")),
          sameOrEach(m, (st) => codeList(entry(st.stack)?.networks ?? [])),
          sameOrEach(m, (st) => (st.plan.reachability[s.name] ?? []).join(", ") || "none"),
        ];
      }),
    ),
    "",
  );

  out.push("## Endpoints", "");
  out.push("Addresses inside the swarm work from any service that shares a network with the target; external addresses go through the published ports.", "");
  const eps = Object.fromEntries(perStack(m, (s) => [s.stack, endpoints(s.topology)] as const));
  out.push(
    markdownTable(
      ["service", "inside the swarm", ...stackColumns("from outside")],
      ref.topology.services.map((s) => [s.name, codeList(eps.prod[s.name].internal), ...perStack(m, (st) => codeList(eps[st.stack][s.name]?.external ?? [], "–"))]),
    ),
    "",
  );

  out.push("## Health endpoints", "");
  out.push(
    "Swarm runs each health check inside the task; the HTTP ones are also what the gateway's active checks and operators probe. " +
      "A service without an HTTP health endpoint is checked by a command.",
    "",
  );
  out.push(
    markdownTable(
      ["service", "health URL or command", "interval", "timeout", "retries", "start period"],
      ref.topology.services.map((s) => {
        const d = disc.prod.find((x) => x.service === s.name)!;
        return [
          s.name,
          d.healthUrl ? code(d.healthUrl) : code(s.health.test.slice(1).join(" ")),
          `${s.health.intervalSeconds}s`,
          `${s.health.timeoutSeconds}s`,
          String(s.health.retries),
          `${s.health.startPeriodSeconds}s`,
        ];
      }),
    ),
    "",
  );

  out.push("## Gateway routes and task discovery", "");
  out.push(
    "The HAProxy gateway routes by host name and resolves `tasks.<service>` through Docker's DNS " +
      `(\`resolvers docker\`, \`127.0.0.11:53\`) into up to ${SERVER_SLOTS} server slots per backend, re-resolving every few seconds. ` +
      "Each server is health-checked on the service's health path; a task failing two checks leaves the rotation, " +
      "and a request that hits a dying task is retried on another one (`retries 3`, `option redispatch`). " +
      "Admin routes answer 403 to sources outside the admin CIDRs.",
    "",
    `A gateway replica that starts listens only once each routed service answers that same health check from it, ` +
      `or after ${GATEWAY_START_WAIT_SECONDS} s without the ones that did not (\`${GATEWAY_START}\`, in its log): ` +
      "until then its published port refuses connections, so clients use another node's replica, and its own health " +
      "check fails, so the routing mesh sends it nothing. A replica on a node whose overlay does not reach the " +
      "backends yet would otherwise answer every request with 503.",
    "",
  );
  out.push(
    markdownTable(
      [...stackColumns("host"), "backend", "discovered through", "health check", "admin only", ...stackColumns("allowed sources"), "purpose"],
      ref.topology.routes.map((r) => {
        const health = ref.topology.services.find((s) => s.name === r.service)?.health.httpPath ?? "/";
        return [
          ...perStack(m, (st) => code(`${r.subdomain}.${st.topology.domain}`)),
          `${r.service}:${r.port}`,
          code(`tasks.${r.service}:${r.port}`),
          code(`GET ${health}`),
          r.admin ? "yes" : "no",
          ...perStack(m, (st) => (r.admin ? codeList(st.topology.adminCidrs) : "any")),
          r.purpose,
        ];
      }),
    ),
    "",
  );
  const templates = renderHaproxyConfig(ref.topology).split("\n").filter((l) => l.trim().startsWith("server-template"));
  out.push("The generated backend servers (`model/render/haproxy.ts`):", "", "```haproxy", ...templates.map((l) => l.trim()), "```", "");

  out.push("## Prometheus targets", "");
  const prom = parse(renderPrometheusConfig(ref.topology)) as { scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[]; static_configs?: { targets: string[] }[] }[] };
  out.push(
    "Prometheus finds every task of each scraped service with a DNS service-discovery query (type A) on `tasks.<service>`, so each replica is scraped on its own:",
    "",
  );
  out.push(
    markdownTable(
      ["job", "names queried", "port"],
      prom.scrape_configs.map((j) => [
        j.job_name,
        codeList(j.dns_sd_configs?.flatMap((d) => d.names) ?? j.static_configs?.flatMap((c) => c.targets) ?? []),
        String(j.dns_sd_configs?.[0]?.port ?? "(static)"),
      ]),
    ),
    "",
  );

  out.push("## Single points of failure in prod", "");
  out.push(
    "Services that run one task stop while it restarts or moves, and a service whose volumes live on one node " +
      "stops with that node (it is pinned there: `npm run plan` lists the pins under _Placement_). What would remove each:",
    "",
    markdownTable(
      ["service", "why", "what would remove it"],
      singlePointsOfFailure(ref.topology).map((p) => [p.service, p.why, p.remedy]),
    ),
    "",
  );

  out.push("## Names in certificates", "");
  out.push(
    "TLS clients check the name they connect to against the server certificate, so every name a client may use is in its SANs. " +
      "Field devices use the external MQTT host name; in-swarm clients use the service name or an alias.",
    "",
  );
  const certs = Object.fromEntries(perStack(m, (s) => [s.stack, planCertificates(s.topology)] as const));
  out.push(
    markdownTable(
      ["certificate", "usage", ...stackColumns("common name"), ...stackColumns("DNS names")],
      certs.prod.map((c) => [
        c.name,
        c.usage,
        ...perStack(m, (st) => code(certs[st.stack].find((x) => x.name === c.name)?.commonName ?? "–")),
        ...perStack(m, (st) => codeList(certs[st.stack].find((x) => x.name === c.name)?.dnsNames ?? [], "–")),
      ]),
    ),
    "",
  );
  out.push(
    `MQTT client certificates carry the client's name as common name; the broker maps it to the ACL user (\`use_identity_as_username\`). ` +
      `Clients with certificates: ${sameOrEach(m, (st) => codeList(st.topology.tls.mqttClients))}.`,
    "",
  );
  return out.join("\n");
}
