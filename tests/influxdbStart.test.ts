/**
 * InfluxDB's start script (model/render/influxdb.ts): it reconciles exactly the planned InfluxDB identities with
 * their permissions, reads every secret from a file (no value in it), is valid bash, passes the policy pack's
 * config credential scan, and the service runs it, healthy only once it finished.
 */
import { execFileSync } from "child_process";
import { serviceFiles } from "../model/files";
import { planIdentities } from "../model/identity";
import { INFLUX_AUTH_MARKER, influxActions } from "../model/render/influxdb";
import { Topology } from "../model/types";
import { INFLUXDB_RECONCILED, INFLUXDB_START } from "../model/wiring/paths";
import { configCredentialFindings } from "../policies/lib/configCredentials";
import { topologyFrom } from "./helpers";

const dev = { environment: "dev" };
const influxdb = (t: Topology) => t.services.find((s) => s.app === "influxdb")!;
const startFile = (t: Topology) => serviceFiles(t, influxdb(t)).files.find((f) => f.name === "influxdb-start.sh")!;
/** The users the script creates: `name [actions] file`. */
const usersIn = (script: string) =>
  [...script.matchAll(/^user '([^']+)' "\[(.*)\]" "[^"]*" '([^']+)'$/gm)].map(
    (m) => `${m[1]} [${[...m[2].matchAll(/\\"action\\":\\"(\w+)\\"/g)].map((a) => a[1]).join(",")}] ${m[3]}`,
  );

describe("InfluxDB's start script", () => {
  it("creates exactly the planned users, with their actions and their own password files", () => {
    const t = topologyFrom(dev);
    const planned = planIdentities(t)
      .filter((i) => i.influxdb)
      .map(
        (i) =>
          `${i.username} [${influxActions(i.influxdb!).join(",")}] /run/secrets/influxdb-user-${i.client}-password`,
      );
    expect(planned).toEqual([
      "grafana [read] /run/secrets/influxdb-user-grafana-password",
      "node-red [write] /run/secrets/influxdb-user-node-red-password",
    ]);
    const script = startFile(t).template;
    expect(usersIn(script)).toEqual(planned);
    expect(script).toContain("wanted='grafana node-red'");
    // The password files it reads are the secrets the service mounts.
    const mounted = serviceFiles(t, influxdb(t))
      .files.filter((f) => f.kind === "secret")
      .map((f) => f.target);
    for (const u of usersIn(script)) expect(mounted).toContain(u.split(" ")[2]);
  });

  it("follows the flows: a removed flow drops its user, a read-write flow gets both actions", () => {
    const t = topologyFrom({
      ...dev,
      flows: [{ flow: "grafana -> influxdb:8086", permissions: { access: "read-write" } }],
    });
    const cut: Topology = { ...t, flows: t.flows.filter((f) => !(f.from === "node-red" && f.to === "influxdb")) };
    expect(usersIn(startFile(cut).template)).toEqual([
      "grafana [read,write] /run/secrets/influxdb-user-grafana-password",
    ]);
    expect(startFile(cut).template).toContain("wanted='grafana'");
    expect(serviceFiles(cut, influxdb(cut)).files.map((f) => f.name)).not.toContain("user-node-red-password");
  });

  it("holds no secret value, only file paths: a Swarm config the credential scan passes", () => {
    const file = startFile(topologyFrom(dev));
    expect(file).toMatchObject({ kind: "config", target: INFLUXDB_START });
    expect(file.template).not.toMatch(/\{\{/);
    expect(file.template).toContain("ADMIN_FILE='/run/secrets/influxdb-admin-token'");
    expect(configCredentialFindings(file.template)).toEqual([]);
    // Every authorization it makes carries the marker it deletes by, and the marker names the permissions.
    expect(file.template).toContain(`PREFIX='${INFLUX_AUTH_MARKER}'`);
    expect(file.template).toContain('"$PREFIX: read:telemetry=$bucket_telemetry"');
  });

  it("is valid bash", () => {
    expect(() => execFileSync("bash", ["-n"], { input: startFile(topologyFrom(dev)).template })).not.toThrow();
  });

  it("is what the InfluxDB service runs, healthy only once the users are reconciled", () => {
    const s = influxdb(topologyFrom(dev));
    expect(s.command).toEqual(["bash", INFLUXDB_START]);
    expect(s.health.test.join(" ")).toContain(`test -f ${INFLUXDB_RECONCILED}`);
    expect(s.tmpfs).toContain("/run/iot");
    expect(startFile(topologyFrom(dev)).template).toContain("/entrypoint.sh influxd &");
  });
});
