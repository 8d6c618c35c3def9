/**
 * Rotating one flow's password, as the program registers it (model/identity.ts through index.ts): the password,
 * that client's secret and service, and the server's users and service change, nothing else. Apart from
 * tests/identity.test.ts because evaluating the whole program takes seconds per test.
 */
import * as pulumi from "@pulumi/pulumi";
import { evaluateProgram } from "../tools/evaluate";
import { PlanMocks } from "../tools/mocks";
import { readStackConfig } from "../tools/stackFile";
import { freshProgram } from "./helpers";

describe("rotating one flow's password, as the program registers it", () => {
  /** Passwords that change with their rotation generation, as the random provider's keepers make them. */
  class RotatingMocks extends PlanMocks {
    newResource(args: pulumi.runtime.MockResourceArgs) {
      const r = super.newResource(args);
      if (args.type !== "random:index/randomPassword:RandomPassword") return r;
      return { ...r, state: { ...r.state, result: `pw-${args.name}-${JSON.stringify(args.inputs.keepers ?? {})}` } };
    }
  }
  const evaluate = (rotations: Record<string, number>) =>
    evaluateProgram({
      stack: "dev",
      load: freshProgram,
      mocks: new RotatingMocks(),
      config: { ...readStackConfig("dev").config, "iot-swarm-net:rotations": JSON.stringify(rotations) },
    });

  it("changes the password, that client's secret and service, and the server's users and service: nothing else", async () => {
    const before = await evaluate({});
    const after = await evaluate({ "redis-node-red": 2 });
    const inputs = new Map(before.resources.map((r) => [r.urn, JSON.stringify(r.inputs)]));
    expect(after.resources.map((r) => r.urn).sort()).toEqual(before.resources.map((r) => r.urn).sort());
    const changed = after.resources.filter((r) => inputs.get(r.urn) !== JSON.stringify(r.inputs)).map((r) => r.name);
    expect(changed.sort()).toEqual([
      "iot-node-red",
      "iot-node-red-redis-password",
      "iot-redis",
      "iot-redis-node-red",
      "iot-redis-users-acl",
    ]);
  });

  it("rotating Grafana's InfluxDB password changes it, Grafana's secret and service, InfluxDB's copy and service", async () => {
    const before = await evaluate({});
    const after = await evaluate({ "influxdb-grafana": 2 });
    const inputs = new Map(before.resources.map((r) => [r.urn, JSON.stringify(r.inputs)]));
    const changed = after.resources.filter((r) => inputs.get(r.urn) !== JSON.stringify(r.inputs)).map((r) => r.name);
    expect(changed.sort()).toEqual([
      "iot-grafana",
      "iot-grafana-influxdb-password",
      "iot-influxdb",
      "iot-influxdb-grafana",
      "iot-influxdb-user-grafana-password",
    ]);
  });
});
