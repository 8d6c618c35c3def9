/** How the e2e runs count telemetry readings (e2e/cluster/telemetry.ts): pure, so tested without Docker. */
import { lostIn, SentReading, StoredPoint, tally, waitUntilStored } from "../e2e/cluster/telemetry";

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

describe("waiting until InfluxDB holds the readings", () => {
  it("returns at the first read that holds every reading, with its tally", async () => {
    let reads = 0;
    const r = await waitUntilStored(async () => (reads++, sent.map((s) => point(s.id, s.at))), sent, 60_000);
    expect(reads).toBe(1);
    expect(r.last).toEqual({ stored: 4, duplicates: 0, missing: [] });
    expect(r.seconds).not.toBeNull();
    expect(r.seconds).toBeLessThan(1);
  });

  it("reads again until the late readings arrive, keeping the last tally over a failed read", async () => {
    const answers: (StoredPoint[] | Error)[] = [
      [point("r-1", 1)],
      new Error("InfluxDB not reachable"),
      sent.map((s) => point(s.id, s.at)),
    ];
    let reads = 0;
    const r = await waitUntilStored(
      async () => {
        const a = answers[Math.min(reads++, answers.length - 1)];
        if (a instanceof Error) throw a;
        return a;
      },
      sent,
      60_000,
    );
    expect(reads).toBe(3);
    expect(r.last.missing).toEqual([]);
    expect(r.seconds).toBeGreaterThanOrEqual(3.9);
  }, 20_000);

  it("gives up after the wait with what was stored at the last good read, and no seconds", async () => {
    let reads = 0;
    const r = await waitUntilStored(
      async () => {
        if (reads++ > 0) throw new Error("InfluxDB not reachable");
        return [point("r-1", 1), point("r-1", 2)];
      },
      sent,
      1000,
    );
    expect(reads).toBe(2);
    expect(r.seconds).toBeNull();
    expect(r.last).toEqual({ stored: 1, duplicates: 1, missing: ["r-2", "r-3", "r-4"] });
  }, 20_000);

  it("counts readings sent while it waits: the list is read again at every round", async () => {
    const growing: SentReading[] = [sent[0]];
    let reads = 0;
    const r = await waitUntilStored(
      async () => {
        reads++;
        if (reads === 1) growing.push(sent[1]);
        return [point("r-1", 1), ...(reads > 1 ? [point("r-2", 2)] : [])];
      },
      growing,
      60_000,
    );
    expect(reads).toBe(2);
    expect(r.last).toEqual({ stored: 2, duplicates: 0, missing: [] });
  }, 20_000);
});
