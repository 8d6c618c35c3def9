/** Progress lines on stdout (with the run's elapsed time) and a full log file for diagnostics. */
import * as fs from "node:fs";

export class Progress {
  readonly startedAt = Date.now();
  private readonly file?: fs.WriteStream;

  constructor(logFile?: string) {
    if (logFile) this.file = fs.createWriteStream(logFile, { flags: "w" });
  }

  /** Seconds since the run started. */
  seconds(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  private stamp(): string {
    return `[e2e ${this.seconds().toFixed(1).padStart(6)}s]`;
  }

  /** A line for the reader and the log. */
  line(text: string): void {
    for (const l of text.split("\n")) process.stdout.write(`${this.stamp()} ${l}\n`);
    this.detail(text);
  }

  /** A line for the log file only (harness chatter, probe output). */
  detail(text: string): void {
    this.file?.write(`${new Date().toISOString()} ${text}\n`);
  }

  /** Announces a step and returns a function giving its duration in seconds. */
  step(name: string): () => number {
    const t0 = Date.now();
    this.line(`== ${name}`);
    return () => Math.round((Date.now() - t0) / 100) / 10;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.file ? this.file.end(resolve) : resolve()));
  }
}
