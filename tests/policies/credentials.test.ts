import { checkResources } from "../../policies/offline/check";
import { StackResource } from "../../policies/offline/resources";
import { disallowSharedCredentials, restrictCredentialsToDeclaredFlows } from "../../policies/credentials";
import { parseCredentialsLabel } from "../../policies/lib/credentials";
import { Evaluation, evaluateProgram } from "../../tools/evaluate";
import { fromEvaluation } from "../../tools/policyCheck";
import { asStackExport, EXPORT_FORMS } from "./exportForms";
import { byName, changeIn, container, edit, happyStack, service, urnOf } from "./fixtures";
import { assertHasViolation, assertNoViolations, runResourcePolicy, runStackPolicy } from "./helpers";

const app = () => byName(happyStack(), "svc-app");
const withLabel = (label: string, value: string) => (p: any) => {
  const entry = p.labels.find((l: { label: string }) => l.label === label);
  if (entry) entry.value = value;
  else p.labels.push({ label, value });
};

describe("restrict-credentials-to-declared-flows", () => {
  it("passes for a credential for a server the workload has a flow to", async () => {
    assertNoViolations(await runResourcePolicy(restrictCredentialsToDeclaredFlows, app()));
  });

  it("fails for a credential for a server the workload has no flow to", async () => {
    const r = edit(app(), withLabel("iot.credentials", "broker:mqtt-client-app,cache:cache-app"));
    assertHasViolation(
      await runResourcePolicy(restrictCredentialsToDeclaredFlows, r),
      'service "app" holds credential "cache:cache-app" for cache but declares no flow to cache (its flows: broker)',
    );
  });

  it("fails for a credential that names no server", async () => {
    const r = edit(app(), withLabel("iot.credentials", "broker:mqtt-client-app,app-password"));
    assertHasViolation(
      await runResourcePolicy(restrictCredentialsToDeclaredFlows, r),
      'holds credential "app-password", which names no server',
    );
  });

  it("takes flows from allowedFlows too, for stacks without iot.flows labels", async () => {
    const r = edit(app(), withLabel("iot.flows", ""));
    assertHasViolation(await runResourcePolicy(restrictCredentialsToDeclaredFlows, r), "declares no flow to broker");
    assertNoViolations(
      await runResourcePolicy(restrictCredentialsToDeclaredFlows, r, { allowedFlows: ["app -> broker:8883"] }),
    );
  });

  it("checks a plain container's labels as well", async () => {
    const r = edit(container("legacy", "backend"), (p) => {
      p.labels = [{ label: "iot.credentials", value: "redis:legacy" }];
    });
    assertHasViolation(
      await runResourcePolicy(restrictCredentialsToDeclaredFlows, r),
      'container "legacy" holds credential "redis:legacy" for redis but declares no flow to redis (its flows: none)',
    );
  });
});

describe("disallow-shared-credentials", () => {
  it("passes when each credential and secret has one holder", async () => {
    assertNoViolations(await runStackPolicy(disallowSharedCredentials, happyStack()));
  });

  it("fails when two clients hold one credential, naming both", async () => {
    const stack = changeIn(happyStack(), "svc-gateway", (r) =>
      edit(r, withLabel("iot.credentials", "broker:mqtt-client-app")),
    );
    const violations = await runStackPolicy(disallowSharedCredentials, stack);
    assertHasViolation(
      violations,
      'credential "broker:mqtt-client-app" is held by service "gateway" and service "app"; each client needs its own',
    );
    expect(violations.map((v) => v.urn)).toEqual([urnOf(byName(stack, "svc-gateway"))]);
  });

  it("fails when two services mount one Swarm secret, without any labels (a stack it did not generate)", async () => {
    const a = service("ingest", { secrets: ["db-password"] });
    const b = service("report", { secrets: ["db-password"] });
    assertHasViolation(
      await runStackPolicy(disallowSharedCredentials, [a, b]),
      'secret "db-password-name" is held by service "ingest" and service "report"',
    );
  });

  it("passes a credential every holder labels as shared, and only then", async () => {
    const shared = (r: ReturnType<typeof app>) =>
      edit(r, (p) => {
        withLabel("iot.credentials", "influxdb:influxdb-token")(p);
        withLabel("iot.shared-credentials", "influxdb:influxdb-token")(p);
      });
    const both = changeIn(changeIn(happyStack(), "svc-gateway", shared), "svc-app", shared);
    assertNoViolations(await runStackPolicy(disallowSharedCredentials, both));
    const one = changeIn(both, "svc-app", (r) => edit(r, withLabel("iot.shared-credentials", "")));
    assertHasViolation(await runStackPolicy(disallowSharedCredentials, one), 'credential "influxdb:influxdb-token"');
  });
});

describe("parseCredentialsLabel", () => {
  it("reads server:credential entries, trimming and skipping empty ones", () => {
    expect(parseCredentialsLabel(" redis:redis-a , ,nats:nats-a,lonely")).toEqual([
      { text: "redis:redis-a", server: "redis", credential: "redis-a" },
      { text: "nats:nats-a", server: "nats", credential: "nats-a" },
      { text: "lonely", credential: "lonely" },
    ]);
  });
});

describe("the reference dev stack's credentials, as evaluated and as exported", () => {
  let evaluation: Evaluation;
  beforeAll(async () => {
    evaluation = await evaluateProgram({ stack: "dev" });
  });

  const CREDENTIAL_RULES = ["restrict-credentials-to-declared-flows", "disallow-shared-credentials"];
  const findings = async (resources: readonly StackResource[]) =>
    (await checkResources({ resources, stack: "dev" })).violations
      .filter((v) => CREDENTIAL_RULES.includes(v.policyName))
      .map((v) => `${v.policyName}: ${v.message}`);

  /** The stack with Prometheus also holding Node-RED's Redis credential. */
  const leaked = (resources: readonly StackResource[]) =>
    resources.map((r) => {
      if (!r.urn.endsWith("docker:index/service:Service::iot-prometheus")) return r;
      const relabel = (props: Record<string, unknown> | undefined) =>
        props && {
          ...props,
          labels: (props.labels as { label: string; value: string }[]).map((l) =>
            l.label === "iot.credentials" ? { ...l, value: "redis:redis-node-red" } : l,
          ),
        };
      return { ...r, inputs: relabel(r.inputs), outputs: relabel(r.outputs) };
    });

  it("holds each credential over a declared flow, one holder each", async () => {
    expect(await findings(fromEvaluation(evaluation.resources))).toEqual([]);
  });

  it.each(EXPORT_FORMS)("catches a credential off its flow and shared, in a %s stack export", async (form) => {
    const exported = asStackExport(evaluation.resources, form);
    expect(await findings(exported)).toEqual([]);
    const found = await findings(leaked(exported));
    expect(found).toEqual([
      expect.stringContaining(
        'restrict-credentials-to-declared-flows: service "prometheus" holds credential "redis:redis-node-red" for redis but declares no flow to redis',
      ),
      expect.stringContaining(
        'disallow-shared-credentials: credential "redis:redis-node-red" is held by service "prometheus" and service "node-red"',
      ),
    ]);
  });
});
