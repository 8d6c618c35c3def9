import { singlePointsOfFailure } from "../model/resilience";
import { readStackConfig } from "../tools/stackFile";
import { topologyFrom } from "./helpers";

const stack = (name: string) =>
  topologyFrom(readStackConfig(name).config as Record<string, unknown>, { namespaced: true });

describe("single points of failure", () => {
  it("lists every prod service running one task, and the state node its stateful services share", () => {
    const t = stack("prod");
    const points = singlePointsOfFailure(t);
    const single = t.services.filter((s) => s.replicas === 1).map((s) => s.name);
    expect(points.map((p) => p.service)).toEqual([...single, "the node labelled iot.state=true"]);
    expect(single).not.toContain("gateway");
    expect(points.find((p) => p.service === "redis")!.why).toMatch(
      /volumes live on one node .* stops while that node is down/,
    );
    expect(points.find((p) => p.service === "nats")!.why).toMatch(/restarts it on another node/);
    for (const p of points) expect(p.remedy.length).toBeGreaterThan(20);
  });

  it("drops the state node once stateNode spreads the stateful services over nodes", () => {
    const raw = readStackConfig("prod").config as Record<string, unknown>;
    const services = Object.fromEntries(
      ["mosquitto", "influxdb", "grafana", "node-red", "redis", "prometheus"].map((s) => [
        s,
        { stateNode: `store-${s}` },
      ]),
    );
    const t = topologyFrom({ ...raw, "iot-swarm-net:services": JSON.stringify(services) }, { namespaced: true });
    expect(singlePointsOfFailure(t).map((p) => p.service)).not.toContain("the node labelled iot.state=true");
  });
});
