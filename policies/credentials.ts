/**
 * Credentials follow declared flows: a workload holds a credential only for a server it has a declared flow to,
 * and no credential is held by two clients (so one leak, or one rotation, concerns one flow). A workload says
 * what it holds in its `iot.credentials` label (`server:credential`); mounted Swarm secrets count as held too,
 * so a stack without the labels is still checked for sharing.
 */
import { PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { mapsTo } from "./lib/catalog";
import { configOf } from "./lib/config";
import { FLOW_PATTERN, parseFlow } from "./lib/flows";
import { buildStackGraph } from "./lib/stack";
import { describe, forWorkloads, WorkloadView } from "./lib/workloads";

const flowsSchema: PolicyConfigSchema = {
  properties: {
    allowedFlows: {
      type: "array",
      items: { type: "string", pattern: FLOW_PATTERN.source },
      default: [],
      description: 'Declared flows "client -> server:port" (or "client -> server"), added to the iot.flows labels.',
    },
  },
};

export const restrictCredentialsToDeclaredFlows: ResourceValidationPolicy = {
  name: "restrict-credentials-to-declared-flows",
  description:
    "A workload holds a credential (its iot.credentials label, server:credential) only for a server it has a declared flow to.",
  severity: "high",
  remediationSteps:
    "Remove the credential from the workload, or declare the flow it is for (in iot-swarm-net, a flow in stack config; " +
    "elsewhere its iot.flows label or this policy's allowedFlows). A credential entry must name its server.",
  ...mapsTo("secrets", {
    beyond:
      "Catalogs check that secrets are not inline; this rule checks that each credential a service holds matches a declared flow (least privilege per flow).",
  }),
  configSchema: flowsSchema,
  validateResource: forWorkloads((w, args, reportViolation) => {
    const { allowedFlows } = configOf<{ allowedFlows: string[] }>(flowsSchema, args);
    const servers = new Set(w.flows.map((f) => f.server));
    for (const text of allowedFlows) {
      const flow = parseFlow(text);
      if (flow && (flow.from === w.name || flow.from === w.dockerName)) servers.add(flow.to);
    }
    for (const c of w.credentials) {
      if (c.server === undefined) {
        reportViolation(`${describe(w)} holds credential "${c.text}", which names no server (server:credential)`);
      } else if (!servers.has(c.server)) {
        reportViolation(
          `${describe(w)} holds credential "${c.text}" for ${c.server} but declares no flow to ${c.server}` +
            ` (its flows: ${[...servers].join(", ") || "none"})`,
        );
      }
    }
  }),
};

interface Holding {
  readonly view: WorkloadView;
  readonly urn: string;
  /** Whether the holder's iot.shared-credentials label names this credential. */
  readonly declaredShared: boolean;
}

export const disallowSharedCredentials: StackValidationPolicy = {
  name: "disallow-shared-credentials",
  description:
    "No credential (an iot.credentials entry or a mounted Swarm secret) is held by two workloads, unless each holder's iot.shared-credentials label names it.",
  severity: "high",
  remediationSteps:
    "Give each client its own credential for each flow (in iot-swarm-net, every Redis, NATS and InfluxDB flow gets its own user and password). " +
    "A credential that is shared by design is named in the iot.shared-credentials label of every holder.",
  ...mapsTo("secrets", {
    beyond:
      "Catalogs look at one service at a time; a credential shared between clients only shows across the stack, and it makes one leak or rotation concern every holder.",
  }),
  validateStack: (args, reportViolation) => {
    const held = new Map<string, Holding[]>();
    const labels = new Map<string, string>();
    const hold = (key: string, label: string, h: Holding) => {
      const holders = held.get(key) ?? [];
      if (!holders.some((x) => x.view.name === h.view.name)) holders.push(h);
      held.set(key, holders);
      labels.set(key, label);
    };
    for (const w of buildStackGraph(args.resources).workloads) {
      const shared = new Set(w.view.sharedCredentials);
      const base = { view: w.view, urn: w.resource.urn };
      for (const c of w.view.credentials)
        hold(`credential\u0000${c.text}`, `credential "${c.text}"`, { ...base, declaredShared: shared.has(c.text) });
      for (const s of w.view.secretRefs) {
        const declaredShared = shared.has(s.key) || (s.name !== undefined && shared.has(s.name));
        hold(`secret\u0000${s.key}`, `secret "${s.name ?? s.key}"`, { ...base, declaredShared });
      }
    }
    for (const [key, holders] of held) {
      if (holders.length < 2 || holders.every((h) => h.declaredShared)) continue;
      reportViolation(
        `${labels.get(key)} is held by ${holders.map((h) => describe(h.view)).join(" and ")}; ` +
          `each client needs its own credential (between ${holders.map((h) => h.urn).join(" and ")})`,
        holders[0].urn,
      );
    }
  },
};

export const credentialPolicies = [restrictCredentialsToDeclaredFlows, disallowSharedCredentials];
