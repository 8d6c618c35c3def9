import { failureRatio, goDuration } from "../components/providerFormat";

describe("goDuration: durations as the docker provider's shortDur writes them back", () => {
  it.each([
    [0, "0s"],
    [5, "5s"],
    [30, "30s"],
    [60, "1m"],
    [90, "1m30s"],
    [120, "2m"],
    [300, "5m"],
    [3600, "1h"],
    [36000, "10h"],
    [3660, "1h1m"],
    [3661, "1h1m1s"],
    [0.5, "500ms"],
    [1.5, "1.5s"],
    [0.000002, "2µs"],
    [1, "1s"],
    [0.001, "1ms"],
    [0.000001, "1µs"],
    [0.0000005, "500ns"],
  ])("%s seconds -> %s", (seconds, text) => {
    expect(goDuration(seconds)).toBe(text);
  });

  it("refuses a negative duration", () => {
    expect(() => goDuration(-1)).toThrow(/non-negative/);
  });

  it("refuses a duration that is not a finite number", () => {
    expect(() => goDuration(Number.NaN)).toThrow("a duration must be a non-negative number of seconds, got NaN");
    expect(() => goDuration(Infinity)).toThrow(/non-negative number of seconds, got Infinity/);
  });
});

describe("failureRatio: one decimal, as the provider reads it back", () => {
  it("writes 0 as 0.0 and 0.2 as 0.2", () => {
    expect(failureRatio(0)).toBe("0.0");
    expect(failureRatio(0.2)).toBe("0.2");
    expect(failureRatio(1)).toBe("1.0");
  });

  it("refuses a ratio outside 0..1", () => {
    expect(() => failureRatio(1.5)).toThrow("a failure ratio must be between 0 and 1, got 1.5");
    expect(() => failureRatio(-0.1)).toThrow(/between 0 and 1, got -0.1/);
  });

  it("refuses a ratio the provider would read back as another value", () => {
    expect(() => failureRatio(0.25)).toThrow(/0.25 would read back as another value/);
  });
});
