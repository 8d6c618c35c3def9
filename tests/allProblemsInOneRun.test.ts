/**
 * A config with a shape mistake still gets its cross-field problems reported in the same run, so a user fixes
 * everything at once; problems that only repeat a rejected key's cause stay out.
 */
import { configError } from "./helpers";

const problems = (message: string) => message.split("\n").filter((line) => line.startsWith("  - "));

describe("every config problem in one run", () => {
  it("reports a schema problem together with a cross-field one elsewhere", () => {
    const message = configError({
      environment: "dev",
      services: { grafana: { replicas: "three" } },
      flows: ["grafana -> nosuch:80"],
    });
    expect(problems(message)).toEqual([
      expect.stringContaining("iot-swarm-net:services.grafana.replicas: Invalid input: expected number"),
      expect.stringContaining('iot-swarm-net:flows[0]: unknown service "nosuch"'),
    ]);
  });

  it("reports a schema problem together with a planning problem", () => {
    const message = configError({ environment: "dev", domain: "Not A Host", subnetPool: "8.8.0.0/16" });
    expect(message).toMatch(/iot-swarm-net:domain: must be a lower-case DNS name/);
    expect(message).toMatch(/iot-swarm-net:subnetPool: 8\.8\.0\.0\/16 is not inside one private range/);
    expect(message).toMatch(/2 problems/);
  });

  it("reports an unknown key together with a cross-field problem", () => {
    const message = configError({
      environment: "dev",
      services: { grafana: { replicaz: 2 } },
      flows: ["grafana -> nosuch:80"],
    });
    expect(message).toMatch(/iot-swarm-net:services\.grafana\.replicaz: unknown config key/);
    expect(message).toMatch(/iot-swarm-net:flows\[0\]: unknown service "nosuch"/);
  });

  it("leaves out a cross-field problem under the key the schema rejected", () => {
    // Without its (rejected) image, the new service would also be reported for having none.
    const message = configError({ environment: "dev", services: { newsvc: { image: "", tiers: ["app"] } } });
    expect(problems(message)).toEqual([expect.stringContaining("iot-swarm-net:services.newsvc.image: Too small")]);
  });

  it("reports only the schema's problems when checking the rest would shift list keys", () => {
    const message = configError({ environment: "dev", tiers: [{ name: "Bad" }], flows: ["grafana -> nosuch:80"] });
    expect(problems(message)).toEqual([expect.stringContaining("iot-swarm-net:tiers[0].name: must be a lower-case")]);
  });

  it("never shows a secret value, in schema and cross-field problems alike", () => {
    const message = configError({
      environment: "prod",
      caKeyPem: "hunter2-not-a-key",
      flows: ["grafana -> nosuch:80"],
    });
    expect(message).toMatch(/iot-swarm-net:caKeyPem: must be a PEM private key \(the value is secret and not shown\)/);
    expect(message).toMatch(/iot-swarm-net:flows\[0\]/);
    expect(message).not.toContain("hunter2");
  });
});
