/**
 * `npm run check:install`: what a user's `npm ci --omit=dev && pulumi up` compiles. The program's files are
 * copied to a scratch directory with the lockfile, installed without dev dependencies (from npm's cache when
 * it has them), and loaded the way the Pulumi language host loads a TypeScript program: @pulumi/pulumi's
 * ts-node (project-local or its vendored 7.0.1) with type-checking on and the project's tsconfig.json, under
 * Pulumi's mocks with the dev stack's config. Exits 1 with the compiler's message when it does not compile.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "./stackFile";

/** What a Pulumi project directory holds for `pulumi up`: the program, its config and its lockfile. */
const PROJECT_FILES = [
  "Pulumi.yaml",
  "Pulumi.dev.yaml",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "index.ts",
];
const PROJECT_DIRS = ["model", "components"];
/** The lockfile names the pack as a workspace; npm needs its package.json to install. */
const WORKSPACE_MANIFESTS = ["policies/package.json"];
/** The pack's modules the program imports (the env-secret rule, in model/validateServices.ts); they import nothing else. */
const PACK_MODULES = ["policies/lib/secretEnv.ts", "policies/lib/secretPatterns.ts"];

/** Loads index.ts as run.ts in @pulumi/pulumi/cmd/run does, then evaluates it under mocks. */
const LOADER = `
const path = require("path");
const tsutils = require("@pulumi/pulumi/tsutils");
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
require(tsnodeRequire).register({ typeCheck: true, project: "tsconfig.json", compiler: typescriptRequire });
const pulumi = require("@pulumi/pulumi");
const yaml = require("fs").readFileSync("Pulumi.dev.yaml", "utf8");
let registered = 0;
pulumi.runtime.setMocks({
  newResource: (a) => { registered++; return { id: a.name + "-id", state: a.inputs }; },
  call: (a) => ({ sha256Digest: "sha256:" + "0".repeat(64) }),
}, "iot-swarm-net", "dev", false).then(() => {
  // The dev stack's config, as the CLI would pass it (only the keys index.ts needs to resolve its topology).
  pulumi.runtime.setAllConfig({ "iot-swarm-net:environment": "dev" });
  require(path.resolve("index.ts"));
  setTimeout(() => { console.log("registered " + registered + " resources"); process.exit(registered > 50 ? 0 : 1); }, 3000);
});
`;

function run(cmd: string, args: string[], cwd: string): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false" },
  });
  return { status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

function main(): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iot-swarm-net-install-"));
  try {
    for (const f of [...PROJECT_FILES, ...WORKSPACE_MANIFESTS, ...PACK_MODULES]) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.copyFileSync(path.join(PROJECT_ROOT, f), path.join(dir, f));
    }
    for (const d of PROJECT_DIRS) fs.cpSync(path.join(PROJECT_ROOT, d), path.join(dir, d), { recursive: true });
    const install = run("npm", ["ci", "--omit=dev", "--prefer-offline", "--ignore-scripts"], dir);
    if (install.status !== 0) {
      console.error(`npm ci --omit=dev failed:\n${install.out}`);
      return 1;
    }
    for (const dev of ["jest", "@types/jest", "tsx"]) {
      if (fs.existsSync(path.join(dir, "node_modules", dev))) {
        console.error(`npm ci --omit=dev installed the dev dependency ${dev}; the check would not prove anything`);
        return 1;
      }
    }
    const load = run(process.execPath, ["-e", LOADER], dir);
    if (load.status !== 0) {
      console.error(`index.ts does not load as pulumi up loads it after npm ci --omit=dev:\n${load.out}`);
      return 1;
    }
    console.log(`npm ci --omit=dev, then index.ts type-checked and loaded as pulumi up does: ${load.out.trim()}`);
    return 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) process.exit(main());
