/** Output in the shape of `pulumi preview`'s policy section: one line per violation, then a summary. */
import { RunResult, Violation } from "./run";

const ORDER: Record<Violation["enforcementLevel"], number> = { mandatory: 0, advisory: 1 };

export function sortViolations(violations: readonly Violation[], policyOrder: readonly string[]): Violation[] {
  const index = new Map(policyOrder.map((name, i) => [name, i]));
  return [...violations].sort(
    (a, b) =>
      ORDER[a.enforcementLevel] - ORDER[b.enforcementLevel] ||
      (index.get(a.policyName) ?? 0) - (index.get(b.policyName) ?? 0) ||
      (a.urn ?? "").localeCompare(b.urn ?? ""),
  );
}

export function formatViolation(v: Violation): string {
  return `[${v.enforcementLevel}] ${v.policyName}: ${v.message}${v.urn ? ` (${v.urn})` : ""}`;
}

export function countByLevel(violations: readonly Violation[]): { mandatory: number; advisory: number } {
  return {
    mandatory: violations.filter((v) => v.enforcementLevel === "mandatory").length,
    advisory: violations.filter((v) => v.enforcementLevel === "advisory").length,
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function formatSummary(
  result: RunResult,
  context: { packName: string; stack?: string; configSource: string },
): string[] {
  const { mandatory, advisory } = countByLevel(result.violations);
  return [
    `Policy pack ${context.packName}: ${result.policyCount === 1 ? "1 policy" : `${result.policyCount} policies`} enabled (${context.configSource}), ` +
      `${plural(result.resourceCount, "resource")} checked${context.stack ? ` in stack "${context.stack}"` : ""}.`,
    `${plural(mandatory, "mandatory violation")}, ${plural(advisory, "advisory violation")}.` +
      (mandatory > 0 ? " Mandatory violations block `pulumi up`." : ""),
  ];
}
