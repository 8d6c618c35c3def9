/**
 * The reachability the stack exports and `npm run plan` judges comes from the registered resources' network ids,
 * not from planned names: when two planned networks turn out to be one Docker network (one id), the extra pairs
 * that merge allows show up and the verdict says so.
 */
import { diffReachability } from "../model/networks";
import { evaluateProgram, Evaluation } from "../tools/evaluate";
import { PlanMocks } from "../tools/mocks";
import { registeredReachability, renderPlan } from "../tools/plan";
import { freshProgram, NETWORK, reachabilityFromResources } from "./helpers";

/** Plan mocks under which the networks named in `merged` all get one id, as if Docker had merged them. */
class MergingMocks extends PlanMocks {
  constructor(private readonly merged: readonly string[]) {
    super();
  }

  override newResource(args: Parameters<PlanMocks["newResource"]>[0]) {
    const result = super.newResource(args);
    const name = String(args.inputs.name ?? "");
    if (args.type === NETWORK && this.merged.includes(name)) return { ...result, id: "merged-network-id" };
    return result;
  }
}

describe("reachability from registered network ids", () => {
  let normal: Evaluation;
  let merged: Evaluation;
  beforeAll(async () => {
    normal = await evaluateProgram({ stack: "dev", load: freshProgram });
    merged = await evaluateProgram({
      stack: "dev",
      load: freshProgram,
      mocks: new MergingMocks(["iot-frontend-network", "iot-messaging-network"]),
    });
  });

  it("equals the intent when every planned network is its own resource", () => {
    expect(normal.outputs.reachability).toEqual(normal.outputs.intendedReachability);
    expect(normal.outputs.reachability).toEqual(reachabilityFromResources(normal.resources));
    expect(renderPlan(normal)).toContain("Reachability equals the declared intent (same tier or declared flow).");
  });

  it("shows the pairs two merged networks let through, in the exports and in the plan's verdict", () => {
    const ids = merged.resources.filter((r) => r.type === NETWORK).map((r) => r.id);
    expect(ids.filter((id) => id === "merged-network-id")).toHaveLength(2);
    const exported = merged.outputs.reachability as Record<string, string[]>;
    const intended = merged.outputs.intendedReachability as Record<string, string[]>;
    expect(exported).toEqual(reachabilityFromResources(merged.resources));
    expect(registeredReachability(merged)).toEqual(exported);
    const { extra, missing } = diffReachability(exported, intended);
    expect(missing).toEqual([]);
    expect(extra).toEqual(["grafana <-> nats", "influxdb <-> nats"]);
    const text = renderPlan(merged).split("\n").join(" ");
    expect(text).toContain("Reachability differs from intent: extra");
    expect(text).toContain("grafana <-> nats, influxdb <-> nats");
    expect(text).not.toContain("Reachability equals the declared intent");
  });
});
