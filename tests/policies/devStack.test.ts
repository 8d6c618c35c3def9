/** The reference dev stack, evaluated in-process under mocks, checked with policies/config/dev.json. */
import * as path from "path";
import { checkResources } from "../../policies/offline/check";
import { evaluateProgram } from "../../tools/evaluate";
import { fromEvaluation } from "../../tools/policyCheck";

const DEV_CONFIG = path.resolve(__dirname, "../../policies/config/dev.json");

describe("the reference dev stack", () => {
  it("has no violation under policies/config/dev.json, which is advisory", async () => {
    const evaluation = await evaluateProgram({ stack: "dev" });
    const result = await checkResources({
      resources: fromEvaluation(evaluation.resources),
      stack: "dev",
      policyConfigFile: DEV_CONFIG,
    });
    expect(result.violations.map((v) => `[${v.enforcementLevel}] ${v.policyName}: ${v.message}`)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.configSource).toBe(`policy config ${path.relative(process.cwd(), DEV_CONFIG)}`);
  });
});
