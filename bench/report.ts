/**
 * The bench's figures, its targets and how they are shown: pure, so run.ts only measures.
 * Targets are reported, not asserted: a slow machine must not fail a build.
 */
import * as fs from "fs";
import * as os from "os";
import { markdownTable, textTable } from "../tools/table";

/** The JSON `npm run bench -- --json` prints. Times in ms (medians), memory in MiB. */
export interface BenchFigures {
  /** Program evaluation by stack size (services). */
  evaluation: Record<string, number | null>;
  /** Offline policy check by stack size (services). */
  policy: Record<string, number | null>;
  /** Longest dependency chain of the reference stack. */
  dagDepth: number | null;
  /** Longest dependency chain at 500 services. */
  dagDepth500: number | null;
  /** Program time / plain baseline time on the reference stack: the median of alternating runs' ratios. */
  baselineOverhead: number | null;
  /** Largest peak RSS of any measurement process. */
  peakRssMb: number | null;
  /** Program evaluation of the reference stack (Pulumi.dev.yaml). */
  reference: number | null;
  e2e?: E2eFigures;
}

/** The last e2e run's figures, as the e2e report gives them. */
export interface E2eFigures {
  failover?: { requests?: number; failedRequests?: number; recoverySeconds?: number };
  lb?: { perReplica?: unknown };
}

export const EVALUATION_SIZES = [10, 50, 100, 500] as const;
export const POLICY_SIZES = [100, 1000] as const;

export const TARGETS = {
  referenceMs: 1000,
  evaluation500Ms: 10_000,
  ratio500to50: 12,
  policy1000Ms: 2000,
  dagDepth: 4,
  baselineOverhead: 1.5,
} as const;

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Reads `.e2e/report.json` when an e2e run left one; undefined when absent or unreadable. */
export function readE2eReport(file: string): { figures: E2eFigures; takenAt: Date } | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== "object") return undefined;
  const { failover, lb } = raw as Record<string, unknown>;
  const figures: E2eFigures = {};
  if (failover !== null && typeof failover === "object") {
    const f = failover as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === "number" ? v : undefined);
    figures.failover = {
      requests: num(f.requests),
      failedRequests: num(f.failedRequests),
      recoverySeconds: num(f.recoverySeconds),
    };
  }
  if (lb !== null && typeof lb === "object" && "perReplica" in lb)
    figures.lb = { perReplica: (lb as Record<string, unknown>).perReplica };
  if (!figures.failover && !figures.lb) return undefined;
  return { figures, takenAt: fs.statSync(file).mtime };
}

export interface Row {
  readonly figure: string;
  readonly value: string;
  readonly target: string;
  /** "pass", "FAIL", or "" when the figure has no target. */
  readonly result: string;
}

const ms = (v: number | null) => (v === null ? "crashed" : `${round(v, 0)} ms`);
const check = (v: number | null, ok: (v: number) => boolean) => (v === null ? "FAIL" : ok(v) ? "pass" : "FAIL");

/** The 500/50 evaluation ratio: near-linear growth keeps it near 10. */
export function growthRatio(f: BenchFigures): number | null {
  const [a, b] = [f.evaluation["500"], f.evaluation["50"]];
  return a === null || b === null || a === undefined || b === undefined ? null : a / b;
}

/** Figures the table shows beside the JSON ones. */
export interface ExtraFigures {
  /** Program time / plain baseline time at 100 services, where per-resource costs outweigh module loading. */
  readonly baselineOverhead100?: number | null;
}

export function figureRows(f: BenchFigures, extra: ExtraFigures = {}): Row[] {
  return [...evaluationRows(f), ...policyRows(f), ...graphAndOverheadRows(f, extra), ...e2eRows(f)];
}

/** The reference stack, each size, and how time grows from 50 to 500 services. */
function evaluationRows(f: BenchFigures): Row[] {
  const rows: Row[] = [
    {
      figure: "evaluation, reference stack (dev, 9 services)",
      value: ms(f.reference),
      target: `< ${TARGETS.referenceMs} ms`,
      result: check(f.reference, (v) => v < TARGETS.referenceMs),
    },
  ];
  for (const size of EVALUATION_SIZES) {
    const v = f.evaluation[String(size)] ?? null;
    rows.push(
      size === 500
        ? {
            figure: `evaluation, ${size} services`,
            value: ms(v),
            target: `< ${TARGETS.evaluation500Ms} ms`,
            result: check(v, (x) => x < TARGETS.evaluation500Ms),
          }
        : { figure: `evaluation, ${size} services`, value: ms(v), target: "", result: "" },
    );
  }
  const ratio = growthRatio(f);
  rows.push({
    figure: "evaluation growth, 500 / 50 services",
    value: ratio === null ? "n/a" : `${round(ratio, 2)}`,
    target: `<= ${TARGETS.ratio500to50}`,
    result: check(ratio, (v) => v <= TARGETS.ratio500to50),
  });
  return rows;
}

function policyRows(f: BenchFigures): Row[] {
  const rows: Row[] = [];
  for (const size of POLICY_SIZES) {
    const v = f.policy[String(size)] ?? null;
    rows.push(
      size === 1000
        ? {
            figure: `policy check, ${size} services`,
            value: ms(v),
            target: `< ${TARGETS.policy1000Ms} ms`,
            result: check(v, (x) => x < TARGETS.policy1000Ms),
          }
        : { figure: `policy check, ${size} services`, value: ms(v), target: "", result: "" },
    );
  }
  return rows;
}

/** Deploy graph depth, what the component layer costs over plain resources, and peak memory. */
function graphAndOverheadRows(f: BenchFigures, extra: ExtraFigures): Row[] {
  const depth = (v: number | null) => (v === null ? "n/a" : String(v));
  return [
    {
      figure: "deploy graph depth, reference stack",
      value: depth(f.dagDepth),
      target: `<= ${TARGETS.dagDepth}`,
      result: check(f.dagDepth, (v) => v <= TARGETS.dagDepth),
    },
    {
      figure: "deploy graph depth, 500 services",
      value: depth(f.dagDepth500),
      target: `<= ${TARGETS.dagDepth}`,
      result: check(f.dagDepth500, (v) => v <= TARGETS.dagDepth),
    },
    {
      figure: "component overhead vs plain baseline (reference stack)",
      value: f.baselineOverhead === null ? "n/a" : `${round(f.baselineOverhead, 2)}x`,
      target: `<= ${TARGETS.baselineOverhead}x`,
      result: check(f.baselineOverhead, (v) => v <= TARGETS.baselineOverhead),
    },
    ...(extra.baselineOverhead100 === undefined
      ? []
      : [
          {
            figure: "component overhead vs plain baseline (100 services)",
            value: extra.baselineOverhead100 === null ? "n/a" : `${round(extra.baselineOverhead100, 2)}x`,
            target: `<= ${TARGETS.baselineOverhead}x`,
            result: check(extra.baselineOverhead100, (v) => v <= TARGETS.baselineOverhead),
          },
        ]),
    {
      figure: "peak RSS (largest of all measurements)",
      value: f.peakRssMb === null ? "n/a" : `${round(f.peakRssMb, 0)} MiB`,
      target: "",
      result: "",
    },
  ];
}

/** Failover and load-balancing figures of the last e2e run, when there is one. */
function e2eRows(f: BenchFigures): Row[] {
  const rows: Row[] = [];
  if (f.e2e?.failover) {
    const { requests, failedRequests, recoverySeconds } = f.e2e.failover;
    const share = requests && failedRequests !== undefined ? ` (${round((100 * failedRequests) / requests, 2)}%)` : "";
    rows.push(
      {
        figure: "e2e failover: failed requests",
        value: `${failedRequests ?? "?"} of ${requests ?? "?"}${share}`,
        target: "",
        result: "",
      },
      {
        figure: "e2e failover: recovery",
        value: recoverySeconds === undefined ? "?" : `${recoverySeconds} s`,
        target: "",
        result: "",
      },
    );
  }
  if (f.e2e?.lb)
    rows.push({
      figure: "e2e load balancing: requests per replica",
      value: JSON.stringify(f.e2e.lb.perReplica),
      target: "",
      result: "",
    });
  return rows;
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly date: string;
}

export function describeMachine(now = new Date()): Machine {
  let cpuModel = os.cpus()[0]?.model ?? "unknown";
  try {
    const line = fs
      .readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    if (line) cpuModel = line.slice(line.indexOf(":") + 1).trim();
  } catch {
    // Not Linux: os.cpus() is what there is.
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel,
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    date: now.toISOString().slice(0, 10),
  };
}

export const machineLine = (m: Machine) =>
  `${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, ${m.date}`;

export function renderText(rows: readonly Row[]): string {
  return textTable(
    ["figure", "value", "target", "result"],
    rows.map((r) => [r.figure, r.value, r.target, r.result]),
  );
}

export function renderMarkdown(rows: readonly Row[]): string {
  return markdownTable(
    ["Figure", "Value", "Target", "Result"],
    rows.map((r) => [r.figure, r.value, r.target, r.result]),
  );
}
