import { parse } from "yaml";
import { AlertRule, alertRules, renderAlertRules } from "../model/render/alerts";
import { Topology } from "../model/types";
import { topologyFrom } from "./helpers";

describe("the Prometheus alert rules", () => {
  let t: Topology;
  let certRules: AlertRule[];
  beforeEach(() => {
    t = topologyFrom({ environment: "prod", domain: "energy.example.com" });
    certRules = alertRules(t).filter((r) => r.alert === "CertificateExpiringSoon");
  });

  it("compares certificate expiry as a vector, since Prometheus refuses a rules file comparing two scalars", () => {
    expect(certRules.length).toBeGreaterThan(0);
    for (const r of certRules)
      expect(r.expr).toMatch(/^vector\(\{\{expiry\.[a-z0-9-]+\}\} - time\(\)\) < 21 \* 86400$/);
  });

  it("labels each certificate rule with its certificate, so their alerts stay apart", () => {
    const labels = certRules.map((r) => r.labels?.certificate);
    expect(new Set(labels).size).toBe(certRules.length);
    const rendered = parse(renderAlertRules(t)) as {
      groups: { rules: { alert: string; labels: Record<string, string> }[] }[];
    };
    const certs = rendered.groups[0].rules.filter((r) => r.alert === "CertificateExpiringSoon").map((r) => r.labels);
    expect(certs).toEqual(certRules.map((r) => ({ severity: "warning", certificate: r.labels!.certificate })));
  });
});
