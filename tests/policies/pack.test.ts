import * as fs from "fs";
import * as path from "path";
import { CIS, KICS } from "../../policies/lib/catalog";
import { defaultsOf } from "../../policies/lib/config";
import { resolvePackConfig, validateAgainstSchema } from "../../policies/offline/config";
import { readPolicyConfigFile } from "../../policies/offline/check";
import { allPolicies, DEFAULT_ENFORCEMENT } from "../../policies/pack";

const POLICIES_DIR = path.resolve(__dirname, "../../policies");

describe("the pack", () => {
  it("has unique kebab-case policy names that start with a verb", () => {
    const names = allPolicies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names)
      expect(name).toMatch(/^(enforce|disallow|require|restrict|limit)-[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it("gives every policy a one-sentence description, a severity, remediation steps and a catalog mapping or a reason", () => {
    for (const p of allPolicies) {
      expect(p.description).toMatch(/^[A-Z].*\.$/);
      expect(["low", "medium", "high", "critical"]).toContain(p.severity);
      expect(p.remediationSteps?.length ?? 0).toBeGreaterThan(20);
      const tags = p.tags ?? [];
      const mapped = tags.some((t) => t.startsWith("cis-docker-") || t.startsWith("kics-"));
      expect(mapped || tags.includes("beyond-catalogs")).toBe(true);
      for (const tag of tags.filter((t) => t.startsWith("cis-docker-")))
        expect(CIS[tag.slice("cis-docker-".length)]).toBeDefined();
      for (const tag of tags.filter((t) => t.startsWith("kics-")))
        expect(KICS[tag.slice("kics-".length)]).toBeDefined();
    }
  });

  it("leaves enforcement to config: no policy fixes its own level, the pack defaults to advisory", () => {
    expect(DEFAULT_ENFORCEMENT).toBe("advisory");
    for (const p of allPolicies) expect(p.enforcementLevel).toBeUndefined();
  });

  it("has schema defaults that satisfy the schemas", () => {
    for (const p of allPolicies) {
      if (!p.configSchema) continue;
      const defaults = defaultsOf(p.configSchema);
      for (const [key, value] of Object.entries(defaults)) {
        expect(validateAgainstSchema(value, p.configSchema.properties[key], `${p.name}.${key}`)).toEqual([]);
      }
    }
  });

  it("builds the PolicyPack only in policies/index.ts", () => {
    const files = fs
      .readdirSync(POLICIES_DIR, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts") && !f.startsWith("node_modules"));
    const builders = files.filter((f) => /new PolicyPack\(/.test(fs.readFileSync(path.join(POLICIES_DIR, f), "utf8")));
    expect(builders).toEqual(["index.ts"]);
  });

  it("documents every policy in policies/README.md", () => {
    const readme = fs.readFileSync(path.join(POLICIES_DIR, "README.md"), "utf8");
    for (const p of allPolicies) expect(readme).toContain(`\`${p.name}\``);
  });

  it("pins the policy toolchain exactly", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(POLICIES_DIR, "package.json"), "utf8"));
    expect(pkg.dependencies).toMatchObject({
      "@pulumi/policy": "1.21.0",
      "@pulumi/pulumi": "3.248.0",
      "@pulumi/docker": "5.2.0",
      "@pulumi/tls": "5.6.1",
    });
    expect(pkg.devDependencies.typescript).toBe("5.9.3");
    expect(fs.readFileSync(path.join(POLICIES_DIR, "PulumiPolicy.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
  });
});

describe("policy config", () => {
  const levels = (doc: unknown) => resolvePackConfig(doc, allPolicies, DEFAULT_ENFORCEMENT, "test");

  it("defaults every policy to advisory with its schema defaults", () => {
    const resolved = levels(undefined);
    expect(resolved.get("require-healthcheck")?.enforcementLevel).toBe("advisory");
    expect(resolved.get("limit-certificate-validity")?.properties).toEqual({
      maxLeafValidityDays: 397,
      maxCaValidityDays: 3650,
    });
  });

  it("lets `all` set every level and a policy's own entry override it", () => {
    const resolved = levels({
      all: "mandatory",
      "require-image-digest": "advisory",
      "require-healthcheck": { enforcementLevel: "disabled" },
    });
    expect(resolved.get("enforce-declared-segmentation")?.enforcementLevel).toBe("mandatory");
    expect(resolved.get("require-image-digest")?.enforcementLevel).toBe("advisory");
    expect(resolved.get("require-healthcheck")?.enforcementLevel).toBe("disabled");
  });

  it("merges configured properties over defaults", () => {
    const resolved = levels({ "restrict-port-publishers": { allowedPublishers: ["gateway"] } });
    expect(resolved.get("restrict-port-publishers")?.properties).toEqual({ allowedPublishers: ["gateway"] });
  });

  it("rejects unknown policies, unknown properties and ill-typed values, naming each", () => {
    let message = "";
    try {
      levels({
        all: "strict",
        "require-helthcheck": "mandatory",
        "restrict-port-publishers": { allowedPublisher: ["gateway"] },
        "limit-certificate-validity": { maxLeafValidityDays: "397" },
        "enforce-publish-mode": { publishMode: "routing-mesh" },
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("invalid policy config (5 problems)");
    expect(message).toContain(
      'all: must be one of advisory, mandatory, remediate, disabled, but "strict" was provided',
    );
    expect(message).toContain("require-helthcheck: no such policy in the pack");
    expect(message).toContain(
      "restrict-port-publishers.allowedPublisher: unknown config property (properties: allowedPublishers)",
    );
    expect(message).toContain(
      'limit-certificate-validity.maxLeafValidityDays: must be integer, but "397" was provided',
    );
    expect(message).toContain(
      'enforce-publish-mode.publishMode: must be one of "ingress", "host", but "routing-mesh" was provided',
    );
  });

  it("ships dev (advisory) and prod (mandatory) configs that validate", () => {
    const dev = levels(readPolicyConfigFile(path.join(POLICIES_DIR, "config/dev.json")));
    const prod = levels(readPolicyConfigFile(path.join(POLICIES_DIR, "config/prod.json")));
    expect(dev.get("enforce-declared-segmentation")?.enforcementLevel).toBe("advisory");
    expect(prod.get("enforce-declared-segmentation")?.enforcementLevel).toBe("mandatory");
    expect(prod.get("require-image-digest")?.enforcementLevel).toBe("advisory");
    expect(prod.get("require-encrypted-overlay-networks")?.enforcementLevel).toBe("mandatory");
  });
});
