/**
 * The program under configs the reference stacks do not use: each registers without crashing, and each
 * service gets the files its config calls for. Evaluations run the components on the stack config the
 * way index.ts does, so one file can evaluate several configs.
 */
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { IotStack } from "../components/iotStack";
import { loadStackConfig } from "../components/stackConfig";
import { Evaluation, evaluateProgram, RecordedResource } from "../tools/evaluate";
import { PlanMocks } from "../tools/mocks";
import { readStackConfig } from "../tools/stackFile";
import { CONFIG, decode, ofType, SECRET, SERVICE } from "./helpers";

/** Evaluates the dev stack with `changes` applied to its config (raw values, as in Pulumi.dev.yaml). */
function evaluateDev(changes: Record<string, unknown>, mocks?: pulumi.runtime.Mocks): Promise<Evaluation> {
  const config = { ...readStackConfig("dev").config };
  for (const [key, value] of Object.entries(changes)) config[`iot-swarm-net:${key}`] = JSON.stringify(value);
  return evaluateProgram({
    stack: "dev",
    config,
    mocks,
    load: async () => {
      const { topology } = loadStackConfig();
      new IotStack("iot", { topology, stack: "dev" });
      return {};
    },
  });
}

/** The file names (`iot.file` labels are `<service>/<file>`) a service mounts, secrets and configs apart. */
function mounted(e: Evaluation, service: string): { configs: string[]; secrets: string[] } {
  const spec = ofType(e.resources, SERVICE).find((s) => s.inputs.name === service)!.inputs.taskSpec.containerSpec;
  const nameOf = (type: string, id: string) => {
    const r = ofType(e.resources, type).find((x) => x.id === id)!;
    return r.name.slice(`iot-${service}-`.length);
  };
  return {
    configs: (spec.configs ?? []).map((c: { configId: string }) => nameOf(CONFIG, c.configId)),
    secrets: (spec.secrets ?? []).map((s: { secretId: string }) => nameOf(SECRET, s.secretId)),
  };
}

/** The secrets Node-RED holds for its reference flows to Redis and NATS, one per flow. */
const NODE_RED_PASSWORDS = ["redis-password", "nats-password"];

const leafCertificates = (e: Evaluation) =>
  e.resources
    .filter((r) => r.type === "tls:index/locallySignedCert:LocallySignedCert")
    .map((r) => r.name)
    .sort();

describe("the program with MQTT clients other than the reference ones", () => {
  it("registers with client certificates off and only Node-RED certified, giving the exporter only the CA", async () => {
    const e = await evaluateDev({
      tls: { mqttClients: ["node-red"] },
      mqtt: { requireClientCertificate: false, acl: [{ user: "node-red", access: "read", topic: "devices/#" }] },
    });
    expect(leafCertificates(e)).toEqual([
      "iot-pki-gateway-cert",
      "iot-pki-mosquitto-cert",
      "iot-pki-mqtt-client-node-red-cert",
    ]);
    expect(mounted(e, "mqtt-exporter")).toEqual({ configs: ["ca-crt"], secrets: [] });
    expect(mounted(e, "node-red")).toEqual({
      configs: ["settings-js", "flows-json", "ca-crt", "mqtt-client-crt"],
      secrets: ["flows-cred-json", "mqtt-client-key", ...NODE_RED_PASSWORDS],
    });
  });

  it("registers with no client certificates at all", async () => {
    const e = await evaluateDev({
      tls: { mqttClients: [] },
      mqtt: { requireClientCertificate: false, acl: [] },
    });
    expect(leafCertificates(e)).toEqual(["iot-pki-gateway-cert", "iot-pki-mosquitto-cert"]);
    expect(mounted(e, "mqtt-exporter")).toEqual({ configs: ["ca-crt"], secrets: [] });
    // Node-RED's telemetry flow and its credentials, the CA, and its own Redis and NATS passwords: those
    // follow its flows, not the broker's settings.
    expect(mounted(e, "node-red")).toEqual({
      configs: ["settings-js", "flows-json", "ca-crt"],
      secrets: ["flows-cred-json", ...NODE_RED_PASSWORDS],
    });
  });
});

describe("Swarm config names", () => {
  const fileNamed = (e: Evaluation, label: string): RecordedResource =>
    ofType(e.resources, CONFIG).find((c) => c.name === `iot-mosquitto-${label}`)!;

  it("change with the content, so a changed file rolls the service, and stay when the content stays", async () => {
    const before = await evaluateDev({});
    const after = await evaluateDev({
      mqtt: {
        acl: [
          { user: "node-red", access: "read", topic: "devices/#" },
          { user: "node-red", access: "read", topic: "sensors/#" },
          { user: "mqtt-exporter", access: "read", topic: "$SYS/#" },
        ],
      },
    });
    expect(decode(fileNamed(after, "acl").inputs.data)).not.toEqual(decode(fileNamed(before, "acl").inputs.data));
    expect(fileNamed(after, "acl").inputs.name).not.toEqual(fileNamed(before, "acl").inputs.name);
    expect(fileNamed(after, "mosquitto-conf").inputs.name).toEqual(fileNamed(before, "mosquitto-conf").inputs.name);
    const broker = ofType(after.resources, SERVICE).find((s) => s.inputs.name === "mosquitto")!;
    expect(broker.inputs.taskSpec.containerSpec.configs.map((c: { configName: string }) => c.configName)).toContain(
      fileNamed(after, "acl").inputs.name,
    );
  });
});

/** Plan mocks, except that each leaf certificate ends its validity on a day of its own. */
class DistinctExpiryMocks extends PlanMocks {
  private issued = 0;
  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    const result = super.newResource(args);
    if (args.type !== "tls:index/locallySignedCert:LocallySignedCert") return result;
    const end = Date.parse(String(result.state.validityEndTime)) - ++this.issued * 86400_000;
    return { ...result, state: { ...result.state, validityEndTime: new Date(end).toISOString() } };
  }
}

describe("certificate expiry alerts", () => {
  it("carry each certificate's own end of validity, one rule per leaf certificate", async () => {
    const e = await evaluateDev({}, new DistinctExpiryMocks());
    const alerts = ofType(e.resources, CONFIG).find((c) => c.name === "iot-prometheus-alerts-yml")!;
    const rules = (
      parse(decode(alerts.inputs.data)) as {
        groups: { rules: { alert: string; expr: string; labels: Record<string, string> }[] }[];
      }
    ).groups[0].rules.filter((r) => r.alert === "CertificateExpiringSoon");
    const certificates = e.resources.filter((r) => r.type === "tls:index/locallySignedCert:LocallySignedCert");
    expect(new Set(certificates.map((c) => c.outputs.validityEndTime)).size).toBe(certificates.length);
    expect(rules.map((r) => `iot-pki-${r.labels.certificate}-cert`).sort()).toEqual(
      certificates.map((c) => c.name).sort(),
    );
    for (const rule of rules) {
      const cert = certificates.find((c) => c.name === `iot-pki-${rule.labels.certificate}-cert`)!;
      const expiry = Math.floor(Date.parse(cert.outputs.validityEndTime) / 1000);
      expect({ certificate: rule.labels.certificate, expr: rule.expr }).toEqual({
        certificate: rule.labels.certificate,
        expr: `vector(${expiry} - time()) < 21 * 86400`,
      });
    }
  });
});
