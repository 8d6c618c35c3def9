/**
 * `npm run bench`: how the program's cost grows with the size of the stack, measured in-process under
 * Pulumi mocks on the program's real path. Every figure is the median of `--repeat` fresh processes
 * (bench/measure.ts) after a discarded warm-up, run one after another so they do not compete for the CPU.
 *
 *   npm run bench                   # table: figure, value, target, pass/FAIL, then the details
 *   npm run bench -- --json         # only the JSON figures on stdout
 *   npm run bench -- --markdown     # the figures and the machine as Markdown (for BENCHMARKS.md)
 *   npm run bench -- --repeat 3     # runs per figure (default 5)
 *
 * Targets are reported, not asserted: the exit code is 0 unless a measurement crashed (then 1).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../tools/stackFile";
import { textTable } from "../tools/table";
import { GraphDepth } from "./graph";
import type { MeasureResult } from "./measure";
import {
  BenchFigures,
  describeMachine,
  EVALUATION_SIZES,
  figureRows,
  machineLine,
  median,
  POLICY_SIZES,
  readE2eReport,
  renderMarkdown,
  renderText,
  round,
} from "./report";

const MEASURE = path.join(__dirname, "measure.ts");
export const E2E_REPORT = path.join(PROJECT_ROOT, ".e2e", "report.json");
const DEFAULT_REPEAT = 5;

interface Options {
  readonly json: boolean;
  readonly markdown: boolean;
  readonly repeat: number;
}

function parseArgs(argv: readonly string[]): Options {
  const known = new Set(["--json", "--markdown", "--repeat"]);
  for (const arg of argv) if (arg.startsWith("--") && !known.has(arg)) throw new Error(`unknown argument "${arg}"; use --json, --markdown, --repeat N`);
  const i = argv.indexOf("--repeat");
  const repeat = i >= 0 ? Number(argv[i + 1]) : DEFAULT_REPEAT;
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive integer, but ${JSON.stringify(argv[i + 1])} was provided`);
  return { json: argv.includes("--json"), markdown: argv.includes("--markdown"), repeat };
}

/** Runs bench/measure.ts in a new Node process with this process's TypeScript loader. */
function measureOnce(args: readonly string[]): Promise<MeasureResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, MEASURE, ...args], { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      if (code !== 0) return reject(new Error(`measure.ts ${args.join(" ")} exited ${code}:\n${stderr.trim() || stdout.trim()}`));
      try {
        resolve(JSON.parse(last) as MeasureResult);
      } catch {
        reject(new Error(`measure.ts ${args.join(" ")} printed no result:\n${stdout}${stderr}`));
      }
    });
  });
}

interface Series {
  readonly label: string;
  readonly samples: MeasureResult[];
  readonly error?: string;
}

const medianMs = (s: Series | undefined) => (s && !s.error && s.samples.length > 0 ? median(s.samples.map((x) => x.ms)) : null);
const graphOf = (s: Series | undefined): GraphDepth | undefined => (s && !s.error ? s.samples[0]?.graph : undefined);

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const progress = (line: string) => {
    if (!options.json) process.stderr.write(`${line}\n`);
  };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "iot-bench-"));
  const recording = (name: string) => path.join(work, `${name}.json`);
  const all: Series[] = [];
  /**
   * `repeat` measured runs after one discarded warm-up run, which fills the TypeScript loader's
   * transpile cache and the disk cache, and records the evaluation when `record` is given.
   */
  const series = async (label: string, args: readonly string[], repeat: number, record?: string, warmUp = true): Promise<Series> => {
    const samples: MeasureResult[] = [];
    let result: Series;
    try {
      if (warmUp) {
        progress(`  ${label} (warm-up)`);
        await measureOnce(record ? [...args, "--record", record] : args);
      }
      for (let i = 0; i < repeat; i++) {
        progress(`  ${label} (${i + 1}/${repeat})`);
        samples.push(await measureOnce(!warmUp && i === 0 && record ? [...args, "--record", record] : args));
      }
      result = { label, samples };
    } catch (e) {
      result = { label, samples, error: (e as Error).message };
      process.stderr.write(`${label} crashed: ${result.error}\n`);
    }
    all.push(result);
    return result;
  };

  const n = options.repeat;
  const loadBefore = os.loadavg()[0];
  try {
    progress("Measuring (each run in a fresh process):");
    const reference = await series("evaluation, reference stack", ["--kind", "evaluation", "--stack", "dev"], n, recording("reference"));
    const evaluations = new Map<number, Series>();
    for (const size of EVALUATION_SIZES) {
      const record = size === 100 || size === 500 ? recording(String(size)) : undefined;
      evaluations.set(size, await series(`evaluation, ${size} services`, ["--kind", "evaluation", "--services", String(size)], n, record));
    }
    // One run only: it exists to give the policy check its 1000 services.
    const large = await series("evaluation, 1000 services (1 run, for the policy check)", ["--kind", "evaluation", "--services", "1000"], 1, recording("1000"), false);
    const baseline = await series("plain baseline, reference stack", ["--kind", "baseline", "--input", recording("reference")], n);
    const baseline100 = await series("plain baseline, 100 services", ["--kind", "baseline", "--input", recording("100")], n);
    const policies = new Map<number, Series>();
    for (const size of POLICY_SIZES) {
      const source = size === 1000 ? large : evaluations.get(size);
      if (source?.error) continue;
      policies.set(size, await series(`policy check, ${size} services`, ["--kind", "policy", "--input", recording(String(size))], n));
    }

    const referenceMs = medianMs(reference);
    const baselineMs = medianMs(baseline);
    const rss = all.flatMap((s) => s.samples.map((x) => x.peakRssMb));
    const figures: BenchFigures = {
      evaluation: Object.fromEntries(EVALUATION_SIZES.map((size) => [String(size), roundOrNull(medianMs(evaluations.get(size)))])),
      policy: Object.fromEntries(POLICY_SIZES.map((size) => [String(size), roundOrNull(medianMs(policies.get(size)))])),
      dagDepth: graphOf(reference)?.depth ?? null,
      dagDepth500: graphOf(evaluations.get(500))?.depth ?? null,
      baselineOverhead: referenceMs !== null && baselineMs !== null ? round(referenceMs / baselineMs, 2) : null,
      peakRssMb: rss.length > 0 ? round(Math.max(...rss), 0) : null,
      reference: roundOrNull(referenceMs),
    };
    const e2e = readE2eReport(E2E_REPORT);
    if (e2e) figures.e2e = e2e.figures;

    if (options.json) {
      process.stdout.write(JSON.stringify(figures, null, 2) + "\n");
    } else {
      const rows = figureRows(figures);
      const machine = describeMachine();
      const out: string[] = [];
      if (options.markdown) {
        out.push(renderMarkdown(rows), "", `Machine: ${machineLine(machine)}. Medians of ${n} fresh processes each.`);
      } else {
        out.push("", renderText(rows), "", `Machine: ${machineLine(machine)}. Medians of ${n} fresh processes each.`);
      }
      out.push(
        "",
        "Details (ms from just before the program import to the end of evaluateProgram; startup = loader and @pulumi/pulumi before that):",
        detailsTable(all),
        "",
        `Longest chain, reference stack: ${chainText(graphOf(reference))}`,
        `Longest chain, 500 services:    ${chainText(graphOf(evaluations.get(500)))}`,
        `Baseline graphs match the program's: ${sameGraph(reference, baseline) && sameGraph(evaluations.get(100), baseline100) ? "yes" : "NO"}`,
        `Component overhead at 100 services: ${overheadText(medianMs(evaluations.get(100)), medianMs(baseline100))}`,
        // Other work on the machine shows up as spread between runs; the load average says whether there was any.
        `1-minute load average: ${round(loadBefore, 2)} before, ${round(os.loadavg()[0], 2)} after (${os.availableParallelism()} CPUs)`,
        e2e ? `e2e figures from ${path.relative(PROJECT_ROOT, E2E_REPORT)} (${e2e.takenAt.toISOString()})` : `No e2e report (${path.relative(PROJECT_ROOT, E2E_REPORT)}): run the e2e suite to add its failover and load-balancing figures.`,
      );
      process.stdout.write(out.join("\n") + "\n");
    }
    return all.some((s) => s.error) ? 1 : 0;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const roundOrNull = (v: number | null) => (v === null ? null : round(v, 1));

function detailsTable(all: readonly Series[]): string {
  return textTable(
    ["measurement", "median ms", "runs (ms)", "startup ms", "resources", "peak RSS MiB", "notes"],
    all.map((s) => {
      const first = s.samples[0];
      const notes = [
        s.error ? "CRASHED" : "",
        first?.violations !== undefined ? `${first.violations} violations` : "",
        first?.graph ? `depth ${first.graph.depth}, ${first.graph.edges} edges` : "",
      ].filter(Boolean);
      return [
        s.label,
        s.samples.length > 0 ? String(round(median(s.samples.map((x) => x.ms)), 0)) : "-",
        s.samples.map((x) => round(x.ms, 0)).join(", "),
        s.samples.length > 0 ? String(round(median(s.samples.map((x) => x.startupMs)), 0)) : "-",
        first ? `${first.customResources} (${first.services} services)` : "-",
        s.samples.length > 0 ? String(round(Math.max(...s.samples.map((x) => x.peakRssMb)), 0)) : "-",
        notes.join("; "),
      ];
    }),
  );
}

const chainText = (g: GraphDepth | undefined) => (g ? `${g.depth}: ${g.chain.join(" -> ")}` : "n/a");
const overheadText = (program: number | null, plain: number | null) =>
  program === null || plain === null ? "n/a" : `${round(program / plain, 2)}x (${round(program, 0)} ms / ${round(plain, 0)} ms)`;

function sameGraph(program: Series | undefined, plain: Series | undefined): boolean {
  const [a, b] = [graphOf(program), graphOf(plain)];
  return a !== undefined && b !== undefined && a.depth === b.depth && a.resources === b.resources && a.edges === b.edges;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
