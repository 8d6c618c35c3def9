/** docs/network-security-policies.md: each rule of the policy pack, why it exists, its CIS / KICS ids and its enforcement per stack. */
import * as fs from "fs";
import * as path from "path";
import { CIS, CIS_VERSION, KICS } from "../../policies/lib/catalog";
import { resolvePackConfig, ResolvedPackConfig } from "../../policies/offline/config";
import { allPolicies, DEFAULT_ENFORCEMENT, PACK_NAME } from "../../policies/pack";
import { PROJECT_ROOT } from "../stackFile";
import { markdownTable } from "../table";
import { code, header, stackColumns } from "./common";
import { DocsModel, REFERENCE_STACKS, ReferenceStack } from "./model";
import { renderIdentities } from "./identities";
import { POLICY_RATIONALE } from "./policyRationale";

export const POLICY_CONFIG_DIR = path.join(PROJECT_ROOT, "policies", "config");

// Types come from the pack itself: @pulumi/policy is the pack's dependency, not the program's.
type Policy = (typeof allPolicies)[number];
type EnforcementLevel = ResolvedPackConfig extends ReadonlyMap<string, infer C> ? (C extends { enforcementLevel: infer L } ? L : never) : never;
type PolicyConfigSchema = NonNullable<Policy["configSchema"]>;

export interface PolicyDoc {
  readonly name: string;
  readonly domain: string;
  readonly description: string;
  readonly severity: string;
  readonly remediation?: string;
  readonly cis: readonly string[];
  readonly kics: readonly string[];
  readonly beyondCatalogs: boolean;
  readonly configSchema?: PolicyConfigSchema;
}

/** The pack's policies with their catalog ids, read from the tags `mapsTo` gives them. */
export function policyDocs(policies: readonly Policy[] = allPolicies): PolicyDoc[] {
  return policies.map((p: Policy) => {
    const tags: readonly string[] = p.tags ?? [];
    return {
      name: p.name,
      domain: tags[0] ?? "other",
      description: p.description,
      severity: p.severity ?? "unspecified",
      remediation: p.remediationSteps,
      cis: tags.filter((t) => t.startsWith("cis-docker-")).map((t) => t.slice("cis-docker-".length)),
      kics: tags.filter((t) => t.startsWith("kics-")).map((t) => t.slice("kics-".length)),
      beyondCatalogs: tags.includes("beyond-catalogs"),
      configSchema: p.configSchema,
    };
  });
}

/** Each reference stack's policy config file (`policies/config/<stack>.json`), resolved as the Pulumi CLI would. */
export function stackPolicyConfigs(dir: string = POLICY_CONFIG_DIR): Record<ReferenceStack, { file?: string; resolved: ResolvedPackConfig }> {
  return Object.fromEntries(
    REFERENCE_STACKS.map((stack) => {
      const file = path.join(dir, `${stack}.json`);
      const exists = fs.existsSync(file);
      const doc = exists ? (JSON.parse(fs.readFileSync(file, "utf8")) as unknown) : undefined;
      const relative = path.relative(PROJECT_ROOT, file);
      return [stack, { file: exists ? relative : undefined, resolved: resolvePackConfig(doc, allPolicies, DEFAULT_ENFORCEMENT, relative) }];
    }),
  ) as Record<ReferenceStack, { file?: string; resolved: ResolvedPackConfig }>;
}

const cisLink = (id: string) => `CIS ${id}`;
const kicsName = (id: string) => `${KICS[id] ?? "KICS query"} (${code(id)})`;
const json = (v: unknown) => (v === undefined ? "–" : code(JSON.stringify(v)));

export function renderSecurityPolicies(m: DocsModel): string {
  const policies = policyDocs();
  const configs = stackPolicyConfigs();
  const level = (stack: ReferenceStack, name: string): EnforcementLevel => configs[stack].resolved.get(name)?.enforcementLevel ?? DEFAULT_ENFORCEMENT;
  const domains = [...new Set(policies.map((p) => p.domain))];

  const out: string[] = [
    header(
      "Network security policies",
      "The rules of the CrossGuard policy pack (`policies/`): what each one checks, why, which CIS Docker Benchmark " +
        "recommendations and KICS queries it covers, how to fix a violation, and how strictly each stack enforces it.",
    ),
  ];

  out.push("## Enforcement", "");
  out.push(
    `The pack \`${PACK_NAME}\` has ${policies.length} policies in ${domains.length} groups (${domains.join(", ")}). ` +
      "It checks the resources a stack declares, independently of the program that produced them:",
    "",
    "- `pulumi preview --policy-pack policies --policy-pack-config policies/config/<stack>.json` runs it with the Pulumi CLI;",
    "- `npm run policy -- --stack <stack>` runs the same rules offline on the resources the program registers under mocks.",
    "",
    `A policy's level is \`${DEFAULT_ENFORCEMENT}\` unless the stack's policy config sets it: \`mandatory\` fails the preview or update, ` +
      "`advisory` only reports, `disabled` skips the rule.",
    "",
  );
  out.push(
    markdownTable(
      ["stack", "policy config", "mandatory", "advisory", "disabled"],
      REFERENCE_STACKS.map((stack) => {
        const count = (l: EnforcementLevel) => String(policies.filter((p) => level(stack, p.name) === l).length);
        return [stack, configs[stack].file ? code(configs[stack].file!) : `none (every policy ${DEFAULT_ENFORCEMENT})`, count("mandatory"), count("advisory"), count("disabled")];
      }),
    ),
    "",
  );

  out.push("## Summary", "");
  out.push(
    markdownTable(
      ["policy", "group", "severity", "CIS", "KICS", ...stackColumns("enforcement")],
      policies.map((p) => [
        `[${p.name}](#${p.name})`,
        p.domain,
        p.severity,
        p.cis.join(", ") || "–",
        p.kics.length > 0 ? p.kics.map((id) => KICS[id] ?? id).join("; ") : "–",
        ...REFERENCE_STACKS.map((s) => level(s, p.name)),
      ]),
    ),
    "",
  );

  for (const domain of domains) {
    out.push(`## ${domain[0].toUpperCase()}${domain.slice(1)} policies`, "");
    for (const p of policies.filter((x) => x.domain === domain)) {
      out.push(`### ${p.name}`, "", p.description, "");
      out.push(`- **Why:** ${POLICY_RATIONALE[p.name] ?? "(no rationale recorded in tools/docs/policyRationale.ts)"}`);
      out.push(`- **Severity:** ${p.severity}; **enforcement:** ${REFERENCE_STACKS.map((s) => `${s} ${level(s, p.name)}`).join(", ")}.`);
      const catalogs = [
        ...p.cis.map((id) => `${cisLink(id)} (${CIS[id] ?? "see the benchmark"})`),
        ...p.kics.map((id) => `KICS ${kicsName(id)}`),
      ];
      out.push(
        `- **Catalogs:** ${catalogs.length > 0 ? catalogs.join("; ") : "none"}${p.beyondCatalogs ? (catalogs.length > 0 ? "; goes beyond them" : " (beyond what CIS and KICS check)") : ""}.`,
      );
      if (p.remediation) out.push(`- **Fix:** ${p.remediation}`);
      const props = Object.entries(p.configSchema?.properties ?? {});
      if (props.length > 0) {
        out.push(
          "",
          markdownTable(
            ["setting", "meaning", "default", ...stackColumns("value")],
            props.map(([key, schema]) => {
              const s = schema as { description?: string; default?: unknown };
              const value = (st: ReferenceStack) => configs[st].resolved.get(p.name)?.properties[key];
              return [
                code(key),
                s.description ?? "",
                json(s.default),
                ...REFERENCE_STACKS.map((st) => (JSON.stringify(value(st)) === JSON.stringify(s.default) ? "default" : json(value(st)))),
              ];
            }),
          ),
        );
      }
      out.push("");
    }
  }

  out.push(...renderIdentities(m));

  out.push("## Catalog coverage", "");
  out.push(`CIS Docker Benchmark ${CIS_VERSION} recommendations the pack maps to, and the policies that check them:`, "");
  out.push(
    markdownTable(
      ["CIS", "recommendation", "policies"],
      Object.entries(CIS).map(([id, title]) => [id, title, policies.filter((p) => p.cis.includes(id)).map((p) => code(p.name)).join(", ") || "not covered"]),
    ),
    "",
  );
  out.push("KICS docker-compose queries:", "");
  out.push(
    markdownTable(
      ["KICS query", "id", "policies"],
      Object.entries(KICS).map(([id, name]) => [name, code(id), policies.filter((p) => p.kics.includes(id)).map((p) => code(p.name)).join(", ") || "not covered"]),
    ),
    "",
  );
  const beyond = policies.filter((p) => p.beyondCatalogs);
  out.push(
    `Rules that check what neither catalog does for Compose or Swarm (tagged \`beyond-catalogs\`): ${beyond.map((p) => code(p.name)).join(", ")}.`,
    "",
    "The catalog entries the pack deliberately does not check, and why, are listed in the pack's README: " +
      "[What the pack leaves out, and why](../policies/README.md#what-the-pack-leaves-out-and-why).",
    "",
  );
  return out.join("\n");
}
