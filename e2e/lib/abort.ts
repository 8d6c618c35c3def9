/**
 * What ends an e2e run early: a signal, or an error nothing caught. Each calls `abort`, which tears the run
 * down before the process exits.
 */
import { programRunning } from "../harness";
import { errorText } from "./util";

export function abortOn(abort: (why: string, code: number) => void): void {
  // Handlers stay installed: npm and tsx relay the same signal again, and the default action would cut the teardown short.
  process.on("SIGINT", () => abort("interrupted (SIGINT)", 130));
  process.on("SIGTERM", () => abort("terminated (SIGTERM)", 143));
  // A bug in a probe (an unhandled error event, a forgotten rejection) must not skip the teardown.
  process.on("uncaughtException", (e) => abort(`uncaught exception: ${e.stack ?? errorText(e)}`, 1));
  process.on("unhandledRejection", (e) => {
    // A failed output of the program being applied: runProgram reports it with its resource.
    if (!programRunning()) abort(`unhandled rejection: ${e instanceof Error ? e.stack : String(e)}`, 1);
  });
}
