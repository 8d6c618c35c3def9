import { spawnSync } from "child_process";
import * as path from "path";
import { evaluateProgram } from "../tools/evaluate";
import { renderPlan } from "../tools/plan";

describe("npm run plan", () => {
  it("prints resources per component, networks, the reachability verdict, ports and discovery", async () => {
    const text = renderPlan(await evaluateProgram({ stack: "prod" }));
    expect(text).toMatch(/^Stack prod \(prod\): \d+ resources/);
    expect(text).toMatch(/iot-net +\d+ Network/);
    expect(text).toMatch(/iot-frontend-network +tier +true +true +10\.231\.\d+\.0\/24/);
    expect(text).toContain("Reachability equals the declared intent (same tier or declared flow).");
    expect(text).toMatch(/443\/tcp +gateway +8443 +ingress/);
    expect(text).toMatch(/8883\/tcp +mosquitto +8883/);
    expect(text).toMatch(/mosquitto +mosquitto, mqtt, broker, tasks\.mosquitto +vip/);
  });

  it("exits 2 naming the available stacks when the stack does not exist", () => {
    const run = spawnSync(
      process.execPath,
      [require.resolve("tsx/cli"), path.join(__dirname, "..", "tools", "plan.ts"), "--stack", "staging"],
      { encoding: "utf8" },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/no stack "staging".*stacks: .*dev.*prod/s);
  });
});
