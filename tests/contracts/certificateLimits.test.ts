/**
 * Contract: how long certificates may be valid. The program refuses stack config beyond its limits
 * (model/config.ts `MAX_LEAF_VALIDITY_DAYS`, `MAX_CA_VALIDITY_DAYS`); the pack reports certificates beyond the
 * defaults of `limit-certificate-validity` (policies/tls.ts). The pack stays independent, so each side keeps its
 * numbers and this test fails when they differ: a stack the program accepts must pass the pack's defaults, and the
 * program must not refuse what the pack allows.
 */
import { defaultsOf } from "../../policies/lib/config";
import { limitCertificateValidity } from "../../policies/tls";
import { MAX_CA_VALIDITY_DAYS, MAX_LEAF_VALIDITY_DAYS } from "../../model/config";
import { configError, topologyFrom } from "../helpers";

const pack = defaultsOf(limitCertificateValidity.configSchema!) as {
  maxLeafValidityDays: number;
  maxCaValidityDays: number;
};

const withTls = (tls: Record<string, number>) => ({ environment: "dev", tls });

describe("certificate validity limits, between the program's config check and the pack", () => {
  it("are the same numbers", () => {
    expect({ leaf: MAX_LEAF_VALIDITY_DAYS, ca: MAX_CA_VALIDITY_DAYS }).toEqual({
      leaf: pack.maxLeafValidityDays,
      ca: pack.maxCaValidityDays,
    });
  });

  it("accept a leaf valid for the pack's maximum and refuse one a day longer", () => {
    const max = pack.maxLeafValidityDays;
    expect(configError(withTls({ validityDays: max }))).toBe("");
    expect(configError(withTls({ validityDays: max + 1 }))).toContain(
      `iot-swarm-net:tls.validityDays: must be at most ${max} days`,
    );
  });

  it("accept a CA valid for the pack's maximum and refuse one a day longer", () => {
    const max = pack.maxCaValidityDays;
    expect(configError(withTls({ caValidityDays: max }))).toBe("");
    expect(configError(withTls({ caValidityDays: max + 1 }))).toContain(
      `iot-swarm-net:tls.caValidityDays: must be at most ${max} days`,
    );
  });

  it("default to validities within the pack's limits", () => {
    const { tls } = topologyFrom({ environment: "dev" });
    expect(tls.validityDays).toBeLessThanOrEqual(pack.maxLeafValidityDays);
    expect(tls.caValidityDays).toBeLessThanOrEqual(pack.maxCaValidityDays);
  });
});
