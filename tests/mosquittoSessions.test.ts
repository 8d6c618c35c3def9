import { MQTT_SESSIONS, renderMosquittoConfig } from "../model/render/mosquitto";
import { readStackConfig } from "../tools/stackFile";
import { topologyFrom } from "./helpers";

describe("the broker's persistent sessions", () => {
  let lines: string[];
  beforeEach(() => {
    lines = renderMosquittoConfig(
      topologyFrom(readStackConfig("prod").config as Record<string, unknown>, { namespaced: true }),
    ).split("\n");
  });
  const setting = (key: string) => lines.filter((l) => l.startsWith(`${key} `)).map((l) => l.slice(key.length + 1));

  it("keeps sessions and queued messages on the broker's volume, saved at a bounded interval", () => {
    expect(setting("persistence")).toEqual(["true"]);
    expect(setting("persistence_location")).toEqual(["/mosquitto/data/"]);
    expect(setting("autosave_on_changes")).toEqual(["false"]);
    expect(setting("autosave_interval")).toEqual([String(MQTT_SESSIONS.autosaveSeconds)]);
    expect(MQTT_SESSIONS.autosaveSeconds).toBeLessThanOrEqual(10);
  });

  it("expires abandoned sessions and bounds each offline client's queue, which Mosquitto leaves unbounded or small", () => {
    expect(setting("persistent_client_expiration")).toEqual([MQTT_SESSIONS.sessionExpiry]);
    expect(MQTT_SESSIONS.sessionExpiry).toMatch(/^\d+[hdwmy]$/);
    expect(setting("max_queued_messages").map(Number)).toEqual([MQTT_SESSIONS.maxQueuedMessages]);
    expect(MQTT_SESSIONS.maxQueuedMessages).toBeGreaterThan(1000);
  });

  it("authenticates globally, so a session restored from the database is sent its messages before its client returns", () => {
    // Per-listener settings leave a restored session without a listener: Mosquitto 2.0 denies it every message.
    expect(setting("per_listener_settings")).toEqual(["false"]);
    const firstListener = lines.findIndex((l) => l.startsWith("listener "));
    expect(lines.findIndex((l) => l.startsWith("acl_file "))).toBeLessThan(firstListener);
    expect(setting("acl_file")).toHaveLength(1);
    // Anonymous clients only reach the loopback listener: the TLS one demands a certificate and names its user after it.
    expect(setting("require_certificate")).toEqual(["true"]);
    expect(setting("use_identity_as_username")).toEqual(["true"]);
    expect(setting("allow_anonymous")).toEqual(["true"]);
  });

  it("sets them once, as global options ahead of the first listener", () => {
    const firstListener = lines.findIndex((l) => l.startsWith("listener "));
    for (const key of [
      "autosave_on_changes",
      "autosave_interval",
      "persistent_client_expiration",
      "max_queued_messages",
    ]) {
      const at = lines.findIndex((l) => l.startsWith(`${key} `));
      expect([key, at >= 0 && at < firstListener]).toEqual([key, true]);
    }
  });
});
