/**
 * The steps e2e/day2/expected.ts predicts for rotating one flow's password (`rotations.<server>-<client>`): that
 * password, the secrets that embed it (the client's credential file, the server's users) and the two services
 * holding them; nothing else. The day-2 phase fails when the live apply takes other steps, so a wrong prediction
 * here is a false failure there and a missing one hides a real extra step.
 */
import { stackChildNames, STACK_COMPONENT } from "../components/iotStack";
import { fileResourceName } from "../components/swarmFile";
import { DAY2_CHANGES, rotatedFlow, StackConfig } from "../e2e/day2/changes";
import type { Day2ChangeReport, Day2Report } from "../e2e/day2/phase";
import type { RotatedIdentity } from "../e2e/day2/rotation";
import { expectedSteps, modelOf, resourceId } from "../e2e/day2/expected";
import { day2Failures, rotationHolds } from "../e2e/report";
import { CONFIG_NAMESPACE } from "../model/config";
import { serviceFiles } from "../model/files";
import { flowPasswordId, planIdentities } from "../model/identity";
import { readStackConfig } from "../tools/stackFile";
import { SECRET, SERVICE } from "./helpers";

const PASSWORD = "random:index/randomPassword:RandomPassword";
const names = stackChildNames(STACK_COMPONENT);
const ROTATION = "flow credential rotated";
const rotationChange = () => DAY2_CHANGES.find((c) => c.name === ROTATION)!;

const rotate = (config: StackConfig, id: string): StackConfig => {
  const key = `${CONFIG_NAMESPACE}:rotations`;
  const rotations = config[key] ? (JSON.parse(config[key]) as Record<string, unknown>) : {};
  return { ...config, [key]: JSON.stringify({ ...rotations, [id]: 1 }) };
};

/** The config the rotation is applied to in the day-2 phase: the stack's, with every change before it. */
function configBeforeRotation(stack: string): StackConfig {
  let config: StackConfig = readStackConfig(stack).config;
  for (const change of DAY2_CHANGES) {
    if (change.name === ROTATION) break;
    config = change.apply(config);
  }
  return config;
}

describe("the day-2 change that rotates a flow credential", () => {
  it("rotates the e2e stack's first Redis flow identity, by its flow password id", () => {
    const config = configBeforeRotation("e2e");
    const i = rotatedFlow(config);
    expect([i.kind, i.client, i.server]).toEqual(["password", "node-red", "redis"]);
    expect(i.credential).toBe(flowPasswordId("redis", "node-red"));
    expect(rotationChange().rotates!(config)).toBe("redis-node-red");
    const after = modelOf(rotationChange().apply(config)).t;
    expect(after.rotations).toEqual({ ...modelOf(config).t.rotations, "redis-node-red": "1" });
  });

  it("expects the new password, the client's credential secret, the server's users and the two services", () => {
    const config = configBeforeRotation("e2e");
    expect(expectedSteps({ ...config }, { ...rotationChange().apply(config) })).toEqual({
      create: [],
      update: [resourceId(SERVICE, "iot-node-red"), resourceId(SERVICE, "iot-redis")],
      replace: [
        resourceId(SECRET, "iot-node-red-redis-password"),
        resourceId(SECRET, "iot-redis-users-acl"),
        resourceId(PASSWORD, "iot-redis-node-red"),
      ],
      delete: [],
    });
  });
});

describe.each(["dev", "prod", "e2e"])("each password identity of the %s stack rotated alone", (stack) => {
  const config = readStackConfig(stack).config;
  const t = modelOf(config).t;
  const identities = planIdentities(t).filter((i) => i.kind === "password");

  it("has password identities to rotate", () => {
    expect(identities.length).toBeGreaterThan(0);
  });

  it.each(identities.map((i) => [i.credential, i] as const))(
    "%s: only its password, secrets of its client and server, and those two services",
    (id, i) => {
      const steps = expectedSteps({ ...config }, { ...rotate(config, id) });
      const filesOf = (service: string) =>
        serviceFiles(
          t,
          t.services.find((s) => s.name === service)!,
        ).files.map((f) => resourceId(SECRET, fileResourceName(names.service(service), f.name)));
      const clientFile = resourceId(SECRET, fileResourceName(names.service(i.client), i.file.name));
      const secrets = steps.replace.filter((r) => r.startsWith(`${SECRET} `));
      expect(steps.create).toEqual([]);
      expect(steps.delete).toEqual([]);
      expect(steps.update).toEqual(
        [resourceId(SERVICE, names.service(i.client)), resourceId(SERVICE, names.service(i.server))].sort(),
      );
      expect(steps.replace.filter((r) => !r.startsWith(`${SECRET} `))).toEqual([
        resourceId(PASSWORD, names.password(id)),
      ]);
      expect(secrets).toContain(clientFile);
      expect(secrets.some((s) => filesOf(i.server).includes(s))).toBe(true);
      for (const s of secrets) expect([...filesOf(i.client), ...filesOf(i.server)]).toContain(s);
    },
  );
});

describe("day-2 verdict on a rotated identity", () => {
  const identity: RotatedIdentity = {
    credential: "redis-node-red",
    flow: "node-red -> redis:6379",
    user: "node-red",
    allowedOk: true,
    outOfScopeRefused: true,
    undeclaredRefused: true,
    passwordChanged: true,
    clientHoldsNew: true,
    oldPasswordRefused: true,
    evidence: ["the old password as node-red -> WRONGPASS"],
  };
  const none = { create: [], update: [], replace: [], delete: [] };
  const change = (id: RotatedIdentity): Day2ChangeReport => ({
    name: ROTATION,
    description: "",
    steps: { create: 0, update: 2, replace: 3, delete: 0 },
    resources: none,
    expected: none,
    stepsAsExpected: true,
    converged: true,
    seconds: 30,
    requests: 100,
    failedRequests: 0,
    failedWhileGatewayDown: 0,
    failedAtBackend: 0,
    gatewayDownSeconds: 0,
    gatewayRestarted: false,
    deleteFirstGaps: [],
    messagesSent: 50,
    lostMessages: 0,
    duplicateMessages: 0,
    identity: id,
  });
  const report = (id: RotatedIdentity): Day2Report => ({
    noop: { steps: { create: 0, update: 0, replace: 0, delete: 0 }, resources: none },
    refreshNoop: { steps: { create: 0, update: 0, replace: 0, delete: 0 }, resources: none },
    changes: [change(id)],
  });

  it("passes when the identity works afterwards and the old password is refused", () => {
    expect(rotationHolds(identity)).toBe(true);
    expect(day2Failures(report(identity))).toEqual([]);
  });

  it.each([
    "passwordChanged",
    "clientHoldsNew",
    "oldPasswordRefused",
    "allowedOk",
    "outOfScopeRefused",
    "undeclaredRefused",
  ] as const)("fails when %s does not hold", (field) => {
    const failed = day2Failures(report({ ...identity, [field]: false }));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/^day2 flow credential rotated: redis-node-red afterwards: /);
  });
});
