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

  it("says why each one runs one task, and which services the state node would stop", () => {
    const t = stack("prod");
    const points = singlePointsOfFailure(t);
    const why = (service: string) => points.find((p) => p.service === service)!.why;
    expect(why("mosquitto")).toMatch(
      /^a singleton \(its state or sessions live in one process\); its volumes live on one node \(.*node\.labels\.iot\.state == true.*\)/,
    );
    expect(why("nats")).toBe(
      "a singleton (its state or sessions live in one process); Swarm restarts it on another node within seconds",
    );
    const sharing = t.services.filter((s) => s.placement.includes("node.labels.iot.state == true")).map((s) => s.name);
    expect(sharing.length).toBeGreaterThan(1);
    expect(why("the node labelled iot.state=true")).toBe(
      `${sharing.join(", ")} keep their volumes on it, so losing it stops all of them until it returns`,
    );
  });

  it("names the state node only when more than one service keeps its volumes there", () => {
    const raw = readStackConfig("prod").config as Record<string, unknown>;
    const services = Object.fromEntries(
      ["mosquitto", "grafana", "node-red", "redis", "prometheus"].map((s) => [s, { stateNode: `store-${s}` }]),
    );
    const t = topologyFrom({ ...raw, "iot-swarm-net:services": JSON.stringify(services) }, { namespaced: true });
    expect(t.services.filter((s) => s.placement.includes("node.labels.iot.state == true")).map((s) => s.name)).toEqual([
      "influxdb",
    ]);
    expect(singlePointsOfFailure(t).map((p) => p.service)).not.toContain("the node labelled iot.state=true");
  });

  it("tells a stateless gateway configured with one replica to add replicas", () => {
    const raw = readStackConfig("prod").config as Record<string, unknown>;
    const t = topologyFrom(
      { ...raw, "iot-swarm-net:services": JSON.stringify({ gateway: { replicas: 1 } }) },
      { namespaced: true },
    );
    expect(singlePointsOfFailure(t).find((p) => p.service === "gateway")).toEqual({
      service: "gateway",
      why: "configured with one replica; Swarm restarts it on another node within seconds",
      remedy: "more replicas: it keeps no state (prod runs 3 on workers)",
    });
  });
});
