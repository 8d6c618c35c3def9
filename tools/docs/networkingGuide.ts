/** docs/service_networking_guide.md: tiers, networks, the diagram, why reachability equals intent, the MQTT decision, adding a service. */
import { stringify } from "yaml";
import { CONFIG_NAMESPACE } from "../../model/config";
import { diffReachability, NetworkPlan } from "../../model/networks";
import { serviceRunning } from "../../model/lookup";
import { DOCKER_RESERVED_SUBNETS } from "../../model/reserved";
import { FlowSpec, Topology } from "../../model/types";
import { markdownTable } from "../table";
import { carryingNetwork, code, codeList, header, perStack, sameOrEach, stackColumns, yesNo } from "./common";
import { tryConfig } from "./examples";
import { DocsModel, REFERENCE_STACKS } from "./model";

const mermaidId = (text: string) => text.replace(/[^A-Za-z0-9]/g, "_");
const nodeId = (network: string, service: string) => `${mermaidId(network)}__${mermaidId(service)}`;

/** The outside parties and which published ports they use. */
function outsideEdges(t: Topology): { party: string; label: string; service: string; ports: number[] }[] {
  const edges = new Map<string, { party: string; label: string; service: string; ports: number[] }>();
  for (const s of t.services) {
    for (const p of s.ports) {
      if (p.published === undefined) continue;
      const [party, label] = p.appProtocol === "mqtts" || p.appProtocol === "mqtt" ? ["devices", "field devices"] : ["users", "users"];
      const key = `${party}|${s.name}`;
      const edge = edges.get(key) ?? { party, label, service: s.name, ports: [] };
      edge.ports.push(p.published);
      edges.set(key, edge);
    }
  }
  return [...edges.values()];
}

/** A Mermaid flowchart: one subgraph per network holding the services attached to it, one edge per declared flow. */
export function mermaidDiagram(t: Topology, plan: NetworkPlan): string {
  const lines = ["flowchart LR"];
  const outside = outsideEdges(t);
  for (const party of [...new Set(outside.map((e) => e.party))]) {
    lines.push(`  ${party}(("${outside.find((e) => e.party === party)!.label}"))`);
  }
  for (const n of plan.networks) {
    lines.push(`  subgraph ${mermaidId(n.name)}["${n.name} (${n.kind}${n.internal ? ", internal" : ""})"]`);
    for (const s of n.services) lines.push(`    ${nodeId(n.name, s)}["${s}"]`);
    lines.push("  end");
  }
  for (const e of outside) {
    const egress = plan.networks.find((n) => n.kind === "egress" && n.owner === e.service) ?? plan.networks.find((n) => n.services.includes(e.service))!;
    lines.push(`  ${e.party} -->|"${e.ports.join(", ")}"| ${nodeId(egress.name, e.service)}`);
  }
  for (const f of t.flows) {
    const n = carryingNetwork(plan, f);
    lines.push(`  ${nodeId(n, f.from)} -->|"${f.port}"| ${nodeId(n, f.to)}`);
  }
  return lines.join("\n");
}

/** How the planner carries a flow: a tier both ends belong to, or the link network of the pair. */
export function flowCarrier(t: Topology, plan: NetworkPlan, f: FlowSpec): { network: string; how: string } {
  const network = carryingNetwork(plan, f);
  const n = plan.networks.find((x) => x.name === network)!;
  if (n.kind === "link") return { network, how: "link network of the pair: the two services share no tier" };
  return { network, how: `same tier (${n.owner})` };
}

export function renderNetworkingGuide(m: DocsModel): string {
  const ref = m.prod;
  const t = ref.topology;
  const out: string[] = [
    header(
      "Service networking guide",
      "How the stack's services are grouped into tiers, which overlay networks the planner builds from the tiers and " +
        "the declared flows, why the services sharing a network are exactly the ones meant to talk, why field devices " +
        "reach the broker directly, and how to add a service.",
    ),
  ];

  out.push("## Tiers", "");
  out.push("A tier is a trust zone: its members share one overlay network and may reach each other on any port. A service may belong to several tiers.", "");
  out.push(
    markdownTable(
      ["tier", "network", "description", "members", "attachable"],
      t.tiers.map((tier) => [tier.name, code(tier.network), tier.description, t.services.filter((s) => s.tiers.includes(tier.name)).map((s) => s.name).join(", ") || "none", yesNo(tier.attachable)]),
    ),
    "",
  );

  out.push("## Declared flows", "");
  out.push("Everything else that crosses tiers is a declared flow: the client opens connections to the server's port.", "");
  out.push(
    markdownTable(
      ["client", "server", "port", "purpose", "carried by", "how"],
      t.flows.map((f) => {
        const c = flowCarrier(t, ref.plan, f);
        return [f.from, f.to, String(f.port), f.purpose, code(c.network), c.how];
      }),
    ),
    "",
  );

  out.push("## Networks", "");
  out.push(
    "Three kinds: a **tier** network per tier; a **link** network for a flow that no tier network can carry; an **egress** " +
      "network for each service that must leave the swarm (published ports or external endpoints). Every network is an overlay; " +
      "all but the egress networks are `internal` (no route out of the swarm).",
    "",
  );
  const netNames = [...new Set(REFERENCE_STACKS.flatMap((s) => m[s].plan.networks.map((n) => n.name)))];
  const net = (s: (typeof m)["dev"], name: string) => s.plan.networks.find((n) => n.name === name);
  out.push(
    markdownTable(
      ["network", "kind", "services", "internal", ...stackColumns("encrypted"), "attachable", "subnet", "description"],
      netNames.map((name) => {
        const any = net(ref, name) ?? net(m.dev, name)!;
        return [
          code(name),
          any.kind,
          sameOrEach(m, (s) => net(s, name)?.services.join(", ") ?? "absent"),
          yesNo(any.internal),
          ...perStack(m, (s) => (net(s, name) ? yesNo(net(s, name)!.encrypted) : "absent")),
          yesNo(any.attachable),
          sameOrEach(m, (s) => (net(s, name) ? code(net(s, name)!.subnet) : "absent")),
          any.description,
        ];
      }),
    ),
    "",
  );

  out.push("## Diagram", "");
  const diagrams = perStack(m, (s) => mermaidDiagram(s.topology, s.plan));
  const sameDiagram = diagrams.every((d) => d === diagrams[0]);
  const legend =
    "Each box is a network with the services attached to it (a service on several networks appears in each); each arrow is a " +
    "declared flow, drawn on the network that carries it and labelled with the server's port. Outside parties are drawn at the owner's egress network, its only non-internal network; " +
    "the published traffic itself arrives through Swarm's routing mesh (ingress mode) or the node's host port (host mode).";
  out.push(legend, "");
  if (sameDiagram) {
    out.push(`The same in ${REFERENCE_STACKS.join(" and ")}.`, "", "```mermaid", diagrams[0], "```", "");
  } else {
    REFERENCE_STACKS.forEach((s, i) => out.push(`### ${s}`, "", "```mermaid", diagrams[i], "```", ""));
  }

  out.push("## Reachability equals intent", "");
  out.push(
    "Two services can open connections to each other exactly when they share a network. The planner (`planNetworks` in " +
      "`model/networks.ts`) builds the networks so that this relation equals the declared intent: two services share a " +
      "network if and only if they share a tier or a flow connects them (either way). It proceeds in three steps:",
    "",
    "1. **Tier networks.** One network per tier, joined by the tier's members and nobody else.",
    "2. **Flows.** A flow between two services of one tier needs nothing. The flows between two services that share no " +
      "tier ride one two-member **link** network for the pair, `iot-link-<a>_<b>` (`_` cannot occur in a service name, so " +
      "no two pairs share a name; a name longer than Docker's 63 characters ends in a hash of the whole name).",
    "3. **Egress networks.** A service with published ports or external endpoints gets a network of its own, the only kind that is " +
      "not `internal` (Docker routes out of the swarm only through non-internal networks). It has one member, so it adds no peer.",
    "",
    "Each network depends only on what it carries, and the plan depends on sets, never on the order of config lists: " +
      "listing tiers, services or flows in another order changes no resource, and a new flow adds at most its pair's link " +
      "network and re-members only its two services. Subnets follow the same rule: each is a function of the network's " +
      "name alone, tier and egress networks in the first half of `subnetPool` (`subnetPrefixLength`) and link networks " +
      "in the second (`linkSubnetPrefixLength`). A subnet change replaces a network and every service on it, so the planner " +
      "never moves one: two networks landing on one subnet is a config error naming both, with a free subnet to pin under " +
      "`subnets` for the one not deployed yet.",
    "",
    "The reachability computed from the planned memberships is compared with the intent, and so is the reachability the stack exports and `npm run plan` judges, which comes from the registered resources alone (services attached to a network of the same id), so two planned networks that became one Docker network would show as extra pairs; the tests fail on any difference. For the reference stacks:",
    "",
  );
  for (const name of REFERENCE_STACKS) {
    const d = diffReachability(m[name].plan.reachability, m[name].plan.intent);
    out.push(
      `- **${name}**: ` +
        (d.extra.length === 0 && d.missing.length === 0
          ? `reachability equals intent (${Object.values(m[name].plan.reachability).reduce((n, peers) => n + peers.length, 0) / 2} pairs).`
          : `differs: extra ${d.extra.join(", ") || "none"}; missing ${d.missing.join(", ") || "none"}.`),
    );
  }
  out.push("", "Who can reach whom (X: shares a network):", "");
  const names = t.services.map((s) => s.name);
  out.push(markdownTable(["", ...names], names.map((a) => [a, ...names.map((b) => (a === b ? "·" : ref.plan.reachability[a].includes(b) ? "X" : ""))])), "");
  out.push(
    "This is also what makes DNS safe to rely on: Docker's DNS answers a name only on networks the asker shares with the " +
      "service, so an undeclared peer cannot even resolve the name.",
    "",
  );

  out.push("## Addresses and encryption", "");
  out.push(
    `Subnets come from the pool (${perStack(m, (s) => `${s.stack}: ${code(`${s.topology.subnetPool}`)} in /${s.topology.subnetPrefixLength}s`).join("; ")}). ` +
      "Each network hashes to a slot in the pool and probes forward on collision, so adding or removing a network never " +
      "renumbers the others (changing a subnet replaces a Docker network, which fails while services are attached).",
    "",
    `The pool must not overlap ${DOCKER_RESERVED_SUBNETS.map((r) => `${code(r.cidr)} (${r.use})`).join(", ")}, nor the site's own subnets ` +
      `(\`lanSubnets\`: ${perStack(m, (s) => `${s.stack} ${codeList(s.config.lanSubnets)}`).join("; ")}); an overlap is rejected before deploy.`,
    "",
    `Overlay encryption (IPsec on the data plane): ${perStack(m, (s) => `${s.stack} ${s.topology.encryptOverlays ? "on" : "off"}`).join(", ")}. ` +
      "A single-node dev swarm sends no overlay traffic between hosts; a multi-node prod swarm does, so there it is on.",
    "",
  );

  out.push(renderMqttDecision(m));
  out.push(renderAddService(m));
  return out.join("\n");
}

function renderMqttDecision(m: DocsModel): string {
  const t = m.prod.topology;
  const broker = serviceRunning(t, "mosquitto");
  const mqtts = broker?.ports.find((p) => p.appProtocol === "mqtts");
  const gateway = serviceRunning(t, "haproxy");
  const gatewayPorts = gateway?.ports.filter((p) => p.published !== undefined).map((p) => p.published!) ?? [];
  return [
    "## Why field devices reach the broker directly",
    "",
    `Field devices connect to Mosquitto's published port ${mqtts?.published ?? 8883} (${sameOrEach(m, (s) => code(s.topology.tls.mqttHostname))}), ` +
      `not through the gateway (which publishes ${gatewayPorts.join(" and ")} for users).`,
    "",
    `- **mTLS must end at the broker.** The broker requires a client certificate (\`require_certificate ${t.mqtt.requireClientCertificate}\`) and ` +
      "uses its common name as the MQTT user name (`use_identity_as_username`), which is what the topic ACL matches. " +
      "Only the process that terminates TLS sees the client certificate; if the gateway terminated TLS, the broker would see the gateway, not the device.",
    "- **Passthrough adds a hop, not control.** HAProxy could pass TLS through in TCP mode, but then it cannot read or filter MQTT; " +
      "it would only be one more process to run, patch and keep available on the device path.",
    "- **The broker needs the device's address.** Through a proxy every connection would come from the gateway, hiding client " +
      "addresses from the broker's connection log (`connection_messages true`) and from any per-client limit.",
    "",
    `Everything else about the broker stays closed: the plaintext listener binds the container's loopback only, and in-swarm clients ` +
      `(${t.flows.filter((f) => f.to === broker?.name).map((f) => f.from).join(", ")}) reach it over internal networks with their own client certificates.`,
    "",
  ].join("\n");
}

function renderAddService(m: DocsModel): string {
  const dev = m.dev;
  const example = {
    services: {
      alerter: {
        image: "ghcr.io/example/alerter:1.4.2",
        tiers: ["messaging"],
        role: "notifier",
        ports: [{ name: "http", port: 8090, appProtocol: "http", purpose: "Alert webhook and /healthz" }],
        health: { test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8090/healthz"], httpPath: "/healthz", portName: "http" },
      },
    },
    flows: ["alerter -> influxdb:8086", "gateway -> alerter:8090"],
    routes: [{ subdomain: "alerts", service: "alerter", port: 8090, admin: true, purpose: "Alert rules UI" }],
  };
  const result = tryConfig(dev, example);
  const out: string[] = [
    "## How to add a service",
    "",
    "Everything is stack config under the `iot-swarm-net:` namespace; the reference catalog (`model/catalog.ts`) holds the built-in services.",
    "",
    "1. **The service**: `services.<name>` with `image` (pinned by tag or digest, never `latest`), `tiers` (the tiers it belongs to), " +
      "`role`, `ports` (each `name`, `port`, `appProtocol`, `purpose`, optionally `published`) and `health` (a `test` command, and " +
      "`httpPath` + `portName` when it serves an HTTP health endpoint). Optional: `replicas`, `aliases`, `placement`, `resources`, `env` " +
      "(secrets only as `*_FILE` paths), `externalEndpoints`.",
    "2. **Its flows**: `flows`, each `\"client -> server:port\"`, for every connection that crosses tiers. Same-tier peers need no flow.",
    "3. **Routes** (optional): `routes`, each `{subdomain, service, port, admin}`, to serve it through the gateway at `<subdomain>.<domain>`; " +
      "`port` is one of the service's `http` ports, each subdomain is served once, and the route needs a " +
      "`gateway -> <service>:<port>` flow. Routes to the Node-RED editor or the InfluxDB UI stay `admin: true` unless they also set " +
      "`publicAdminUi: true`. A new tier goes under `tiers` (`{name, description}`).",
    "4. **Review**: `npm run plan -- --stack <stack>` prints the networks, the reachability matrix against the intent, published ports " +
      "and discovery names; `npm run policy -- --stack <stack>` runs the policy pack on the same resources. A config error names its key.",
    "5. **Regenerate the docs**: `npm run docs`.",
    "",
    "For example, an alerting service in the messaging tier that reads InfluxDB and has an admin-only route:",
    "",
    "```yaml",
    stringify({ config: Object.fromEntries(Object.entries(example).map(([k, v]) => [`${CONFIG_NAMESPACE}:${k}`, v])) }).trimEnd(),
    "```",
    "",
  ];
  if (result.model) {
    const plan = result.model.plan;
    const before = new Set(dev.plan.networks.map((n) => n.name));
    const t = result.model.topology;
    const added = plan.networks.filter((n) => !before.has(n.name));
    out.push(
      `What the planner makes of it on the ${dev.stack} stack: \`alerter\` joins ${codeList(plan.attachments["alerter"])}; ` +
        `it can reach ${plan.reachability["alerter"].join(", ") || "nothing"}; ` +
        (added.length > 0 ? `new networks: ${added.map((n) => `${code(n.name)} (${n.kind})`).join(", ")}; ` : "no new network; ") +
        `reachability ${diffReachability(plan.reachability, plan.intent).extra.length === 0 ? "still equals" : "differs from"} intent.`,
      "",
      ...t.flows.filter((f) => f.from === "alerter" || f.to === "alerter").map((f) => {
        const c = flowCarrier(t, plan, f);
        return `- ${f.from} -> ${f.to}:${f.port}: ${code(c.network)}, ${c.how}.`;
      }),
      "",
    );
    const moved = dev.topology.services
      .map((x) => x.name)
      .filter((x) => x !== "alerter" && JSON.stringify(dev.plan.attachments[x]) !== JSON.stringify(plan.attachments[x]));
    out.push(
      `Services whose networks change: ${["alerter", ...moved].map(code).join(", ")} (the new service and the ends of its ` +
        "new flows); every other service and network stays as it was.",
      "",
    );
  } else {
    out.push("The validation currently rejects this example:", "", "```text", result.error ?? "", "```", "");
  }
  return out.join("\n");
}
