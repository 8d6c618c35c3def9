/** Placement: which constraints pin a task to one node, where the pin goes, and what nodes must offer. */
import { nodeRequirements, pinsToOneNode, placementWithPin, statePin } from "../model/placement";

const STATE = "node.labels.iot.state == true";

describe("placement constraints", () => {
  it("tells constraints that name one node from ones many nodes may meet", () => {
    for (const c of ["node.hostname == a", " node.id==x1 ", STATE, "node.labels.iot.state==true"])
      expect([c, pinsToOneNode(c)]).toEqual([c, true]);
    for (const c of ["node.role == worker", "node.labels.zone == a", "node.hostname != a", "node.hostname =="])
      expect([c, pinsToOneNode(c)]).toEqual([c, false]);
  });

  it("matches a constraint whole: text before or after the one-node form is not a pin", () => {
    for (const c of ["engine.node.hostname == a", "node.hostname == a == b", "node.labels.iot.state == true x"])
      expect([c, pinsToOneNode(c)]).toEqual([c, false]);
  });

  it("pins a stateful service to its named node or to the state label, once", () => {
    expect(statePin("store-1")).toBe("node.hostname == store-1");
    expect(statePin(undefined)).toBe(STATE);
    expect(placementWithPin(["node.role == worker"], ["v"], undefined)).toEqual(["node.role == worker", STATE]);
    expect(placementWithPin([STATE], ["v"], undefined)).toEqual([STATE]);
    expect(placementWithPin(["node.hostname == b"], ["v"], "b")).toEqual(["node.hostname == b"]);
    // A named node adds its pin even beside another pin: the config asked for that node.
    expect(placementWithPin([STATE], ["v"], "b")).toEqual([STATE, "node.hostname == b"]);
    expect(placementWithPin(["node.role == worker"], [], "b")).toEqual(["node.role == worker"]);
  });

  it("adds no state pin when any configured constraint already names one node", () => {
    expect(placementWithPin(["node.hostname == a"], ["v"], undefined)).toEqual(["node.hostname == a"]);
    expect(placementWithPin(["node.role == worker", "node.id == n1"], ["v"], undefined)).toEqual([
      "node.role == worker",
      "node.id == n1",
    ]);
  });

  it("reads how to provide a constraint with any spacing Docker accepts, and only from the whole constraint", () => {
    const how = (constraint: string) =>
      nodeRequirements([{ name: "s", placement: [constraint], replicas: 1 }])[0].howTo;
    expect(how("  node.labels.zone==a  ")).toBe("docker node update --label-add zone=a <node>");
    expect(how(" node.role!=manager ")).toBe("nodes other than managers");
    expect(how("  node.hostname==gw-1  ")).toBe("a node whose hostname is gw-1");
    for (const c of [
      "x node.labels.zone == a",
      "node.labels.zone == a b",
      "x node.role == worker",
      "node.role == worker b",
      "x node.hostname == gw-1",
      "node.hostname == gw-1 b",
    ])
      expect([c, how(c)]).toEqual([c, "a node that meets it"]);
  });

  it("sums the tasks each constraint's nodes must hold and says how to provide each", () => {
    const reqs = nodeRequirements([
      { name: "influxdb", placement: [STATE], replicas: 1 },
      { name: "redis", placement: [STATE, "node.role == worker"], replicas: 1 },
      { name: "gateway", placement: ["node.role == worker"], replicas: 3 },
      {
        name: "edge",
        placement: ["node.role != manager", "node.hostname == gw-1", "node.labels.zone == a"],
        replicas: 2,
      },
      { name: "odd", placement: ["engine.labels.os == linux"], replicas: 1 },
      { name: "free", placement: [], replicas: 4 },
    ]);
    expect(reqs).toEqual([
      { constraint: "engine.labels.os == linux", services: ["odd"], tasks: 1, howTo: "a node that meets it" },
      { constraint: "node.hostname == gw-1", services: ["edge"], tasks: 2, howTo: "a node whose hostname is gw-1" },
      {
        constraint: STATE,
        services: ["influxdb", "redis"],
        tasks: 2,
        howTo: "docker node update --label-add iot.state=true <node> (one node only)",
      },
      {
        constraint: "node.labels.zone == a",
        services: ["edge"],
        tasks: 2,
        howTo: "docker node update --label-add zone=a <node>",
      },
      { constraint: "node.role != manager", services: ["edge"], tasks: 2, howTo: "nodes other than managers" },
      { constraint: "node.role == worker", services: ["redis", "gateway"], tasks: 4, howTo: "nodes joined as workers" },
    ]);
  });
});
