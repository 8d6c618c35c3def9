/**
 * One bench measurement in a fresh process (bench/run.ts spawns it): index.ts is a module, evaluated
 * once per process, and a fresh process gives a clean peak RSS. Prints one JSON line on stdout.
 *
 *   measure.ts --kind evaluation (--stack dev | --services N) [--record FILE]
 *   measure.ts --kind baseline --input FILE
 *   measure.ts --kind policy --input FILE
 *
 * `ms` runs from just before the program is imported to the end of evaluateProgram (every
 * registration answered, every export resolved); `startupMs` is the process's own start before that
 * (the TypeScript loader and @pulumi/pulumi), the same for every program and not counted.
 */
import * as fs from "fs";
import { performance } from "perf_hooks";
import { evaluateProgram, EvaluateOptions, Evaluation, RecordedResource } from "../tools/evaluate";
import { PlanMocks } from "../tools/mocks";
import { readStackConfig } from "../tools/stackFile";
import { BaselineResource, declareResources } from "./baseline";
import { deployGraphDepth, GraphDepth } from "./graph";
import { syntheticStackConfig } from "./topology";

/** The stack whose config the measurements start from: the reference stack. */
export const REFERENCE_STACK = "dev";

export interface MeasureResult {
  readonly kind: "evaluation" | "baseline" | "policy";
  /** Services in the stack. */
  readonly services: number;
  readonly ms: number;
  readonly startupMs: number;
  /** Registrations, components included. */
  readonly registrations: number;
  readonly customResources: number;
  readonly graph?: GraphDepth;
  /** Policy runs: violations found (a synthetic stack is meant to pass). */
  readonly violations?: number;
  /** Peak resident set of this process, MiB. */
  readonly peakRssMb: number;
}

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

const peakRssMb = () => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;

async function evaluation(argv: readonly string[]): Promise<MeasureResult> {
  const base = readStackConfig(option(argv, "stack") ?? REFERENCE_STACK).config;
  const servicesArg = option(argv, "services");
  const config = servicesArg === undefined ? base : syntheticStackConfig(Number(servicesArg), base);
  const { result, measured } = await timedEvaluation("evaluation", {
    stack: REFERENCE_STACK,
    config,
    mocks: new PlanMocks(),
  });
  const record = option(argv, "record");
  if (record) fs.writeFileSync(record, JSON.stringify(result.resources));
  return measured;
}

/** Evaluates once and measures it; the result's graph lets callers check a baseline matches the program. */
async function timedEvaluation(
  kind: "evaluation" | "baseline",
  options: EvaluateOptions,
): Promise<{ result: Evaluation; measured: MeasureResult }> {
  // Time since process start until here is the loader's and @pulumi/pulumi's startup.
  const startupMs = performance.now();
  const result = await evaluateProgram(options);
  const ms = performance.now() - startupMs;
  const measured: MeasureResult = {
    kind,
    services: result.resources.filter((r) => r.type === "docker:index/service:Service").length,
    ms,
    startupMs,
    registrations: result.resources.length,
    customResources: result.resources.filter((r) => r.custom).length,
    graph: deployGraphDepth(result.resources),
    peakRssMb: peakRssMb(),
  };
  return { result, measured };
}

async function baseline(argv: readonly string[]): Promise<MeasureResult> {
  const input = option(argv, "input");
  if (!input) throw new Error("--kind baseline needs --input FILE (a recording from --kind evaluation --record FILE)");
  const recording = JSON.parse(fs.readFileSync(input, "utf8")) as BaselineResource[];
  // The same graph as the program's, or the comparison is off: run.ts checks `graph` against it.
  const { measured } = await timedEvaluation("baseline", {
    stack: REFERENCE_STACK,
    config: {},
    mocks: new PlanMocks(),
    load: async () => {
      declareResources(recording);
      return {};
    },
  });
  return measured;
}

async function policy(argv: readonly string[]): Promise<MeasureResult> {
  const input = option(argv, "input");
  if (!input) throw new Error("--kind policy needs --input FILE (a recording from --kind evaluation --record FILE)");
  // Loaded here, not at the top: evaluation runs should not pay for the policy pack's modules.
  const { checkResources } = await import("../policies/offline/check");
  const { fromEvaluation } = await import("../tools/policyCheck");
  const recording = JSON.parse(fs.readFileSync(input, "utf8")) as RecordedResource[];
  const resources = fromEvaluation(recording);
  const startupMs = performance.now();
  const result = await checkResources({ resources, stack: REFERENCE_STACK });
  const ms = performance.now() - startupMs;
  return {
    kind: "policy",
    services: recording.filter((r) => r.type === "docker:index/service:Service").length,
    ms,
    startupMs,
    registrations: recording.length,
    customResources: recording.filter((r) => r.custom).length,
    violations: result.violations.length,
    peakRssMb: peakRssMb(),
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const kind = option(argv, "kind");
  const kinds: Record<string, (argv: readonly string[]) => Promise<MeasureResult>> = { evaluation, baseline, policy };
  const measure = kind === undefined ? undefined : kinds[kind];
  if (!measure)
    throw new Error(`--kind must be one of ${Object.keys(kinds).join(", ")}, but ${JSON.stringify(kind)} was provided`);
  process.stdout.write(JSON.stringify(await measure(argv)) + "\n");
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e instanceof Error ? e.stack : e);
      process.exit(1);
    },
  );
}
