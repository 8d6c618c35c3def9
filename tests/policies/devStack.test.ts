/**
 * The reference dev stack, evaluated in-process under mocks, checked with policies/config/dev.json, as evaluated
 * and as `pulumi stack export` writes it (secrets encrypted, and with `--show-secrets`).
 */
import * as path from "path";
import { checkResources } from "../../policies/offline/check";
import { StackResource } from "../../policies/offline/resources";
import { Evaluation, evaluateProgram } from "../../tools/evaluate";
import { MOCK_PRIVATE_KEY_MARKER } from "../../tools/mocks";
import { fromEvaluation } from "../../tools/policyCheck";
import { asStackExport, EXPORT_FORMS } from "./exportForms";

const DEV_CONFIG = path.resolve(__dirname, "../../policies/config/dev.json");

let evaluation: Evaluation;

beforeAll(async () => {
  evaluation = await evaluateProgram({ stack: "dev" });
});

const check = (resources: readonly StackResource[]) =>
  checkResources({ resources, stack: "dev", policyConfigFile: DEV_CONFIG });

describe("the reference dev stack", () => {
  it("has no violation under policies/config/dev.json, which is advisory", async () => {
    const result = await check(fromEvaluation(evaluation.resources));
    expect(result.violations.map((v) => `[${v.enforcementLevel}] ${v.policyName}: ${v.message}`)).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(result.configSource).toBe(`policy config ${path.relative(process.cwd(), DEV_CONFIG)}`);
  });

  it.each(EXPORT_FORMS)("has no violation either as a %s stack export", async (form) => {
    const exported = asStackExport(evaluation.resources, form);
    // The export really holds the program's secrets in that form.
    const secret = exported.find((r) => r.type === "docker:index/secret:Secret")!;
    expect(Object.keys(secret.inputs!.data as object).sort()).toEqual(
      ["4dabf18193072939515e22adb298388d", form].sort(),
    );
    if (form === "ciphertext") {
      // Nothing the program or the providers marked secret is left readable.
      const text = JSON.stringify(exported);
      expect(text).not.toContain(MOCK_PRIVATE_KEY_MARKER);
      expect(text).not.toContain("mock-password");
      expect(text).not.toContain(Buffer.from("-----BEGIN PRIVATE KEY-----").toString("base64").slice(0, 20));
    }
    const result = await check(exported);
    expect(result.violations.map((v) => `[${v.enforcementLevel}] ${v.policyName}: ${v.message}`)).toEqual([]);
  });
});
