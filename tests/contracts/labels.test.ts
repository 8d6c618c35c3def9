/**
 * Contract: the label keys. The pack keeps its own copy (policies/lib/workloads.ts `LABEL`) so it stays independent
 * of the program; every key it reads must be spelled as the program writes it (components/labels.ts `LABELS`).
 */
import { LABELS } from "../../components/labels";
import { LABEL } from "../../policies/lib/workloads";
import { pinsToOneNode as packPins, requirePinnedStatefulServices } from "../../policies/hardening";
import { pinsToOneNode, STATE_NODE_LABEL, statePin } from "../../model/placement";

/**
 * Labels the pack already reads and the program does not write yet: `iot.service`, the logical name of a service
 * whose Docker name carries a generation suffix. When the program adds it to LABELS this test fails; remove the
 * entry then, so the contract covers it.
 */
const NOT_WRITTEN_YET: readonly string[] = [];

describe("label keys, between the program and the pack", () => {
  it("spells every label the pack reads as the program writes it", () => {
    const written = new Set<string>(Object.values(LABELS));
    const read = Object.entries(LABEL).filter(([key]) => !NOT_WRITTEN_YET.includes(key));
    expect(read.length).toBeGreaterThan(0);
    expect(read.filter(([, label]) => !written.has(label)).map(([key, label]) => `${key}: ${label}`)).toEqual([]);
  });

  it("lists as not yet written only labels the program really does not write", () => {
    const values = new Set<string>(Object.values(LABELS));
    expect(NOT_WRITTEN_YET.filter((key) => key in LABELS || values.has(LABEL[key as keyof typeof LABEL]))).toEqual([]);
  });
});

describe("the state node label, between the program and the pack", () => {
  it("is the label the pack takes, by default, as carried by exactly one node", () => {
    const schema = requirePinnedStatefulServices.configSchema?.properties?.uniqueNodeLabels as { default?: unknown };
    expect(schema.default).toEqual([STATE_NODE_LABEL]);
  });

  it("makes the pack and the program agree on which constraints pin to one node", () => {
    const constraints = [
      statePin(undefined),
      statePin("store-1"),
      "node.id == 3x1",
      "node.labels.iot.storage == true",
      "node.role == worker",
      "node.hostname != a",
      "engine.labels.x == y",
    ];
    for (const c of constraints) expect([c, packPins(c, [STATE_NODE_LABEL])]).toEqual([c, pinsToOneNode(c)]);
    expect(constraints.filter(pinsToOneNode)).toHaveLength(3);
  });
});
