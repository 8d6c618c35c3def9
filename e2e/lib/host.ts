/** Commands on this host: the engine and image scripts (output streamed), and short captured commands. */
import { spawn, spawnSync } from "node:child_process";
import { Progress } from "./progress";

/** Runs a script, streaming each output line as progress; rejects with its tail on a non-zero exit. */
export function runStreamed(
  progress: Progress,
  label: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    const tail: string[] = [];
    const onData = (buf: Buffer) => {
      for (const l of buf.toString().split("\n")) {
        if (!l.trim()) continue;
        tail.push(l);
        if (tail.length > 20) tail.shift();
        progress.line(`  ${label}: ${l}`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}:\n${tail.join("\n")}`)),
    );
  });
}

export interface Captured {
  status: number;
  stdout: string;
  stderr: string;
}

export function capture(cmd: string, args: string[]): Captured {
  const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return {
    status: r.status ?? -1,
    stdout: r.stdout ?? "",
    stderr: (r.stderr ?? "") + (r.error ? String(r.error) : ""),
  };
}
