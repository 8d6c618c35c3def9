/** Reads `Pulumi.<stack>.yaml` the way the Pulumi CLI hands it to the program: namespaced keys, string values. */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

export const PROJECT_ROOT = path.resolve(__dirname, "..");
export const PROJECT_NAME = "iot-swarm-net";

export interface StackConfigFile {
  /** Namespaced keys (`iot-swarm-net:domain`) to the string values Pulumi passes to programs. */
  readonly config: Record<string, string>;
  /** Keys whose values are encrypted (`secure:`); they cannot be read without the Pulumi CLI. */
  readonly secureKeys: readonly string[];
}

export function stackConfigPath(stack: string): string {
  return path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
}

export function readStackConfig(stack: string): StackConfigFile {
  const file = stackConfigPath(stack);
  if (!fs.existsSync(file)) {
    const stacks = fs
      .readdirSync(PROJECT_ROOT)
      .filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))
      .map((f) => f.split(".")[1]);
    throw new Error(`no stack "${stack}": ${file} does not exist (stacks: ${stacks.join(", ")})`);
  }
  const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  const secureKeys: string[] = [];
  for (const [rawKey, value] of Object.entries(doc.config ?? {})) {
    const key = rawKey.includes(":") ? rawKey : `${PROJECT_NAME}:${rawKey}`;
    if (value !== null && typeof value === "object" && "secure" in (value as object)) {
      secureKeys.push(key);
      continue;
    }
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return { config, secureKeys };
}
