/**
 * Network rules: reachability equals declared intent, no host or default-bridge networking, internal
 * tier networks, overlay-only networks in a swarm stack, and attachable networks only where allowed.
 */
import * as docker from "@pulumi/docker";
import {
  PolicyConfigSchema,
  ResourceValidationPolicy,
  StackValidationPolicy,
  validateResourceOfType,
} from "@pulumi/policy";
import { mapsTo } from "./lib/catalog";
import { configOf, integerList, stringList } from "./lib/config";
import { FLOW_PATTERN, parseFlow } from "./lib/flows";
import { haproxySections, isHaproxyConfig, openSourceAcls, unguardedAdminRoutes } from "./lib/haproxy";
import { describeConfig, forServiceConfigs } from "./lib/serviceConfigs";
import { buildStackGraph, WorkloadNode } from "./lib/stack";
import { at, bool, isKnown, labelsOf, str, UNKNOWN } from "./lib/values";
import { describe, forWorkloads, LABEL, TYPES } from "./lib/workloads";

const segmentationSchema: PolicyConfigSchema = {
  properties: {
    tiers: {
      type: "object",
      additionalProperties: { type: "array", items: { type: "string" } },
      default: {},
      description:
        "Tier name -> names (logical or Docker) of its member services and containers; added to the iot.tiers labels.",
    },
    allowedFlows: {
      type: "array",
      items: { type: "string", pattern: FLOW_PATTERN.source },
      default: [],
      description: 'Declared flows "client -> server:port" (or "client -> server"); added to the iot.flows labels.',
    },
    useLabels: {
      type: "boolean",
      default: true,
      description:
        "Take tiers and flows from the iot.tiers and iot.flows labels of the workloads as well as from this config.",
    },
    externalNetworks: stringList(
      "Networks outside the stack (by name or id) that workloads may join; their other members cannot be checked.",
      [],
    ),
  },
};

interface SegmentationConfig {
  tiers: Record<string, string[]>;
  allowedFlows: string[];
  useLabels: boolean;
  externalNetworks: string[];
}

const pairKey = (a: string, b: string) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);

export const enforceDeclaredSegmentation: StackValidationPolicy = {
  name: "enforce-declared-segmentation",
  description: "Every pair of workloads that share a network must share a tier or have a declared flow between them.",
  severity: "critical",
  remediationSteps:
    "Detach one of the two workloads from the shared network, or declare the flow: add it to the client's iot.flows label " +
    "(in iot-swarm-net, a flow in stack config) or to this policy's allowedFlows, or put both in one tier (iot.tiers label or tiers config).",
  ...mapsTo("network", {
    cis: ["2.2", "7.9"],
    beyond:
      "KICS and CIS only check that a network is set; this rule checks that reachability equals declared intent (the Swarm analogue of Checkov CKV2_K8S_6).",
  }),
  configSchema: segmentationSchema,
  validateStack: (args, reportViolation) => {
    const config = configOf<SegmentationConfig>(segmentationSchema, args);
    const graph = buildStackGraph(args.resources);
    // The config may name a workload by its Docker name; labels and the pack use its logical name.
    const logical = new Map(graph.workloads.map((w) => [w.view.dockerName, w.view.name]));
    const nameOf = (name: string) => logical.get(name) ?? name;
    const configTiers = new Map<string, Set<string>>();
    for (const [tier, members] of Object.entries(config.tiers)) {
      for (const member of members.map(nameOf)) {
        if (!configTiers.has(member)) configTiers.set(member, new Set());
        configTiers.get(member)!.add(tier);
      }
    }
    const tiersOf = (w: WorkloadNode) =>
      new Set([...(config.useLabels ? w.view.tiers : []), ...(configTiers.get(w.view.name) ?? [])]);
    const flows = new Set<string>();
    for (const text of config.allowedFlows) {
      const flow = parseFlow(text);
      if (flow) flows.add(pairKey(nameOf(flow.from), nameOf(flow.to)));
    }
    if (config.useLabels)
      for (const w of graph.workloads) for (const f of w.view.flows) flows.add(pairKey(w.view.name, f.server));
    const allowed = (a: WorkloadNode, b: WorkloadNode) => {
      if (a.view.name === b.view.name) return true;
      const tiersB = tiersOf(b);
      for (const tier of tiersOf(a)) if (tiersB.has(tier)) return true;
      return flows.has(pairKey(a.view.name, b.view.name));
    };

    // Members of each network; the default bridge counts as one shared network.
    const members = new Map<string, { label: string; workloads: WorkloadNode[] }>();
    const join = (key: string, label: string, w: WorkloadNode) => {
      if (!members.has(key)) members.set(key, { label, workloads: [] });
      members.get(key)!.workloads.push(w);
    };
    for (const w of graph.workloads) {
      for (const n of w.networks) join(n.resource.urn, `"${n.name}"`, w);
      if (w.builtins.includes("bridge")) join("builtin:bridge", "the default bridge", w);
      for (const ref of w.external) {
        if (config.externalNetworks.includes(ref)) continue;
        reportViolation(
          `${describe(w.view)} joins network "${ref}", which this stack does not declare, so its other members cannot be checked; ` +
            "declare the network in the stack or list it in externalNetworks",
          w.resource.urn,
        );
      }
      if (w.unresolved > 0) {
        reportViolation(
          `${describe(w.view)} joins ${w.unresolved} network(s) whose id is unknown and that it does not depend on, so its peers cannot be checked`,
          w.resource.urn,
        );
      }
    }
    const reported = new Map<string, { a: WorkloadNode; b: WorkloadNode; networks: string[] }>();
    for (const { label, workloads } of members.values()) {
      for (let i = 0; i < workloads.length; i++) {
        for (let j = i + 1; j < workloads.length; j++) {
          const [a, b] = [workloads[i], workloads[j]];
          if (a === b || allowed(a, b)) continue;
          const key = pairKey(a.resource.urn, b.resource.urn);
          const entry = reported.get(key) ?? { a, b, networks: [] };
          entry.networks.push(label);
          reported.set(key, entry);
        }
      }
    }
    for (const { a, b, networks } of reported.values()) {
      reportViolation(
        `${describe(a.view)} and ${describe(b.view)} can reach each other on ${networks.join(", ")} but share no tier and have no declared flow ` +
          `(between ${a.resource.urn} and ${b.resource.urn})`,
        a.resource.urn,
      );
    }
  },
};

export const disallowHostAndDefaultBridgeNetworks: ResourceValidationPolicy = {
  name: "disallow-host-and-default-bridge-networks",
  description:
    "Services and containers must not join the host network, another container's network namespace, or Docker's default bridge.",
  severity: "critical",
  remediationSteps:
    "Attach the workload to the stack's own overlay networks (by network id) and remove `host` / `bridge` from its networks; " +
    "for a container set networkMode to one of its own networks.",
  ...mapsTo("network", {
    cis: ["5.10", "5.30"],
    kics: ["071a71ff-f868-47a4-ac0b-3c59e4ab5443", "ce14a68b-1668-41a0-ab7d-facd9f784742"],
  }),
  validateResource: forWorkloads((w, _args, reportViolation) => {
    const refs = w.networks === UNKNOWN ? [] : w.networks.map((n) => n.ref).filter(isKnown);
    if (w.kind === "container" && isKnown(w.networkMode)) refs.push(w.networkMode);
    const seen = new Set<string>();
    for (const ref of refs) {
      const lower = ref.toLowerCase();
      if (seen.has(lower)) continue;
      seen.add(lower);
      if (lower === "host") {
        reportViolation(
          `${describe(w)} joins the host network: it shares the node's network stack and every port it opens is open on the node.`,
        );
      } else if (lower === "bridge" || lower === "default") {
        reportViolation(
          w.kind === "container" && ref === w.networkMode && !refs.some((r) => r !== ref)
            ? `${describe(w)} runs on Docker's default bridge (networkMode "${ref}"), shared by every container on the node.`
            : `${describe(w)} joins Docker's default bridge ("${ref}"), shared by every container on the node.`,
        );
      } else if (lower.startsWith("container:")) {
        reportViolation(`${describe(w)} shares the network namespace of ${ref.slice("container:".length)} ("${ref}").`);
      }
    }
  }),
};

const internalSchema: PolicyConfigSchema = {
  properties: {
    egressNetworks: stringList(
      "Docker names of networks that may route out of the swarm; networks labelled iot.network-kind=egress are egress networks too.",
      [],
    ),
  },
};

export const requireInternalNetworks: ResourceValidationPolicy = {
  name: "require-internal-networks",
  description: "Tier and link networks must be internal; only declared egress networks may route out of the swarm.",
  severity: "high",
  remediationSteps:
    "Set `internal: true` on the network. If a service needs to reach outside the swarm, give it a network of its own labelled " +
    "iot.network-kind=egress (one member) or list the network in this policy's egressNetworks.",
  ...mapsTo("network", {
    beyond:
      "Neither catalog checks Docker's internal flag; an internal network has no route out through docker_gwbridge.",
  }),
  configSchema: internalSchema,
  validateResource: validateResourceOfType(docker.Network, (props, args, reportViolation) => {
    const config = configOf<{ egressNetworks: string[] }>(internalSchema, args);
    const labels = labelsOf(props);
    const name = str(at(props, "name"));
    const displayName = isKnown(name) ? name : args.name;
    if (labels.get(LABEL.networkKind) === "egress" || config.egressNetworks.includes(displayName)) return;
    const internal = bool(at(props, "internal"));
    if (internal === true || internal === UNKNOWN) return;
    const kind = labels.get(LABEL.networkKind);
    reportViolation(
      `network "${displayName}"${kind ? ` (${kind}${labels.get(LABEL.tiers) ? ` ${labels.get(LABEL.tiers)}` : ""})` : ""} is not internal, so its members can route out of the swarm.`,
    );
  }),
};

const overlaySchema: PolicyConfigSchema = {
  properties: {
    allowedDrivers: stringList("Network drivers allowed in a stack that runs Swarm services.", ["overlay"]),
  },
};

export const requireOverlayNetworks: StackValidationPolicy = {
  name: "require-overlay-networks",
  description: "A stack that runs Swarm services declares only overlay networks.",
  severity: "medium",
  remediationSteps:
    'Set `driver: "overlay"` on the network (the provider creates a local bridge when the driver is unset).',
  ...mapsTo("network", {
    cis: ["5.30"],
    beyond: "CIS 5.30 covers the default bridge only; a local bridge in a swarm stack is invisible to other nodes.",
  }),
  configSchema: overlaySchema,
  validateStack: (args, reportViolation) => {
    const config = configOf<{ allowedDrivers: string[] }>(overlaySchema, args);
    if (!args.resources.some((r) => r.type === TYPES.service)) args.notApplicable("the stack runs no Swarm services");
    for (const n of buildStackGraph(args.resources).networks) {
      const driver = str(at(n.resource.props, "driver"));
      if (!isKnown(driver) && driver !== undefined) continue;
      const effective = driver ?? "bridge";
      if (!config.allowedDrivers.includes(effective)) {
        reportViolation(
          `network "${n.name}" uses the "${effective}" driver${driver === undefined ? " (driver unset)" : ""}; a swarm stack needs ${config.allowedDrivers.join(" or ")} networks`,
          n.resource.urn,
        );
      }
    }
  },
};

const attachableSchema: PolicyConfigSchema = {
  properties: {
    attachableNetworks: stringList(
      "Docker names of networks that standalone containers may attach to (`docker run --network`).",
      [],
    ),
  },
};

export const restrictAttachableNetworks: ResourceValidationPolicy = {
  name: "restrict-attachable-networks",
  description:
    "Networks are attachable only where allowed: an attachable overlay lets any container on any node join the segment.",
  severity: "high",
  remediationSteps:
    "Set `attachable: false`, or list the network in this policy's attachableNetworks if standalone containers must join it.",
  ...mapsTo("network", {
    beyond:
      "Neither catalog checks Swarm's attachable flag, which lets `docker run --network` bypass the stack's segmentation.",
  }),
  configSchema: attachableSchema,
  validateResource: validateResourceOfType(docker.Network, (props, args, reportViolation) => {
    const config = configOf<{ attachableNetworks: string[] }>(attachableSchema, args);
    const name = str(at(props, "name"));
    const displayName = isKnown(name) ? name : args.name;
    if (bool(at(props, "attachable")) === true && !config.attachableNetworks.includes(displayName)) {
      reportViolation(
        `network "${displayName}" is attachable, so any container on any node can join it with \`docker run --network ${displayName}\`.`,
      );
    }
  }),
};

const adminSchema: PolicyConfigSchema = {
  properties: {
    adminPorts: integerList(
      "Backend ports that serve an admin UI or API (Node-RED editor, InfluxDB, Prometheus, Alertmanager, NATS monitoring, RabbitMQ management, Docker API): routes to them need a source allowlist.",
      [1880, 8086, 9090, 9093, 8222, 15672, 2375, 2376],
    ),
  },
};

export const requireAdminSourceAllowlist: ResourceValidationPolicy = {
  name: "require-admin-source-allowlist",
  description:
    "The gateway restricts admin routes to an allowlist of source addresses, and no source allowlist admits every address (0.0.0.0/0, ::/0).",
  severity: "high",
  remediationSteps:
    "List only the operations networks in the source ACL (iot-swarm-net: adminCidrs) and refuse admin hosts from elsewhere: " +
    "`acl admin_src src 10.50.0.0/24` and `http-request deny if host_admin !admin_src`.",
  ...mapsTo("network", {
    beyond:
      "Docker catalogs do not read proxy configs; an admin UI behind a gateway that admits everyone is as exposed as a published admin port.",
  }),
  configSchema: adminSchema,
  validateResource: forServiceConfigs((c, args, reportViolation) => {
    if (!isKnown(c.text) || !isHaproxyConfig(c.text)) return;
    const { adminPorts } = configOf<{ adminPorts: number[] }>(adminSchema, args);
    for (const open of openSourceAcls(c.text)) {
      reportViolation(
        `${describeConfig(c)} admits every address in source ACL ${open.acl} (${open.address}, line ${open.line} in ${open.section}), so whatever it guards is open to the world.`,
      );
    }
    // A config without a frontend serves no route; its backends are another config's concern.
    if (!haproxySections(c.text).some((s) => s.kind === "frontend" || s.kind === "listen")) return;
    for (const route of unguardedAdminRoutes(c.text, adminPorts)) {
      reportViolation(
        `${describeConfig(c)} routes ${route.condition === "default" || route.condition === "listen" ? `by ${route.condition}` : `"${route.condition}"`} ` +
          `to backend ${route.backend} (admin port ${route.port}) in ${route.frontend} without a source allowlist` +
          `${route.line > 0 ? ` (line ${route.line})` : ""}; refuse other sources with \`http-request deny if <host acl> !<source acl>\`.`,
      );
    }
  }),
};

export const networkPolicies = [
  enforceDeclaredSegmentation,
  disallowHostAndDefaultBridgeNetworks,
  requireInternalNetworks,
  requireOverlayNetworks,
  restrictAttachableNetworks,
  requireAdminSourceAllowlist,
];
