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
  for (const arg of argv)
    if (arg.startsWith("--") && !known.has(arg))
      throw new Error(`unknown argument "${arg}"; use --json, --markdown, --repeat N`);
  const i = argv.indexOf("--repeat");
  const repeat = i >= 0 ? Number(argv[i + 1]) : DEFAULT_REPEAT;
  if (!Number.isInteger(repeat) || repeat < 1)
    throw new Error(`--repeat must be a positive integer, but ${JSON.stringify(argv[i + 1])} was provided`);
  return { json: argv.includes("--json"), markdown: argv.includes("--markdown"), repeat };
}

/** Runs bench/measure.ts in a new Node process with this process's TypeScript loader. */
function measureOnce(args: readonly string[]): Promise<MeasureResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, MEASURE, ...args], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      if (code !== 0)
        return reject(new Error(`measure.ts ${args.join(" ")} exited ${code}:\n${stderr.trim() || stdout.trim()}`));
      try {
        resolve(JSON.parse(last) as MeasureResult);
      } catch {
        reject(new Error(`measure.ts ${args.join(" ")} printed no result:\n${stdout}${stderr}`));
      }
    });
  });
}

interface Arm {
  readonly label: string;
  readonly args: readonly string[];
  /** Where the first run writes its recorded resources, for the baseline and the policy check. */
  readonly record?: string;
}

interface Series {
  readonly label: string;
  readonly samples: MeasureResult[];
  readonly error?: string;
}

const medianMs = (s: Series | undefined) =>
  s && !s.error && s.samples.length > 0 ? median(s.samples.map((x) => x.ms)) : null;
const graphOf = (s: Series | undefined): GraphDepth | undefined => (s && !s.error ? s.samples[0]?.graph : undefined);

/**
 * The measurements of one bench run: every series it measured, in order, and the directory where
 * the first evaluations record the resources the baselines and policy checks read.
 */
class Measurements {
  readonly all: Series[] = [];
  readonly work = fs.mkdtempSync(path.join(os.tmpdir(), "iot-bench-"));

  constructor(private readonly progress: (line: string) => void) {}

  recording(name: string): string {
    return path.join(this.work, `${name}.json`);
  }

  /**
   * `repeat` measured rounds after one discarded warm-up round, which fills the TypeScript loader's
   * transpile cache and the disk cache and records the evaluations that give `record`. Arms of one
   * call run alternately, so a change in the machine's load hits all of them alike (their ratio is
   * a figure); an arm's warm-up may read what an earlier arm's warm-up recorded.
   */
  async arms(arms: readonly Arm[], repeat: number, warmUp = true): Promise<Series[]> {
    const samples = arms.map((): MeasureResult[] => []);
    const errors = arms.map((): string | undefined => undefined);
    try {
      for (let round = warmUp ? -1 : 0; round < repeat; round++) {
        for (let i = 0; i < arms.length; i++) {
          const { args, record } = arms[i];
          const recordNow = record !== undefined && round === (warmUp ? -1 : 0);
          this.progress(`  ${arms[i].label} (${round < 0 ? "warm-up" : `${round + 1}/${repeat}`})`);
          try {
            const result = await measureOnce(recordNow ? [...args, "--record", record] : args);
            if (round >= 0) samples[i].push(result);
          } catch (e) {
            errors[i] = (e as Error).message;
            throw e;
          }
        }
      }
    } catch (e) {
      process.stderr.write(
        `${arms[errors.findIndex((x) => x !== undefined)]?.label ?? "a measurement"} crashed: ${(e as Error).message}\n`,
      );
      // An arm that did not crash but lost its partner's rounds is incomplete too.
      errors.forEach((err, i) => (errors[i] = err ?? "stopped: another measurement of its group crashed"));
    }
    const result = arms.map((arm, i): Series => ({ label: arm.label, samples: samples[i], error: errors[i] }));
    this.all.push(...result);
    return result;
  }

  async one(arm: Arm, repeat: number, warmUp = true): Promise<Series> {
    return (await this.arms([arm], repeat, warmUp))[0];
  }
}

/** What the figures are computed from. */
interface Measured {
  readonly reference: Series;
  readonly baseline: Series;
  readonly evaluations: Map<number, Series>;
  readonly baseline100?: Series;
  readonly policies: Map<number, Series>;
}

const evaluationArm = (size: number, record?: string): Arm => ({
  label: `evaluation, ${size} services`,
  args: ["--kind", "evaluation", "--services", String(size)],
  record,
});

async function measureEverything(m: Measurements, n: number): Promise<Measured> {
  // The program and its plain baseline alternate, so their ratio holds up on a busy machine.
  const [reference, baseline] = await m.arms(
    [
      {
        label: "evaluation, reference stack",
        args: ["--kind", "evaluation", "--stack", "dev"],
        record: m.recording("reference"),
      },
      { label: "plain baseline, reference stack", args: ["--kind", "baseline", "--input", m.recording("reference")] },
    ],
    n,
  );
  const evaluations = new Map<number, Series>();
  let baseline100: Series | undefined;
  for (const size of EVALUATION_SIZES) {
    if (size === 100) {
      const [program, plain] = await m.arms(
        [
          evaluationArm(size, m.recording("100")),
          { label: "plain baseline, 100 services", args: ["--kind", "baseline", "--input", m.recording("100")] },
        ],
        n,
      );
      evaluations.set(size, program);
      baseline100 = plain;
    } else {
      evaluations.set(size, await m.one(evaluationArm(size, size === 500 ? m.recording("500") : undefined), n));
    }
  }
  // One run only: it exists to give the policy check its 1000 services.
  const large = await m.one(
    { ...evaluationArm(1000, m.recording("1000")), label: "evaluation, 1000 services (1 run, for the policy check)" },
    1,
    false,
  );
  const policies = new Map<number, Series>();
  for (const size of POLICY_SIZES) {
    const source = size === 1000 ? large : evaluations.get(size);
    if (source?.error) continue;
    policies.set(
      size,
      await m.one(
        { label: `policy check, ${size} services`, args: ["--kind", "policy", "--input", m.recording(String(size))] },
        n,
      ),
    );
  }
  return { reference, baseline, evaluations, baseline100, policies };
}

function figuresOf(all: readonly Series[], x: Measured): BenchFigures {
  const rss = all.flatMap((s) => s.samples.map((r) => r.peakRssMb));
  return {
    evaluation: Object.fromEntries(
      EVALUATION_SIZES.map((size) => [String(size), roundOrNull(medianMs(x.evaluations.get(size)))]),
    ),
    policy: Object.fromEntries(POLICY_SIZES.map((size) => [String(size), roundOrNull(medianMs(x.policies.get(size)))])),
    dagDepth: graphOf(x.reference)?.depth ?? null,
    dagDepth500: graphOf(x.evaluations.get(500))?.depth ?? null,
    baselineOverhead: roundOrNull(pairedRatio(x.reference, x.baseline), 2),
    peakRssMb: rss.length > 0 ? round(Math.max(...rss), 0) : null,
    reference: roundOrNull(medianMs(x.reference)),
  };
}

/** The figures as a table (or Markdown), then the details a reader needs to trust them. */
function reportText(
  options: Options,
  figures: BenchFigures,
  all: readonly Series[],
  x: Measured,
  e2e: ReturnType<typeof readE2eReport>,
  loadBefore: number,
): string {
  const n = options.repeat;
  const rows = figureRows(figures, { baselineOverhead100: pairedRatio(x.evaluations.get(100), x.baseline100) });
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
    `Longest chain, reference stack: ${chainText(graphOf(x.reference))}`,
    `Longest chain, 500 services:    ${chainText(graphOf(x.evaluations.get(500)))}`,
    `Baseline graphs match the program's: ${sameGraph(x.reference, x.baseline) && sameGraph(x.evaluations.get(100), x.baseline100) ? "yes" : "NO"}`,
    `Component overhead (median of per-round ratios; medians): ${overheadText(x.reference, x.baseline)} on the reference stack, ${overheadText(x.evaluations.get(100), x.baseline100)} at 100 services`,
    // Other work on the machine shows up as spread between runs; the load average says whether there was any.
    `1-minute load average: ${round(loadBefore, 2)} before, ${round(os.loadavg()[0], 2)} after (${os.availableParallelism()} CPUs)`,
    e2e
      ? `e2e figures from ${path.relative(PROJECT_ROOT, E2E_REPORT)} (${e2e.takenAt.toISOString()})`
      : `No e2e report (${path.relative(PROJECT_ROOT, E2E_REPORT)}): run the e2e suite to add its failover and load-balancing figures.`,
  );
  return out.join("\n") + "\n";
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const progress = (line: string) => {
    if (!options.json) process.stderr.write(`${line}\n`);
  };
  const m = new Measurements(progress);
  const loadBefore = os.loadavg()[0];
  try {
    progress("Measuring (each run in a fresh process):");
    const measured = await measureEverything(m, options.repeat);
    const figures = figuresOf(m.all, measured);
    const e2e = readE2eReport(E2E_REPORT);
    if (e2e) figures.e2e = e2e.figures;
    if (options.json) process.stdout.write(JSON.stringify(figures, null, 2) + "\n");
    else process.stdout.write(reportText(options, figures, m.all, measured, e2e, loadBefore));
    return m.all.some((s) => s.error) ? 1 : 0;
  } finally {
    fs.rmSync(m.work, { recursive: true, force: true });
  }
}

const roundOrNull = (v: number | null, digits = 1) => (v === null ? null : round(v, digits));

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
/**
 * Median over rounds of program time / baseline time: the two arms alternate, so each round's pair
 * ran under the same load, and the ratio of a pair is steadier than the ratio of two medians.
 */
function pairedRatio(program: Series | undefined, plain: Series | undefined): number | null {
  if (
    !program ||
    !plain ||
    program.error ||
    plain.error ||
    program.samples.length === 0 ||
    program.samples.length !== plain.samples.length
  )
    return null;
  return median(program.samples.map((p, i) => p.ms / plain.samples[i].ms));
}

function overheadText(program: Series | undefined, plain: Series | undefined): string {
  const ratio = pairedRatio(program, plain);
  const [a, b] = [medianMs(program), medianMs(plain)];
  return ratio === null || a === null || b === null
    ? "n/a"
    : `${round(ratio, 2)}x (${round(a, 0)} ms vs ${round(b, 0)} ms)`;
}

function sameGraph(program: Series | undefined, plain: Series | undefined): boolean {
  const [a, b] = [graphOf(program), graphOf(plain)];
  return (
    a !== undefined && b !== undefined && a.depth === b.depth && a.resources === b.resources && a.edges === b.edges
  );
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
