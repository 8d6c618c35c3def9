/** How the e2e runs count telemetry readings (e2e/cluster/telemetry.ts): pure, so tested without Docker. */
import { lostIn, SentReading, StoredPoint, tally } from "../e2e/cluster/telemetry";

const sent: SentReading[] = [
  { id: "r-1", at: 1000 },
  { id: "r-2", at: 2000 },
  { id: "r-3", at: 3000 },
  { id: "r-4", at: 4000 },
];
const point = (reading: string, time: number, device = "e2e-device"): StoredPoint => ({
  measurement: "telemetry",
  tags: { device, reading },
  fields: { power_w: 1 },
  time,
});

describe("telemetry tally", () => {
  it("counts each reading id once, however many points, and says which never arrived", () => {
    const r = tally(sent, [point("r-1", 1), point("r-2", 2), point("r-4", 4)]);
    expect(r).toEqual({ stored: 3, duplicates: 0, missing: ["r-3"] });
  });

  it("counts a reading stored as two points (another timestamp or series) as a duplicate", () => {
    const r = tally(sent, [point("r-1", 1), point("r-1", 9), point("r-2", 2), point("r-2", 2, "other")]);
    expect(r).toEqual({ stored: 2, duplicates: 2, missing: ["r-3", "r-4"] });
  });

  it("ignores points of readings this run did not send", () => {
    expect(tally(sent, [point("earlier-run-1", 1)])).toEqual({
      stored: 0,
      duplicates: 0,
      missing: ["r-1", "r-2", "r-3", "r-4"],
    });
  });

  it("counts a fault's lost readings within its window only, bounds included", () => {
    const missing = new Set(["r-2", "r-3", "r-4"]);
    expect(lostIn(sent, missing, 2000, 3000)).toBe(2);
    expect(lostIn(sent, missing, 0, 1999)).toBe(0);
    expect(lostIn(sent, new Set(), 0, 5000)).toBe(0);
  });
});
