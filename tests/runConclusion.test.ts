import { concludeWith } from "../e2e/lib/lifecycle";

describe("a runner's conclusion", () => {
  const verdict = (r: { flows: number }) => (r.flows < 2 ? [`flows: ${r.flows} of 2`] : []);

  it("passes with no reason to fail, keeping the report", () => {
    expect(concludeWith({ flows: 2 }, verdict)([])).toEqual({ flows: 2, passed: true, failures: [] });
  });

  it("fails with the steps that did not complete first, then the verdict's failures", () => {
    expect(concludeWith({ flows: 1 }, verdict)(["run did not complete: deploy"])).toEqual({
      flows: 1,
      passed: false,
      failures: ["run did not complete: deploy", "flows: 1 of 2"],
    });
  });

  it("reads the report as it stands when the run ends, not when the conclusion was made", () => {
    const report = { flows: 0 };
    const conclude = concludeWith(report, verdict);
    report.flows = 2;
    expect(conclude([]).passed).toBe(true);
  });
});
