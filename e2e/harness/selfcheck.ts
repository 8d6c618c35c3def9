/**
 * Self-check of the e2e harness on the real local Swarm (run: npx tsx e2e/harness/selfcheck.ts).
 * A small inline Pulumi program, run through the harness's mocks, declares:
 *   - a CA, a broker certificate and a client certificate (tls provider stand-in), checked
 *     with `openssl verify`;
 *   - an attachable overlay and an internal encrypted overlay, a secret, configs, and two
 *     services: Mosquitto with an mTLS listener (read-only root, all caps dropped, uid 1883,
 *     key secret 0400 owned by 1883) and two replicas of the InfluxDB stand-in (dnsrr);
 * then probes them from a container on the overlay (DNS, mTLS publish/subscribe, a refused
 * client without certificate, both replicas answering) and tears everything down, checking
 * that nothing labelled is left. Exits non-zero on any failure.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as tls from "@pulumi/tls";
import { createHarness, E2eHarness, runProgram } from "./mocks";
import { removeAllLabelled } from "./docker";
import { execInService, runProbe } from "./swarm";
import { E2E_LABEL } from "./labels";

const b64 = (s: pulumi.Input<string>) => pulumi.output(s).apply((v) => Buffer.from(v).toString("base64"));
const label = { label: "iot-swarm-net.selfcheck", value: "1" };

/** A CA, a broker certificate (ECDSA) and a client certificate (RSA), through the tls stand-in. */
function selfcheckPki() {
  const caKey = new tls.PrivateKey("ca-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
  const ca = new tls.SelfSignedCert("ca", {
    privateKeyPem: caKey.privateKeyPem,
    subject: { commonName: "selfcheck CA", organization: "iot-swarm-net" },
    validityPeriodHours: 24,
    earlyRenewalHours: 1,
    isCaCertificate: true,
    allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
  });
  const leaf = (name: string, cn: string, alg: "ECDSA" | "RSA", uses: string[], dnsNames: string[]) => {
    const key = new tls.PrivateKey(
      `${name}-key`,
      alg === "RSA" ? { algorithm: "RSA", rsaBits: 2048 } : { algorithm: "ECDSA", ecdsaCurve: "P256" },
    );
    const csr = new tls.CertRequest(`${name}-csr`, {
      privateKeyPem: key.privateKeyPem,
      subject: { commonName: cn, organization: "iot-swarm-net" },
      dnsNames,
      ipAddresses: dnsNames.length ? ["127.0.0.1"] : [],
    });
    const cert = new tls.LocallySignedCert(`${name}-cert`, {
      certRequestPem: csr.certRequestPem,
      caPrivateKeyPem: caKey.privateKeyPem,
      caCertPem: ca.certPem,
      validityPeriodHours: 24,
      allowedUses: uses,
    });
    return { key, cert };
  };
  const server = leaf(
    "server",
    "selfcheck-mqtt",
    "ECDSA",
    ["digital_signature", "key_encipherment", "server_auth"],
    ["selfcheck-mqtt", "mqtt", "localhost"],
  );
  const client = leaf("client", "probe", "RSA", ["digital_signature", "key_encipherment", "client_auth"], []);
  return { ca, server, client };
}

type Pki = ReturnType<typeof selfcheckPki>;

function program() {
  const pki = selfcheckPki();
  const { ca, server, client } = pki;
  const net = new docker.Network("selfcheck-net", {
    name: "iot-e2e-selfcheck-net",
    driver: "overlay",
    attachable: true,
    ipamConfigs: [{ subnet: "10.251.7.0/24", gateway: "10.251.7.1" }],
    labels: [label],
  });
  const enc = new docker.Network("selfcheck-enc", {
    name: "iot-e2e-selfcheck-enc",
    driver: "overlay",
    internal: true,
    options: { encrypted: "" },
    labels: [label],
  });
  const mqtt = mqttService(mqttFiles(pki), [{ id: net.id, aliases: ["mqtt"] }, { id: enc.id }]);
  const influx = influxService([{ id: net.id }, { id: enc.id, aliases: ["tsdb"] }]);
  return {
    networkName: net.name,
    mqttId: mqtt.id,
    influxId: influx.id,
    caPem: ca.certPem,
    caStart: ca.validityStartTime,
    serverPem: server.cert.certPem,
    clientPem: client.cert.certPem,
    clientKeyPem: client.key.privateKeyPem,
  };
}

/** The broker's key secrets, and its configuration and certificates as configs. */
function mqttFiles({ ca, server, client }: Pki) {
  const serverKey = new docker.Secret("server-key", {
    name: "selfcheck-server-key",
    data: b64(server.key.privateKeyPem),
    labels: [label],
  });
  const clientKey = new docker.Secret("client-key", {
    name: "selfcheck-client-key",
    data: b64(client.key.privateKeyPem),
  });
  const cfg = (name: string, data: pulumi.Input<string>) =>
    new docker.ServiceConfig(name, { name: `selfcheck-${name}`, data: b64(data) });
  const mosquittoConf = cfg(
    "mosquitto-conf",
    [
      "listener 8883",
      "cafile /mosquitto/config/ca.crt",
      "certfile /mosquitto/config/server.crt",
      "keyfile /run/secrets/server.key",
      "require_certificate true",
      "use_identity_as_username true",
      "allow_anonymous false",
      "log_dest stdout",
      "",
    ].join("\n"),
  );
  const caCfg = cfg("ca-crt", ca.certPem);
  const serverCfg = cfg("server-crt", server.cert.certPem);
  const clientCfg = cfg("client-crt", client.cert.certPem);
  return { serverKey, clientKey, mosquittoConf, caCfg, serverCfg, clientCfg };
}

const health = (tests: string[]) => ({ tests, interval: "2s", timeout: "5s", retries: 10, startPeriod: "1s" });
type Attachments = docker.types.input.ServiceTaskSpecNetworksAdvanced[];

/** Mosquitto with an mTLS listener: read-only root, all capabilities dropped, uid 1883, key secrets 0400. */
function mqttService(files: ReturnType<typeof mqttFiles>, networks: Attachments) {
  const { serverKey, clientKey, mosquittoConf, caCfg, serverCfg, clientCfg } = files;
  return new docker.Service("selfcheck-mqtt", {
    name: "selfcheck-mqtt",
    labels: [label],
    taskSpec: {
      containerSpec: {
        image: "iot-e2e/mosquitto:e2e",
        user: "1883",
        readOnly: true,
        capDrops: ["ALL"],
        secrets: [
          {
            secretId: serverKey.id,
            secretName: serverKey.name,
            fileName: "/run/secrets/server.key",
            fileUid: "1883",
            fileGid: "1883",
            fileMode: 0o400,
          },
          {
            secretId: clientKey.id,
            secretName: clientKey.name,
            fileName: "/run/secrets/client.key",
            fileUid: "1883",
            fileGid: "1883",
            fileMode: 0o400,
          },
        ],
        configs: [
          {
            configId: mosquittoConf.id,
            configName: mosquittoConf.name,
            fileName: "/mosquitto/config/mosquitto.conf",
            fileMode: 0o444,
          },
          { configId: caCfg.id, configName: caCfg.name, fileName: "/mosquitto/config/ca.crt" },
          { configId: serverCfg.id, configName: serverCfg.name, fileName: "/mosquitto/config/server.crt" },
          { configId: clientCfg.id, configName: clientCfg.name, fileName: "/mosquitto/config/client.crt" },
        ],
        healthcheck: health([
          "CMD-SHELL",
          "timeout 5 mosquitto_pub -h localhost -p 8883 --cafile /mosquitto/config/ca.crt " +
            "--cert /mosquitto/config/client.crt --key /run/secrets/client.key -t health -m ok",
        ]),
        stopGracePeriod: "5s",
      },
      networksAdvanceds: networks,
      resources: { limits: { nanoCpus: 500_000_000, memoryBytes: 128 * 1024 * 1024 } },
      restartPolicy: { condition: "on-failure", delay: "1s", maxAttempts: 3 },
    },
    mode: { replicated: { replicas: 1 } },
    endpointSpec: { mode: "dnsrr" },
    updateConfig: { order: "stop-first", failureAction: "rollback", monitor: "5s" },
    convergeConfig: { timeout: "90s", delay: "1s" },
  });
}

/** Two replicas of the InfluxDB stand-in behind dnsrr. */
function influxService(networks: Attachments) {
  return new docker.Service("selfcheck-influx", {
    name: "selfcheck-influx",
    taskSpec: {
      containerSpec: {
        image: "iot-e2e/influxdb:e2e",
        env: { INFLUXD_HTTP_BIND_ADDRESS: ":8086" },
        healthcheck: health(["CMD", "curl", "-fsS", "http://127.0.0.1:8086/health"]),
        stopGracePeriod: "2s",
      },
      networksAdvanceds: networks,
    },
    mode: { replicated: { replicas: 2 } },
    endpointSpec: { mode: "dnsrr" },
    convergeConfig: { timeout: "90s", delay: "1s" },
  });
}

let failures = 0;
let passes = 0;
function check(name: string, ok: boolean, detail = "") {
  if (ok) passes++;
  else failures++;
  console.log(`${ok ? "PASS" : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
}

/** Contract checks that need no engine: unknown types and calls must throw, data must be base64. */
async function offlineChecks() {
  const h = createHarness({ log: () => undefined });
  const rejects = async (name: string, p: () => unknown, needle: string) => {
    try {
      await p();
      check(name, false, "did not throw");
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      check(name, msg.includes(needle), msg);
    }
  };
  await rejects(
    "unknown docker type throws with its name",
    () => h.newResource({ type: "docker:index/container:Container", name: "c", inputs: {}, custom: true }),
    "docker:index/container:Container",
  );
  await rejects(
    "unknown tls type throws with its name",
    () => h.newResource({ type: "tls:index/locallySignedCertX:X", name: "x", inputs: {}, custom: true }),
    "tls:index/locallySignedCertX:X",
  );
  await rejects(
    "provider function calls throw",
    () => h.call({ token: "docker:index/getNetwork:getNetwork", inputs: {} }),
    "getNetwork",
  );
  const pw = await h.newResource({
    type: "random:index/randomPassword:RandomPassword",
    name: "pw",
    inputs: { length: 32, special: false, minUpper: 2 },
    custom: true,
  });
  const value = String(pw.state.result);
  check(
    "random password honours length, classes and minimums",
    /^[A-Za-z0-9]{32}$/.test(value) && (value.match(/[A-Z]/g) ?? []).length >= 2,
    `${value.length} chars`,
  );
  await rejects(
    "secret data must be base64",
    () =>
      h.newResource({
        type: "docker:index/secret:Secret",
        name: "s",
        inputs: { name: "s", data: "not base64!" },
        custom: true,
      }),
    "base64",
  );
}

/** A service that never gets healthy: the create must fail with task diagnostics, and teardown must still clean up. */
async function failurePath() {
  const harness = createHarness({ log: (l) => console.log(`  [harness] ${l}`), convergeTimeoutMs: 8000 });
  const failing = () => {
    const net = new docker.Network("fail-net", { name: "iot-e2e-selfcheck-fail", driver: "overlay", attachable: true });
    const svc = new docker.Service("fail-svc", {
      name: "selfcheck-fail",
      taskSpec: {
        containerSpec: {
          image: "iot-e2e/probe:e2e",
          healthcheck: {
            tests: ["CMD-SHELL", "echo never-healthy; exit 1"],
            interval: "1s",
            timeout: "2s",
            retries: 2,
          },
          stopGracePeriod: "1s",
        },
        networksAdvanceds: [{ id: net.id }],
      },
      endpointSpec: { mode: "dnsrr" },
      convergeConfig: { timeout: "8s", delay: "1s" },
    });
    return { id: svc.id };
  };
  try {
    await runProgram(harness, failing, { stack: "e2e-selfcheck-fail" });
    check("non-converging service fails the run", false, "run succeeded");
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    check(
      "non-converging service fails the run with task diagnostics",
      msg.includes("did not converge") && msg.includes("never-healthy"),
      msg.slice(0, 300),
    );
  }
  const report = await harness.teardown();
  const left = await harness.docker.listNetworks({ filters: { label: [`iot-swarm-net.e2e.run=${harness.runId}`] } });
  check(
    "teardown after a failed run removes everything",
    report.errors.length === 0 && left.length === 0 && report.removed.length === 2,
    `removed ${report.removed.length}, errors ${report.errors.join("; ")}`,
  );
}

/** Every provider field the mapping handles, accepted by the engine and visible in the inspected spec. */
/** One service that sets every provider field the mapping handles. */
function roundTripProgram() {
  const net = new docker.Network("rt-net", {
    name: "iot-e2e-selfcheck-rt",
    driver: "overlay",
    attachable: true,
    ipamConfigs: [{ subnet: "10.251.9.0/24", gateway: "10.251.9.1", ipRange: "10.251.9.128/25" }],
    labels: [label],
  });
  const vol = new docker.Volume("rt-vol", { name: "iot-e2e-selfcheck-rt-vol" });
  const svc = new docker.Service("rt-svc", {
    name: "selfcheck-rt",
    labels: [label],
    taskSpec: {
      containerSpec: {
        image: "iot-e2e/grafana:e2e",
        env: { GF_SERVER_HTTP_PORT: "1881" },
        hostname: "rt-host",
        capDrops: ["ALL"],
        capAdds: ["NET_BIND_SERVICE"],
        readOnly: true,
        labels: [{ label: "tier", value: "frontend" }],
        mounts: [
          { type: "tmpfs", target: "/tmp", tmpfsOptions: { sizeBytes: 16 * 1024 * 1024, mode: 0o1777 } },
          { type: "volume", source: vol.name, target: "/data" },
        ],
        hosts: [{ host: "devices.local", ip: "127.0.0.2" }],
        dnsConfig: { nameservers: ["127.0.0.11"], options: ["ndots:1"] },
        sysctl: { "net.ipv4.tcp_keepalive_time": "300" },
        stopSignal: "SIGTERM",
        stopGracePeriod: "3s",
        healthcheck: {
          tests: ["CMD", "wget", "-qO-", "http://127.0.0.1:1881/"],
          interval: "1s",
          timeout: "3s",
          retries: 5,
          startPeriod: "2s",
        },
      },
      networksAdvanceds: [{ id: net.id, aliases: ["rt-alias"] }],
      resources: {
        limits: { nanoCpus: 250_000_000, memoryBytes: 64 * 1024 * 1024 },
        reservation: { nanoCpus: 10_000_000, memoryBytes: 8 * 1024 * 1024 },
      },
      restartPolicy: { condition: "any", delay: "2s", maxAttempts: 0, window: "30s" },
      placement: { constraints: ["node.role==manager"], maxReplicas: 2, prefs: ["spread=node.id"] },
    },
    mode: { replicated: { replicas: 1 } },
    endpointSpec: {
      mode: "dnsrr",
      ports: [{ name: "http", protocol: "tcp", targetPort: 1881, publishedPort: 18881, publishMode: "host" }],
    },
    updateConfig: {
      parallelism: 1,
      delay: "1s",
      failureAction: "rollback",
      monitor: "10s",
      maxFailureRatio: "0.1",
      order: "stop-first",
    },
    rollbackConfig: { parallelism: 1, delay: "500ms", failureAction: "pause", monitor: "5s", order: "stop-first" },
    convergeConfig: { timeout: "60s", delay: "1s" },
  });
  return { id: svc.id };
}

/** What the engine reports back for the round-trip service, against what the program set. */
function roundTripMismatches(spec: any): string[] {
  const c = spec.TaskTemplate.ContainerSpec;
  const want: [string, unknown, unknown][] = [
    ["healthcheck interval ns", c.Healthcheck?.Interval, 1e9],
    ["stop grace ns", c.StopGracePeriod, 3e9],
    ["env", c.Env?.[0], "GF_SERVER_HTTP_PORT=1881"],
    ["caps", `${c.CapabilityDrop}|${c.CapabilityAdd}`, "ALL|NET_BIND_SERVICE"],
    ["hosts", c.Hosts?.[0], "127.0.0.2 devices.local"],
    ["tmpfs mode", c.Mounts?.find((m: any) => m.Type === "tmpfs")?.TmpfsOptions?.Mode, 0o1777],
    [
      "volume mount labelled",
      c.Mounts?.find((m: any) => m.Type === "volume")?.VolumeOptions?.Labels?.["iot-swarm-net.e2e"],
      "1",
    ],
    ["network alias", spec.TaskTemplate.Networks?.[0]?.Aliases?.[0], "rt-alias"],
    ["limits", spec.TaskTemplate.Resources?.Limits?.NanoCPUs, 250_000_000],
    ["restart window ns", spec.TaskTemplate.RestartPolicy?.Window, 30e9],
    ["placement", spec.TaskTemplate.Placement?.Preferences?.[0]?.Spread?.SpreadDescriptor, "node.id"],
    [
      "update order",
      `${spec.UpdateConfig?.Order}/${spec.UpdateConfig?.FailureAction}/${spec.UpdateConfig?.MaxFailureRatio}`,
      "stop-first/rollback/0.1",
    ],
    ["rollback delay ns", spec.RollbackConfig?.Delay, 5e8],
    [
      "host-mode port",
      `${spec.EndpointSpec?.Ports?.[0]?.PublishMode}:${spec.EndpointSpec?.Ports?.[0]?.PublishedPort}`,
      "host:18881",
    ],
  ];
  return want
    .filter(([, got, exp]) => got !== exp)
    .map(([n, got, exp]) => `${n}: ${JSON.stringify(got)} != ${JSON.stringify(exp)}`);
}

async function specRoundTrip() {
  const harness = createHarness({ log: () => undefined });
  try {
    const out = (await runProgram(harness, roundTripProgram, { stack: "e2e-selfcheck-rt" })).outputs as { id: string };
    const wrong = roundTripMismatches((await harness.docker.getService(out.id).inspect()).Spec);
    check("full service spec round-trips through the engine", wrong.length === 0, wrong.join("; "));
    const r = await fetch("http://127.0.0.1:18881/")
      .then(async (res) => `${res.status} ${res.headers.get("x-served-by")}`)
      .catch((e) => String(e));
    check("host-mode published port answers on loopback", r === "200 rt-host", r);
  } catch (e) {
    check("full service spec accepted", false, e instanceof Error ? e.message : String(e));
  } finally {
    const report = await harness.teardown();
    check(
      "round-trip teardown (incl. named volume)",
      report.errors.length === 0 && report.removed.length === 3,
      `removed ${report.removed.length}, swept ${report.swept.join(",")}, errors ${report.errors.join("; ")}`,
    );
  }
}

/** The certificate chain, checked with the CLI the servers' TLS stack shares. */
function verifyChain(out: Record<string, string>): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iot-e2e-selfcheck-"));
  for (const [f, v] of Object.entries({
    "ca.pem": out.caPem,
    "server.pem": out.serverPem,
    "client.pem": out.clientPem,
  })) {
    fs.writeFileSync(path.join(dir, f), v);
  }
  const verify = (purpose: string, cert: string) => {
    try {
      return execFileSync(
        "openssl",
        ["verify", "-x509_strict", "-purpose", purpose, "-CAfile", path.join(dir, "ca.pem"), path.join(dir, cert)],
        { stdio: ["ignore", "pipe", "pipe"] },
      )
        .toString()
        .trim();
    } catch (e) {
      return String((e as { stderr?: Buffer }).stderr ?? e);
    }
  };
  check("openssl verify server (sslserver)", verify("sslserver", "server.pem").endsWith("OK"));
  check("openssl verify client (sslclient)", verify("sslclient", "client.pem").endsWith("OK"));
  check("client cert is not a server cert", !verify("sslserver", "client.pem").endsWith("OK"));
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Inside the broker's task: the key file's owner and mode, the user, no capabilities, the alias on the internal overlay. */
async function checkBrokerTask(harness: E2eHarness, out: Record<string, string>): Promise<void> {
  const secretStat = await execInService(harness.docker, out.mqttId, [
    "stat",
    "-c",
    "%u %g %a",
    "/run/secrets/server.key",
  ]);
  check("secret file uid/gid/mode honoured", secretStat.stdout.trim() === "1883 1883 400", secretStat.stdout.trim());
  const whoami = await execInService(harness.docker, out.mqttId, ["sh", "-c", "id -u; grep CapEff /proc/1/status"]);
  check(
    "mosquitto runs as 1883 with no capabilities",
    /^1883\n/.test(whoami.stdout) && /CapEff:\s+0+\n/.test(whoami.stdout),
    whoami.stdout.replace(/\n/g, " "),
  );
  const tsdb = await execInService(harness.docker, out.mqttId, [
    "sh",
    "-c",
    "getent ahostsv4 tsdb | awk '{print $1}' | sort -u | wc -l",
  ]);
  check(
    "alias on the internal encrypted overlay resolves to both replicas",
    tsdb.stdout.trim() === "2",
    tsdb.stdout.trim(),
  );
}

const PROBE_SCRIPT = `
set -u
echo "getent=$(getent hosts selfcheck-mqtt | awk '{print $1}')"
echo "alias=$(getent hosts mqtt | awk '{print $1}')"
echo "tasks=$(dig +short tasks.selfcheck-influx | sort | tr '\\n' ' ')"
timeout 10 mosquitto_sub -h selfcheck-mqtt -p 8883 --cafile /p/ca.pem --cert /p/client.pem --key /p/client.key -t t/1 -C 1 -W 8 > /tmp/sub.out &
sleep 1
timeout 5 mosquitto_pub -h mqtt -p 8883 --cafile /p/ca.pem --cert /p/client.pem --key /p/client.key -t t/1 -m hello-selfcheck; echo "pub=$?"
wait; echo "sub=$(cat /tmp/sub.out)"
timeout 5 mosquitto_pub -h selfcheck-mqtt -p 8883 --cafile /p/ca.pem -t t/1 -m anon >/dev/null 2>&1; echo "nocert=$?"
for ip in $(dig +short tasks.selfcheck-influx); do for i in 1 2 3; do curl -fsS -D - -o /dev/null http://$ip:8086/health | tr -d '\\r' | awk -F': ' 'tolower($1)=="x-served-by"{print "served=" $2}'; done; done
`;

/** From a probe container on the attachable overlay: DNS, mTLS publish/subscribe, a refused client, both replicas. */
async function probeFromOverlay(harness: E2eHarness, out: Record<string, string>): Promise<void> {
  const probe = await runProbe(harness.docker, {
    runId: harness.runId,
    networks: [out.networkName],
    cmd: ["sh", "-c", PROBE_SCRIPT],
    files: { "/p/ca.pem": out.caPem, "/p/client.pem": out.clientPem, "/p/client.key": out.clientKeyPem },
    timeoutMs: 60_000,
  });
  const kv = (k: string) =>
    probe.stdout
      .split("\n")
      .filter((l) => l.startsWith(`${k}=`))
      .map((l) => l.slice(k.length + 1));
  check("DNS: service name resolves (dnsrr)", /^10\.251\.7\.\d+$/.test(kv("getent")[0] ?? ""), kv("getent")[0]);
  check("DNS: network alias resolves", kv("alias")[0] === kv("getent")[0], kv("alias")[0]);
  check(
    "DNS: tasks.<service> lists both replicas",
    (kv("tasks")[0] ?? "").trim().split(" ").length === 2,
    kv("tasks")[0],
  );
  check("mTLS publish accepted", kv("pub")[0] === "0", kv("pub")[0]);
  check("mTLS subscribe received the message", kv("sub")[0] === "hello-selfcheck", kv("sub")[0]);
  check(
    "client without certificate refused",
    kv("nocert")[0] !== "0" && kv("nocert")[0] !== undefined,
    kv("nocert")[0],
  );
  const served = new Set(kv("served"));
  check("both stand-in replicas answer with their hostnames", served.size === 2, [...served].join(","));
  if (failures) console.log(`probe stdout:\n${probe.stdout}\nprobe stderr:\n${probe.stderr}`);
}

/** Tears the run down and checks that nothing carrying the e2e label is left (removing it if so). */
async function teardownAndCheck(harness: E2eHarness): Promise<void> {
  const report = await harness.teardown();
  check("teardown without errors", report.errors.length === 0, report.errors.join("; "));
  const d = harness.docker;
  const f = { filters: { label: [E2E_LABEL] } };
  const left = [
    ...(await d.listServices(f)).map((s) => `service ${s.Spec?.Name}`),
    ...(await d.listNetworks(f)).map((n) => `network ${n.Name}`),
    ...((await d.listSecrets(f)) as any[]).map((s) => `secret ${s.Spec?.Name}`),
    ...(await d.listConfigs(f)).map((c) => `config ${c.Spec?.Name}`),
    ...(await d.listContainers({ all: true, ...f })).map((c) => `container ${c.Names?.[0]}`),
    ...((await d.listVolumes(f)).Volumes ?? []).map((v) => `volume ${v.Name}`),
  ];
  check("nothing labelled left behind", left.length === 0, left.join(", "));
  if (left.length) await removeAllLabelled(d);
}

/**
 * Interrupted: still remove what this run created. Handlers stay installed, since tsx's
 * parent process relays the same signal again and the default action would kill the teardown.
 */
function teardownOnSignal(harness: E2eHarness): void {
  let interrupted = false;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      if (interrupted) return;
      interrupted = true;
      console.log(`${sig}: tearing down`);
      void harness.teardown().finally(() => process.exit(130));
    });
  }
}

async function main() {
  const t0 = Date.now();
  await offlineChecks();
  const earlier = await removeAllLabelled(createHarness().docker);
  if (earlier.swept.length) console.log(`removed leftovers of earlier runs: ${earlier.swept.join(", ")}`);
  const harness = createHarness({ log: (l) => console.log(`  [harness] ${l}`) });
  console.log(`selfcheck run ${harness.runId}`);
  teardownOnSignal(harness);
  const step = (name: string) => console.log(`-- ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  try {
    step("program");
    const out = (await runProgram(harness, program, { project: "iot-swarm-net", stack: "e2e-selfcheck" }))
      .outputs as Record<string, string>;
    step("program done: resources created and services converged");
    verifyChain(out);
    await checkBrokerTask(harness, out);
    step("probe");
    await probeFromOverlay(harness, out);
  } catch (err) {
    check("selfcheck ran to completion", false, err instanceof Error ? err.message : String(err));
  } finally {
    step("teardown");
    await teardownAndCheck(harness);
  }
  step("spec round-trip");
  await specRoundTrip();
  step("failure path");
  await failurePath();
  step("done");
  console.log(`selfcheck: ${passes} passed, ${failures} failed`);
  process.exit(failures ? 1 : 0);
}

void main();
