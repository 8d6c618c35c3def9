import { spawnSync } from "child_process";
import * as path from "path";
import { checkResources } from "../policies/offline/check";
import { Evaluation, evaluateProgram } from "../tools/evaluate";
import { PLAN_WIDTH, renderPlan } from "../tools/plan";
import { fromEvaluation } from "../tools/policyCheck";
import { readStackConfig } from "../tools/stackFile";
import { freshProgram } from "./helpers";

const plan = (...args: string[]) =>
  spawnSync(process.execPath, [require.resolve("tsx/cli"), path.join(__dirname, "..", "tools", "plan.ts"), ...args], {
    encoding: "utf8",
  });

describe("npm run plan", () => {
  let prod: Evaluation | undefined;
  const evaluation = async () => (prod ??= await evaluateProgram({ stack: "prod" }));

  it("prints resources per component, networks, the reachability verdict, ports and discovery", async () => {
    const text = renderPlan(await evaluation());
    expect(text).toMatch(/^Stack prod \(prod\): \d+ resources/);
    expect(text).toMatch(/iot-net +\d+ Network/);
    expect(text).toMatch(/iot-frontend-network +tier +true +true +10\.231\.\d+\.0\/24/);
    expect(text).toContain("Reachability equals the declared intent (same tier or declared flow).");
    expect(text).toMatch(/443\/tcp +gateway +8443 +ingress/);
    expect(text).toMatch(/8883\/tcp +mosquitto +8883/);
    expect(text).toMatch(/mosquitto +mosquitto, mqtt, +vip/);
  });

  it("lists the node roles and labels the placement needs, and the one node each stateful service is pinned to", async () => {
    const text = renderPlan(await evaluation());
    const placement = text.slice(text.indexOf("Placement"), text.indexOf("Service discovery:"));
    expect(placement).toContain("docker node update --label-add iot.state=true <node> (one node only)");
    expect(placement).toContain("docker node update --label-add iot.storage=true <node>");
    expect(placement).toMatch(/node\.role == worker +gateway \(3\) +nodes joined as workers/);
    for (const s of ["redis", "influxdb", "grafana", "prometheus", "node-red", "mosquitto"])
      expect(placement).toMatch(new RegExp(`\\n${s} +prod_${s}-data.*node\\.labels\\.iot\\.s`));
    expect(placement).not.toMatch(/\n(nats|gateway|mqtt-exporter) /);
  });

  // Through the command line: index.ts is evaluated once per process, and each stack needs its own run.
  it.each(["dev", "prod"])("fits every line of the %s plan in 120 columns, wrapping rather than dropping", (stack) => {
    const run = plan("--stack", stack);
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^Stack ${stack} \\(${stack}\\): \\d+ resources$`));
    expect(lines.filter((l) => l.length > PLAN_WIDTH)).toEqual([]);
    expect(PLAN_WIDTH).toBe(120);
    const json = JSON.parse(plan("--stack", stack, "--json").stdout) as { discovery: { networks: string[] }[] };
    const text = lines.join(" ").replace(/\s+/g, " ");
    for (const d of json.discovery) for (const n of d.networks) expect(text).toContain(n);
  });

  it("says why it counts fewer resources than the policy check, with the policy check's own count", async () => {
    const e = await evaluation();
    const text = renderPlan(e).split("\n").join(" ");
    const custom = e.resources.filter((r) => r.custom).length;
    const { lines } = await checkResources({ resources: fromEvaluation(e.resources), stack: "prod" });
    const checked = Number(/(\d+) resources checked/.exec(lines.join("\n"))![1]);
    expect(checked).toBeGreaterThan(custom);
    expect(text).toContain(`Stack prod (prod): ${custom} resources`);
    expect(text).toContain(
      `\`npm run policy\` checks ${checked}: these and the ${checked - custom} component resources`,
    );
  });

  it("warns, naming the config key, of a prod admin allowlist open to the world and a broker without client certificates", async () => {
    const config = {
      ...readStackConfig("prod").config,
      "iot-swarm-net:adminCidrs": JSON.stringify(["10.50.0.0/24", "0.0.0.0/0"]),
      "iot-swarm-net:mqtt": JSON.stringify({ requireClientCertificate: false }),
    };
    const text = renderPlan(await evaluateProgram({ stack: "prod", config, load: freshProgram }));
    const warnings = text.slice(text.indexOf("Warnings:"), text.indexOf("Resources per component:"));
    expect(warnings).toMatch(/^Warnings:\n- iot-swarm-net:adminCidrs\[1\]: 0\.0\.0\.0\/0 admits every address/);
    expect(warnings).toContain("- iot-swarm-net:mqtt.requireClientCertificate: is false");
    expect(warnings).not.toContain("adminCidrs[0]");
    expect(text.split("\n").filter((l) => l.length > PLAN_WIDTH)).toEqual([]);
    expect(renderPlan(await evaluation())).not.toContain("Warnings:");
  });

  it("does not warn of the same settings outside prod", async () => {
    const config = {
      ...readStackConfig("dev").config,
      "iot-swarm-net:adminCidrs": JSON.stringify(["0.0.0.0/0"]),
      "iot-swarm-net:mqtt": JSON.stringify({ requireClientCertificate: false }),
    };
    expect(renderPlan(await evaluateProgram({ stack: "dev", config, load: freshProgram }))).not.toContain("Warnings:");
  });

  it("exits 2 naming the available stacks when the stack does not exist", () => {
    const run = plan("--stack", "staging");
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/no stack "staging".*stacks: .*dev.*prod/s);
  });
});
