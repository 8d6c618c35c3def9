/**
 * The end of an e2e run, shared by every runner: whichever way the run ends (its steps finish, a
 * step throws, a signal, an uncaught error or the deadline), the teardown runs exactly once, the
 * report is written with every reason the run did not complete, a summary is printed, and the
 * process exits with the verdict. A runner supplies its teardown and how its report concludes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIG_NAMESPACE, parseStackConfig } from "../../model/config";
import { resolveTopology } from "../../model/resolve";
import { Topology } from "../../model/types";
import { PROJECT_ROOT } from "../../tools/stackFile";
import { abortOn } from "./abort";
import { Progress } from "./progress";
import { errorText } from "./util";

/** What every runner's final report says at least. */
export interface Concluded {
  readonly passed: boolean;
  readonly failures: readonly string[];
}

export interface LifecycleOptions<R extends Concluded> {
  readonly progress: Progress;
  /** Where the final report goes (JSON). */
  readonly reportPath: string;
  /** The full log, named in shortened messages so the reader knows where the rest is. */
  readonly logPath: string;
  /** The run is aborted (and torn down) after this many seconds. */
  readonly deadlineS: number;
  /** The report's step durations; `total` is set at the end. */
  readonly durations: Record<string, number>;
  /** Removes what the run created. Called once, however the run ends. */
  readonly teardown: () => Promise<void>;
  /** The final report, given the reasons the run did not complete (prefixed already). */
  readonly conclude: (incomplete: string[]) => R;
  /** The text printed after the run. */
  readonly summary: (report: R) => string;
}

/** How a runner's report concludes: the reasons the run did not complete, then its verdict's failures. */
export function concludeWith<P extends object>(report: P, verdict: (report: P) => readonly string[]) {
  return (incomplete: string[]): P & { passed: boolean; failures: string[] } => {
    const failures = [...incomplete, ...verdict(report)];
    return { ...report, passed: failures.length === 0, failures };
  };
}

export class RunLifecycle<R extends Concluded> {
  private readonly fatal: string[] = [];
  private exitingNow = false;
  private teardownPromise?: Promise<void>;
  private watchdog?: NodeJS.Timeout;

  constructor(private readonly opts: LifecycleOptions<R>) {}

  /** True once a signal, an uncaught error or the deadline took over: the teardown owns the stack then. */
  get exiting(): boolean {
    return this.exitingNow;
  }

  /** The start of a long message (the harness joins every failed resource's error); the log keeps it whole. */
  brief(text: string, max = 600): string {
    if (text.length <= max) return text;
    const log = path.relative(PROJECT_ROOT, this.opts.logPath);
    return `${text.slice(0, max)}… (${text.length - max} more characters in ${log})`;
  }

  /** Runs the steps and returns the exit code; never resolves when an abort owns the exit. */
  async run(steps: () => Promise<void>): Promise<number> {
    abortOn((why, code) => this.abort(why, code));
    const { deadlineS } = this.opts;
    this.watchdog = setTimeout(() => this.abort(`deadline of ${deadlineS} s reached`, 1), deadlineS * 1000);
    try {
      await steps();
    } catch (e) {
      // After a signal or the deadline the teardown pulls the stack from under the run: that error is no news.
      if (!this.exitingNow) this.recordFatal(e);
    } finally {
      clearTimeout(this.watchdog);
    }
    if (this.exitingNow) return new Promise<number>(() => undefined);
    return this.finish();
  }

  /** Runs the teardown once; later calls wait for the same one. */
  teardown(): Promise<void> {
    return (this.teardownPromise ??= this.opts.teardown());
  }

  private recordFatal(e: unknown): void {
    const { progress } = this.opts;
    this.fatal.push(this.brief(errorText(e)));
    progress.line(`ERROR: ${this.brief(errorText(e))}`);
    progress.detail(errorText(e));
  }

  private abort(why: string, code: number): void {
    if (this.exitingNow) return;
    this.exitingNow = true;
    this.fatal.push(this.brief(why));
    this.opts.progress.line(`${this.brief(why)}: tearing down before exit`);
    void this.finish().finally(() => process.exit(code));
  }

  private async finish(): Promise<number> {
    const { progress, durations, reportPath } = this.opts;
    await this.teardown();
    durations.total = Math.round(progress.seconds() * 10) / 10;
    const final = this.opts.conclude(this.fatal.map((f) => `run did not complete: ${f}`));
    fs.writeFileSync(reportPath, JSON.stringify(final, null, 2) + "\n");
    progress.line(`wrote ${path.relative(process.cwd(), reportPath)}`);
    process.stdout.write(`\n${this.opts.summary(final)}\n\n`);
    await progress.close();
    return final.passed ? 0 : 1;
  }
}

/** Runs a runner's main and exits with its code; an error that escapes it exits 1 with the runner's name. */
export function exitWith(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${name}: ${errorText(e)}\n`);
      process.exit(1);
    },
  );
}

/** The model of a stack, from its Pulumi config (only this project's namespace). */
export function loadTopology(config: Record<string, string>): Topology {
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(config))
    if (k.startsWith(`${CONFIG_NAMESPACE}:`)) raw[k.slice(CONFIG_NAMESPACE.length + 1)] = v;
  return resolveTopology(parseStackConfig(raw));
}
