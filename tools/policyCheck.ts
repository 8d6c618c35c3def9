/**
 * Offline policy check: evaluates the CrossGuard pack in policies/ without the Pulumi CLI.
 *
 *   npm run policy -- --stack prod                 # the program, run in-process under mocks with Pulumi.prod.yaml
 *   npm run policy -- --state export.json          # a `pulumi stack export` file (any stack, any program)
 *   npm run policy -- ... --policy-config <file>   # instead of policies/config/<stack>.json
 *
 * Prints one line per violation (`[mandatory] <policy>: <message> (<urn>)`) and a summary.
 * Exit codes: 0 no mandatory violation, 1 at least one, 2 unreadable input.
 */
import * as fs from "fs";
import * as path from "path";
import { checkResources } from "../policies/offline/check";
import { InputError, parseStackExport, stackNameOf, StackResource } from "../policies/offline/resources";
import { evaluateProgram, RecordedResource } from "./evaluate";

const USAGE = `usage: npm run policy -- (--stack <name> | --state <stack-export.json>) [--policy-config <file>]

  --stack <name>          run the program in-process under mocks with Pulumi.<name>.yaml
  --state <file>          check a \`pulumi stack export\` file
  --policy-config <file>  policy config to use (default: policies/config/<stack>.json when present)

Exit codes: 0 no mandatory violation, 1 mandatory violations, 2 unreadable input.`;

export interface CliOptions {
  readonly stack?: string;
  readonly state?: string;
  readonly policyConfig?: string;
}

export function parseArgs(argv: readonly string[]): CliOptions | "help" {
  const options: { stack?: string; state?: string; policyConfig?: string } = {};
  const flags: Record<string, keyof typeof options> = {
    "--stack": "stack",
    "--state": "state",
    "--policy-config": "policyConfig",
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return "help";
    const [flag, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const key = flags[flag];
    if (!key) throw new InputError(`unknown argument "${arg}"\n${USAGE}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === "" || value.startsWith("--"))
      throw new InputError(`${flag} needs a value\n${USAGE}`);
    options[key] = value;
  }
  if (!options.stack && !options.state) throw new InputError(`give --stack or --state\n${USAGE}`);
  return options;
}

export function fromEvaluation(resources: readonly RecordedResource[]): StackResource[] {
  return resources.map((r) => ({
    urn: r.urn,
    type: r.type,
    id: r.id || undefined,
    custom: r.custom,
    inputs: r.inputs,
    outputs: r.outputs,
    parent: r.parent,
    dependencies: [...r.dependencies],
    propertyDependencies: Object.fromEntries(Object.entries(r.propertyDependencies).map(([k, v]) => [k, [...v]])),
  }));
}

async function loadResources(options: CliOptions): Promise<{ resources: StackResource[]; stack?: string }> {
  if (options.state) {
    const file = path.resolve(options.state);
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      throw new InputError(
        `cannot read state file ${options.state}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    const resources = parseStackExport(text, options.state);
    return { resources, stack: options.stack ?? stackNameOf(resources) };
  }
  let evaluation;
  try {
    evaluation = await evaluateProgram({ stack: options.stack! });
  } catch (e) {
    throw new InputError(`cannot evaluate stack "${options.stack}": ${(e as Error).message}`);
  }
  return { resources: fromEvaluation(evaluation.resources), stack: options.stack };
}

export async function main(
  argv: readonly string[],
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  try {
    const options = parseArgs(argv);
    if (options === "help") {
      out(USAGE);
      return 0;
    }
    const { resources, stack } = await loadResources(options);
    const result = await checkResources({
      resources,
      stack,
      policyConfigFile: options.policyConfig ? path.resolve(options.policyConfig) : undefined,
    });
    for (const line of result.lines) out(line);
    return result.exitCode;
  } catch (e) {
    if (e instanceof InputError) {
      err(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(3);
    },
  );
}
