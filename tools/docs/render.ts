/**
 * `renderDocs()`: every generated doc, by file name under `docs/`, from the model of the reference stacks.
 * Pure and deterministic: no clock, no environment, no Pulumi run; the same model gives the same bytes.
 */
import { DOC_FILES, DocFile } from "./common";
import { DocsModel, loadDocsModel } from "./model";
import { renderMonitoring } from "./monitoring";
import { renderNetworkingGuide } from "./networkingGuide";
import { renderPortManagement } from "./portManagement";
import { renderSecurityPolicies } from "./securityPolicies";
import { renderServiceDiscovery } from "./serviceDiscovery";

const renderers: Readonly<Record<DocFile, (m: DocsModel) => string>> = {
  "port-management.md": renderPortManagement,
  "service-discovery.md": renderServiceDiscovery,
  "service_networking_guide.md": renderNetworkingGuide,
  "network-security-policies.md": renderSecurityPolicies,
  "network-monitoring.md": renderMonitoring,
};

/** One trailing newline, no trailing spaces, no runs of blank lines: stable bytes for the drift check. */
function normalize(text: string): string {
  return text.replace(/[ \t]+$/gm, "").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

export function renderDocs(model: DocsModel = loadDocsModel()): Record<DocFile, string> {
  return Object.fromEntries(DOC_FILES.map((file) => [file, normalize(renderers[file](model))])) as Record<DocFile, string>;
}
