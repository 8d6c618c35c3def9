/**
 * The two prod config choices `npm run plan` warns of are mandatory violations of the pack under
 * policies/config/prod.json: an admin allowlist open to the world, and a broker without client certificates.
 */
import * as fs from "fs";
import * as path from "path";
import { checkResources } from "../../policies/offline/check";
import { evaluateProgram } from "../../tools/evaluate";
import { fromEvaluation } from "../../tools/policyCheck";
import { readStackConfig } from "../../tools/stackFile";
import { freshProgram } from "../helpers";

const PROD_CONFIG = path.resolve(__dirname, "../../policies/config/prod.json");

async function mandatoryRules(overrides: Record<string, unknown>): Promise<string[]> {
  const config = { ...readStackConfig("prod").config };
  for (const [k, v] of Object.entries(overrides)) config[`iot-swarm-net:${k}`] = JSON.stringify(v);
  const e = await evaluateProgram({ stack: "prod", config, load: freshProgram });
  const result = await checkResources({
    resources: fromEvaluation(e.resources),
    stack: "prod",
    policyConfigFile: PROD_CONFIG,
  });
  return result.violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => v.policyName);
}

describe("prod config choices the pack refuses", () => {
  it("leaves both rules mandatory in policies/config/prod.json", () => {
    const prod = JSON.parse(fs.readFileSync(PROD_CONFIG, "utf8")) as Record<string, unknown>;
    expect(prod.all).toBe("mandatory");
    for (const rule of ["require-admin-source-allowlist", "require-mqtt-client-certificates"]) {
      expect([undefined, "mandatory"]).toContain(
        typeof prod[rule] === "object" ? (prod[rule] as { enforcementLevel?: string }).enforcementLevel : prod[rule],
      );
    }
  });

  it("reports adminCidrs holding 0.0.0.0/0 as a mandatory require-admin-source-allowlist violation", async () => {
    expect(new Set(await mandatoryRules({ adminCidrs: ["10.50.0.0/24", "0.0.0.0/0"] }))).toEqual(
      new Set(["require-admin-source-allowlist"]),
    );
  });

  it("reports mqtt.requireClientCertificate false as a mandatory require-mqtt-client-certificates violation", async () => {
    expect(new Set(await mandatoryRules({ mqtt: { requireClientCertificate: false } }))).toEqual(
      new Set(["require-mqtt-client-certificates"]),
    );
  });
});
