/** docs/port-management.md: every port, who may reach it, reserved ports and how conflicts are resolved. */
import { renderMosquittoConfig } from "../../model/render/mosquitto";
import { CAPROVER_RESERVED_PORTS, reservedPorts, suggestFreePort, SWARM_RESERVED_PORTS } from "../../model/reserved";
import { markdownTable } from "../table";
import { code, header, perStack, portAccess, sameOrEach, stackColumns, whoMayConnect } from "./common";
import { tryConfig } from "./examples";
import { DocsModel, REFERENCE_STACKS } from "./model";

/** Transport protocols of Swarm's own ports (the model keys them by number only). */
const SWARM_PORT_PROTOCOLS: Readonly<Record<number, string>> = { 2377: "tcp", 7946: "tcp, udp", 4789: "udp" };

const dash = "–";

export function renderPortManagement(m: DocsModel): string {
  const out: string[] = [
    header(
      "Port management",
      "Every port the stack's services listen on, which of them are published outside the swarm, who may " +
        "connect to each, the host ports the stack must never take, and how a port conflict is caught before deploy.",
    ),
  ];
  const ref = m.prod.topology;

  // Published ports, keyed by service and port name across stacks.
  out.push("## Published ports", "");
  out.push(
    "Only these ports are reachable from outside the swarm. Every other port listens on `internal` overlay " +
      "networks and is reachable only by the services listed under *Who may connect*.",
    "",
  );
  const publishedKeys = new Map<string, { service: string; port: string }>();
  for (const name of REFERENCE_STACKS) {
    for (const s of m[name].topology.services) for (const p of s.ports) if (p.published !== undefined) publishedKeys.set(`${s.name}/${p.name}`, { service: s.name, port: p.name });
  }
  const publishedRows = [...publishedKeys.values()].map(({ service, port }) => {
    const spec = (name: (typeof REFERENCE_STACKS)[number]) => m[name].topology.services.find((s) => s.name === service)?.ports.find((p) => p.name === port);
    const any = spec("prod") ?? spec("dev")!;
    return [
      ...perStack(m, (s) => {
        const p = spec(s.stack);
        return p?.published !== undefined ? `${p.published}/${p.protocol}` : "not published";
      }),
      service,
      `${any.port}/${any.protocol} (${any.name})`,
      ...perStack(m, (s) => s.topology.publishMode),
      sameOrEach(m, (s) => {
        const p = spec(s.stack);
        return p?.published !== undefined ? whoMayConnect(portAccess(s.topology, s.plan, s.topology.services.find((x) => x.name === service)!, p)) : dash;
      }),
      any.purpose,
    ];
  });
  out.push(markdownTable([...stackColumns("host port"), "service", "container port", ...stackColumns("publish mode"), "who may connect", "purpose"], publishedRows), "");
  out.push(
    "In `ingress` mode the routing mesh accepts the port on every node and forwards it to a task over the " +
      "`ingress` network; the service needs a VIP endpoint for that. In `host` mode the port is bound only on " +
      "nodes running a task, the service switches to DNS round-robin, and updates stop the old task before " +
      "starting the new one (the port cannot be bound twice).",
    "",
  );
  out.push(
    `The broker's certificate name for devices: ${perStack(m, (s) => `${s.stack} ${code(s.topology.tls.mqttHostname)}`).join(", ")}. ` +
      `Gateway host names: ${perStack(m, (s) => `${s.stack} ${s.topology.routes.map((r) => code(`${r.subdomain}.${s.topology.domain}`)).join(", ")}`).join("; ")}.`,
    "",
  );

  // Every port.
  out.push("## Every port", "");
  out.push(
    "*Networks* are the overlays on which the port is reached: the network carrying each declared flow to it, " +
      "the service's tier networks when it has tier peers, and the routing mesh or host port when published. " +
      "*Who may connect* lists the declared flows to that port, the same-tier peers (a tier is a trust zone: its " +
      "members share a network and may reach each other's ports), and, for published ports, the party outside the swarm.",
    "",
    "Segmentation works per pair of services, not per port: a service that may reach another can open any port it listens on " +
      "over their shared network. Ports are narrowed further by where a process listens (a listener bound to loopback is reachable " +
      "from no network) and by the services' own authentication (client certificates on the broker, passwords on Redis, NATS " +
      "and InfluxDB's v1 API).",
    "",
  );
  const rows = ref.services.flatMap((s) =>
    s.ports.map((p) => [
      s.name,
      code(p.name),
      `${p.port}/${p.protocol}`,
      p.appProtocol,
      ...perStack(m, (st) => {
        const q = st.topology.services.find((x) => x.name === s.name)?.ports.find((x) => x.name === p.name);
        return q?.published !== undefined ? String(q.published) : dash;
      }),
      sameOrEach(m, (st) => {
        const svc = st.topology.services.find((x) => x.name === s.name);
        const q = svc?.ports.find((x) => x.name === p.name);
        if (!svc || !q) return dash;
        const access = portAccess(st.topology, st.plan, svc, q);
        return [...access.networks.map((n) => code(n)), ...(access.entry ? [access.entry] : [])].join(", ") || dash;
      }),
      sameOrEach(m, (st) => {
        const svc = st.topology.services.find((x) => x.name === s.name);
        const q = svc?.ports.find((x) => x.name === p.name);
        return svc && q ? whoMayConnect(portAccess(st.topology, st.plan, svc, q)) : dash;
      }),
      p.purpose,
    ]),
  );
  out.push(markdownTable(["service", "port", "container port", "speaks", ...stackColumns("published"), "networks", "who may connect", "purpose"], rows), "");

  const loopback = [...renderMosquittoConfig(ref).matchAll(/^listener (\d+) 127\.0\.0\.1$/gm)].map((x) => Number(x[1]));
  if (loopback.length > 0) {
    out.push(
      `Not in the table: Mosquitto also listens on ${loopback.map((p) => code(`127.0.0.1:${p}`)).join(", ")} inside its own ` +
        "container, for its health check only; no network reaches it and plaintext MQTT is never published.",
      "",
    );
  }
  out.push(
    "Container ports only have to be unique within a service: every service has its own address on each " +
      "overlay, so two services may both listen on the same port. Host ports are shared by the whole node " +
      "(and, in ingress mode, the whole swarm), which is why only they can conflict.",
    "",
  );

  // Reserved ports.
  out.push("## Reserved ports", "");
  out.push("No service may publish these host ports. Swarm itself uses them between nodes; firewalls between nodes must let them through.", "");
  out.push(
    markdownTable(
      ["port", "protocol", "reserved for", ...stackColumns("reserved")],
      [...SWARM_RESERVED_PORTS].sort((a, b) => a[0] - b[0]).map(([port, reason]) => [String(port), SWARM_PORT_PROTOCOLS[port] ?? "tcp", reason, ...perStack(m, () => "always")]),
    ),
    "",
  );
  out.push(
    `Encrypted overlays (${perStack(m, (s) => `${s.stack}: ${s.topology.encryptOverlays ? "on" : "off"}`).join(", ")}) also need IPsec ESP ` +
      "(IP protocol 50) to pass between nodes.",
    "",
  );
  out.push("When the swarm shares its hosts with CapRover (`caproverCoexistence: true`), CapRover keeps these as well:", "");
  out.push(
    markdownTable(
      ["port", "protocol", "reserved for", ...stackColumns("reserved")],
      [...CAPROVER_RESERVED_PORTS].sort((a, b) => a[0] - b[0]).map(([port, reason]) => [String(port), "tcp", reason, ...perStack(m, (s) => (s.topology.caproverCoexistence ? "yes" : "no (caproverCoexistence: false)"))]),
    ),
    "",
  );

  out.push(renderConflicts(m));
  return out.join("\n");
}

function renderConflicts(m: DocsModel): string {
  const dev = m.dev;
  const out: string[] = ["## How conflicts are resolved", ""];
  out.push(
    "Host ports are checked in `model/validateServices.ts` (`checkPublishedPorts`, run by `resolveTopology`) while the stack config is read, before any " +
      "resource exists; `pulumi up`, `npm run plan` and `npm run policy` all stop on the same errors. Every problem is " +
      "reported at once, each naming the config key to change. Nothing is remapped silently: the error proposes a " +
      "free port and the operator sets it with `services.<name>.publish.<port name>` (`null` unpublishes a port).",
    "",
    "The rules:",
    "",
    `1. **Reserved ports.** A published port in the reserved set (Swarm's ${[...SWARM_RESERVED_PORTS.keys()].join(", ")}, plus CapRover's ` +
      `${[...CAPROVER_RESERVED_PORTS.keys()].join(", ")} when \`caproverCoexistence\` is on) is rejected.`,
    "2. **Duplicate host ports.** Two ports published on the same host port and protocol are rejected; the message names both services.",
    "3. **Plaintext MQTT.** A port speaking plain `mqtt` is never published; the TLS listener (8883) is.",
    "4. **Endpoint mode.** A published port in `ingress` mode needs a VIP; a service set to `dnsrr` must switch to `host` publishing.",
    "",
    "The suggested port comes from `suggestFreePort`: for a privileged port (below 1024) it starts at 8000 + the port, " +
      "otherwise at the next port up, and takes the first port that no service of the stack publishes and that is not " +
      "reserved (wrapping to 1024 if it runs off the end).",
    "",
  );

  // suggestFreePort on the real published ports of each stack.
  const wanted = [80, 443, 3000, 8883];
  out.push("Suggestions the function gives today for a new service wanting a host port already taken or reserved:", "");
  const used = (s: DocsModel["dev"]) => new Set(s.topology.services.flatMap((x) => x.ports.flatMap((p) => (p.published !== undefined ? [p.published] : []))));
  const columns = [
    ...perStack(m, (s) => ({ label: `suggested (${s.stack})`, suggest: (w: number) => suggestFreePort(w, new Set([...used(s), w]), reservedPorts(s.topology.caproverCoexistence)) })),
    ...perStack(m, (s) => ({ label: `suggested (${s.stack} with CapRover)`, suggest: (w: number) => suggestFreePort(w, new Set([...used(s), w]), reservedPorts(true)) })),
  ];
  const cells = wanted.map((w) => columns.map((c) => String(c.suggest(w))));
  const allSame = cells.every((row) => row.every((c) => c === row[0]));
  out.push(
    allSame
      ? markdownTable(["wanted", "suggested (dev and prod, with or without CapRover)"], wanted.map((w, i) => [String(w), cells[i][0]]))
      : markdownTable(["wanted", ...columns.map((c) => c.label)], wanted.map((w, i) => [String(w), ...cells[i]])),
    "",
  );

  const examples: { title: string; changes: Record<string, unknown> }[] = [
    { title: "A second service wants 443", changes: { services: { grafana: { publish: { http: 443 } } } } },
    { title: "A port on Swarm's reserved list", changes: { services: { mosquitto: { publish: { mqtts: 7946 } } } } },
    { title: "Sharing hosts with CapRover", changes: { caproverCoexistence: true } },
    {
      title: "Publishing plaintext MQTT",
      changes: {
        services: {
          mosquitto: {
            ports: [
              { name: "mqtts", port: 8883, appProtocol: "mqtts", purpose: "MQTT over TLS", published: 8883 },
              { name: "mqtt", port: 1883, appProtocol: "mqtt", purpose: "Plain MQTT", published: 1883 },
            ],
          },
        },
      },
    },
    { title: "DNS round-robin with an ingress-published port", changes: { services: { gateway: { endpointMode: "dnsrr" } } } },
  ];
  out.push(`Each example below is the ${dev.stack} stack with one change, and the exact output of the validation for it:`, "");
  for (const ex of examples) {
    const result = tryConfig(dev, ex.changes);
    out.push(`### ${ex.title}`, "", "```yaml", result.yaml, "```", "", "```text", result.error ?? "(accepted)", "```", "");
  }
  const fixed = tryConfig(dev, { services: { grafana: { publish: { http: suggestFreePortFor(dev, 443) } } } });
  out.push(
    `Taking the suggestion (${code(`publish: { http: ${suggestFreePortFor(dev, 443)} }`)}) resolves the conflict: ` +
      (fixed.error ? `the validation still reports:\n\n\`\`\`text\n${fixed.error}\n\`\`\`` : "the config is accepted."),
    "",
  );
  return out.join("\n");
}

function suggestFreePortFor(s: DocsModel["dev"], wanted: number): number {
  const used = new Set(s.topology.services.flatMap((x) => x.ports.flatMap((p) => (p.published !== undefined ? [p.published] : []))));
  return suggestFreePort(wanted, used, reservedPorts(s.topology.caproverCoexistence));
}
