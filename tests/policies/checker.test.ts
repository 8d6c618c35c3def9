/**
 * The offline checker's command line: `--state` on stack exports (ours and a stack this program did
 * not generate), output lines, policy config selection and exit codes.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../../tools/policyCheck";

const ROOT = path.resolve(__dirname, "../..");
const FIXTURES = path.join(__dirname, "fixtures");
const CLEAN = path.join(FIXTURES, "clean-stack-export.json");
const FOREIGN = path.join(FIXTURES, "foreign-stack-export.json");
const PROD_CONFIG = path.join(ROOT, "policies/config/prod.json");

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    argv,
    (l) => out.push(l),
    (l) => err.push(l),
  );
  return { code, out, err };
}

function tempFile(name: string, content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-check-"));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

describe("npm run policy -- --state", () => {
  it("passes a compliant stack export whose services join networks by id and by name", async () => {
    const { code, out } = await run("--state", CLEAN, "--policy-config", PROD_CONFIG);
    expect(code).toBe(0);
    expect(out).toEqual([
      expect.stringMatching(
        /^Policy pack iot-swarm-net-policies: \d+ policies enabled \(policy config .*prod\.json\), 15 resources checked in stack "site"\.$/,
      ),
      "0 mandatory violations, 0 advisory violations.",
    ]);
  });

  it("catches, in that export, a shared network that no declared flow explains any more", async () => {
    const doc = JSON.parse(fs.readFileSync(CLEAN, "utf8"));
    const proxy = doc.deployment.resources.find((r: { urn: string }) =>
      r.urn.endsWith("docker:index/service:Service::proxy"),
    );
    for (const props of [proxy.inputs, proxy.outputs])
      props.labels.find((l: { label: string }) => l.label === "iot.flows").value = "";
    const { code, out } = await run(
      "--state",
      tempFile("export.json", JSON.stringify(doc)),
      "--policy-config",
      PROD_CONFIG,
    );
    expect(code).toBe(1);
    expect(out).toContainEqual(
      expect.stringMatching(
        /^\[mandatory\] enforce-declared-segmentation: service "proxy" and service "api" can reach each other on "site-backend" but share no tier and have no declared flow \(between urn:\S+::proxy and urn:\S+::api\) \(urn:\S+::proxy\)$/,
      ),
    );
  });

  it("fails a stack it did not generate, with one line per violation and a summary", async () => {
    const { code, out } = await run("--state", FOREIGN, "--policy-config", PROD_CONFIG);
    expect(code).toBe(1);
    const redis = "urn:pulumi:legacy::plant-telemetry::docker:index/container:Container::redis";
    expect(out).toContain(
      `[mandatory] disallow-host-and-default-bridge-networks: container "redis" joins the host network: it shares the node's network stack and every port it opens is open on the node. (${redis})`,
    );
    expect(out).toContain(
      `[mandatory] disallow-sensitive-port-publishing: container "redis" publishes 6379->6379/tcp, a Redis port that must stay inside the swarm. (${redis})`,
    );
    expect(out).toContainEqual(
      expect.stringMatching(/^\[mandatory\] disallow-plaintext-mqtt: service "broker" publishes plaintext MQTT/),
    );
    expect(out).toContainEqual(expect.stringMatching(/^\[mandatory\] disallow-docker-socket-mount: container "redis"/));
    expect(out[out.length - 1]).toMatch(
      /^\d+ mandatory violations, \d+ advisory violations\. Mandatory violations block `pulumi up`\.$/,
    );
    // Mandatory lines come first.
    const firstAdvisory = out.findIndex((l) => l.startsWith("[advisory]"));
    expect(out.slice(firstAdvisory).some((l) => l.startsWith("[mandatory]"))).toBe(false);
  });

  it("uses the pack's advisory default for a stack without a policies/config/<stack>.json", async () => {
    const { code, out } = await run("--state", FOREIGN);
    expect(code).toBe(0);
    expect(out.filter((l) => l.startsWith("[mandatory]"))).toEqual([]);
    expect(out).toContainEqual(expect.stringContaining("(no policy config: pack default advisory)"));
  });

  it("picks policies/config/<stack>.json from the stack named in the URNs", async () => {
    const doc = fs.readFileSync(FOREIGN, "utf8").replace(/urn:pulumi:legacy::/g, "urn:pulumi:prod::");
    const { code, out } = await run("--state", tempFile("export.json", doc));
    expect(code).toBe(1);
    expect(out).toContainEqual(expect.stringContaining("(policy config policies/config/prod.json)"));
  });

  it("lets --stack choose the config of a state file over the stack its URNs name", async () => {
    // The URNs say prod (mandatory, exit 1, as above); --stack dev picks the advisory dev config.
    const doc = fs.readFileSync(FOREIGN, "utf8").replace(/urn:pulumi:legacy::/g, "urn:pulumi:prod::");
    const { code, out } = await run("--state", tempFile("export.json", doc), "--stack", "dev");
    expect(out).toContainEqual(expect.stringContaining("(policy config policies/config/dev.json)"));
    expect(out.filter((l) => l.startsWith("[mandatory]"))).toEqual([]);
    expect(code).toBe(0);
  });

  it("exits 2 when the state file is missing", async () => {
    const { code, err } = await run("--state", path.join(FIXTURES, "missing.json"));
    expect(code).toBe(2);
    expect(err.join("\n")).toMatch(/cannot read state file .*missing\.json: ENOENT/);
  });

  it("exits 2 when the state file is not JSON", async () => {
    const { code, err } = await run("--state", tempFile("bad.json", "{ not json"));
    expect(code).toBe(2);
    expect(err.join("\n")).toMatch(/bad\.json is not JSON/);
  });

  it("exits 2 when the JSON is not a stack export", async () => {
    const { code, err } = await run("--state", tempFile("other.json", JSON.stringify({ stacks: [] })));
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("has no deployment.resources array; expected the output of `pulumi stack export`");
  });

  it("exits 2 on an invalid policy config, naming the bad key", async () => {
    const config = tempFile(
      "policy.json",
      JSON.stringify({ all: "mandatory", "restrict-port-publishers": { allowedPublisher: ["gateway"] } }),
    );
    const { code, err } = await run("--state", CLEAN, "--policy-config", config);
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("restrict-port-publishers.allowedPublisher: unknown config property");
  });

  it("exits 2 without --stack or --state", async () => {
    const { code, err } = await run();
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("give --stack or --state");
  });
});

describe("npm run policy -- --stack (as a process)", () => {
  const tsx = path.join(ROOT, "node_modules/.bin/tsx");
  const cli = (...args: string[]) =>
    spawnSync(tsx, ["tools/policyCheck.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });

  it("exits 0 on the reference prod stack", () => {
    const result = cli("--stack", "prod");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^0 mandatory violations, \d+ advisory violations\.$/m);
  });

  it("exits 2 on an unknown stack", () => {
    const result = cli("--stack", "staging");
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/error: cannot evaluate stack "staging": no stack "staging"/);
  });
});
