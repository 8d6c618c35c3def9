/** Rotation ids: what `rotations.<id>` may name, and the error that lists them when it names nothing. */
import { credentialIds, rotationProblems } from "../model/rotations";
import { topologyFrom } from "./helpers";

describe("rotation ids", () => {
  const t = topologyFrom({ environment: "prod" });
  const ids = credentialIds(t);

  it("are the generated passwords and the certificates, in sorted order", () => {
    expect(ids).toEqual(expect.arrayContaining(["grafana-admin", "mosquitto"]));
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("reject an unknown id, naming its key and listing every id", () => {
    expect(rotationProblems({ ...t, rotations: { nope: "2026-12" } })).toEqual([
      { key: "iot-swarm-net:rotations.nope", message: `no credential is named "nope"; credentials: ${ids.join(", ")}` },
    ]);
    expect(rotationProblems({ ...t, rotations: { [ids[0]]: "2026-12" } })).toEqual([]);
  });
});
