/**
 * Assertions on the resources the real program registers under mocks, shared by the dev and prod
 * test files (each file gets its own module registry, so each evaluates index.ts afresh).
 */
import { evaluateProgram, Evaluation } from "../tools/evaluate";
import { MOCK_PRIVATE_KEY_MARKER } from "../tools/mocks";
import { CONFIG, decode, NETWORK, ofType, reachabilityFromResources, SECRET, SERVICE } from "./helpers";

export function describeProgram(stack: "dev" | "prod"): void {
  let e: Evaluation;
  beforeAll(async () => {
    e = await evaluateProgram({ stack });
  });

  const services = () => ofType(e.resources, SERVICE);
  const service = (name: string) => services().find((s) => s.inputs.name === name)!;
  const networkById = (id: string) => ofType(e.resources, NETWORK).find((n) => n.id === id)!;
  /** The decoded content of the Swarm config whose object name starts with `prefix`. */
  const configText = (prefix: string) =>
    decode(ofType(e.resources, CONFIG).find((c) => c.inputs.name.startsWith(prefix))!.inputs.data);

  it("registers one service per component", () => {
    expect(
      services()
        .map((s) => s.inputs.name)
        .sort(),
    ).toEqual([
      "gateway",
      "grafana",
      "influxdb",
      "mosquitto",
      "mqtt-exporter",
      "nats",
      "node-red",
      "prometheus",
      "redis",
    ]);
  });

  it("attaches services to overlay networks by id, and the resulting reachability equals the intent output", () => {
    for (const s of services()) {
      for (const n of s.inputs.taskSpec.networksAdvanceds) {
        const network = networkById(n.id);
        expect(network).toBeDefined();
        expect(network.inputs.driver).toBe("overlay");
      }
    }
    expect(reachabilityFromResources(e.resources)).toEqual(e.outputs.intendedReachability);
    expect(e.outputs.reachability).toEqual(e.outputs.intendedReachability);
  });

  it("keeps Grafana from reaching Mosquitto and Node-RED", () => {
    const reach = reachabilityFromResources(e.resources);
    expect(reach.grafana).not.toContain("mosquitto");
    expect(reach.grafana).not.toContain("node-red");
    expect(reach.grafana).toContain("influxdb");
  });

  it("marks every network internal but the per-service egress networks, and labels each", () => {
    for (const n of ofType(e.resources, NETWORK)) {
      const labels = Object.fromEntries(
        n.inputs.labels.map((l: { label: string; value: string }) => [l.label, l.value]),
      );
      expect(labels["iot.network-kind"]).toMatch(/^(tier|link|egress)$/);
      expect(n.inputs.internal).toBe(labels["iot.network-kind"] !== "egress");
      expect(n.inputs.attachable).toBe(false);
      expect("encrypted" in (n.inputs.options ?? {})).toBe(stack === "prod");
    }
  });

  it("publishes ports only on the gateway and the broker, never plaintext MQTT", () => {
    const publishing = services()
      .filter((s) => (s.inputs.endpointSpec?.ports ?? []).length > 0)
      .map((s) => s.inputs.name)
      .sort();
    expect(publishing).toEqual(["gateway", "mosquitto"]);
    const hostPorts = services().flatMap((s) =>
      (s.inputs.endpointSpec?.ports ?? []).map((p: { publishedPort: number }) => p.publishedPort),
    );
    expect(hostPorts).not.toContain(1883);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it("gives every service a health check, a memory limit, a bounded restart policy and dropped capabilities", () => {
    for (const s of services()) {
      const spec = s.inputs.taskSpec;
      expect(spec.containerSpec.healthcheck.tests.length).toBeGreaterThan(1);
      expect(spec.resources.limits.memoryBytes).toBeGreaterThan(0);
      expect(spec.restartPolicy).toMatchObject({ condition: "on-failure", maxAttempts: 5 });
      expect(spec.containerSpec.capDrops).toEqual(["ALL"]);
      expect(spec.containerSpec.image).toMatch(/:[\w.-]+$/);
      expect(JSON.stringify(spec.containerSpec.mounts ?? [])).not.toMatch(/docker\.sock/);
      expect(s.inputs.updateConfig.failureAction).toBe("rollback");
      expect(s.inputs.convergeConfig).toBeDefined();
    }
  });

  it("rolls singletons stop-first and scalable services start-first", () => {
    expect(service("influxdb").inputs.updateConfig.order).toBe("stop-first");
    expect(service("gateway").inputs.updateConfig.order).toBe("start-first");
  });

  it("keeps private keys in Docker secrets only: never in configs or environment", () => {
    const secrets = ofType(e.resources, SECRET);
    expect(secrets.every((s) => s.secretInputs.includes("data"))).toBe(true);
    const secretData = secrets.map((s) => decode(s.inputs.data));
    // Each leaf key reaches exactly the one service that uses it; the CA key reaches none.
    for (const key of e.resources.filter((r) => r.type === "tls:index/privateKey:PrivateKey")) {
      const holders = secretData.filter((d) => d.includes(`${MOCK_PRIVATE_KEY_MARKER}:${key.name}\n`)).length;
      expect({ key: key.name, holders }).toEqual({ key: key.name, holders: key.name.endsWith("-ca-key") ? 0 : 1 });
    }
    for (const c of ofType(e.resources, CONFIG)) expect(decode(c.inputs.data)).not.toMatch(/PRIVATE KEY/);
    for (const s of services())
      expect(JSON.stringify(s.inputs.taskSpec.containerSpec.env ?? {})).not.toMatch(/PRIVATE KEY|mock-password/);
  });

  it("passes secrets as files with owner-only modes, and *_FILE variables", () => {
    const influx = service("influxdb").inputs.taskSpec.containerSpec;
    expect(
      influx.secrets.every((s: { fileMode: number; fileUid: string }) => s.fileMode === 0o400 && s.fileUid === "1000"),
    ).toBe(true);
    expect(influx.env.DOCKER_INFLUXDB_INIT_PASSWORD_FILE).toBe("/run/secrets/influxdb-admin-password");
    expect(service("grafana").inputs.taskSpec.containerSpec.env.GF_SECURITY_ADMIN_PASSWORD__FILE).toBeDefined();
  });

  // That a changed content changes the name is tested in program.wiring.test.ts.
  it("names every config and secret <service>-<file>-<content hash>, each name once", () => {
    const files = [...ofType(e.resources, CONFIG), ...ofType(e.resources, SECRET)];
    for (const r of files) expect(r.inputs.name).toMatch(/^[a-z0-9-]+-[0-9a-f]{12}$/);
    expect(new Set(files.map((r) => r.inputs.name)).size).toBe(files.length);
  });

  it("requires client certificates on the broker's TLS listener and keeps 1883 on loopback", () => {
    const conf = decode(
      ofType(e.resources, CONFIG).find((c) => c.inputs.name.startsWith("mosquitto-mosquitto-conf"))!.inputs.data,
    );
    expect(conf).toMatch(/listener 8883\n/);
    expect(conf).toMatch(/require_certificate true/);
    expect(conf).toMatch(/listener 1883 127\.0\.0\.1/);
    expect(conf).not.toMatch(/listener 1883\s*\n/);
  });

  it("issues the broker certificate for its service name, aliases and external host name", () => {
    const csr = e.resources.find(
      (r) => r.type === "tls:index/certRequest:CertRequest" && r.name.endsWith("-mosquitto-csr"),
    )!;
    const hostname = stack === "prod" ? "mqtt.energy.example.com" : "mqtt.localhost";
    expect(csr.inputs.dnsNames).toEqual(expect.arrayContaining([hostname, "mosquitto", "mqtt", "broker"]));
    const cert = e.resources.find(
      (r) => r.type === "tls:index/locallySignedCert:LocallySignedCert" && r.name.endsWith("-mosquitto-cert"),
    )!;
    expect(cert.inputs.allowedUses).toContain("server_auth");
    expect(cert.inputs.allowedUses).not.toContain("cert_signing");
  });

  it("issues a client-auth certificate for Node-RED and a CA that alone may sign", () => {
    const client = e.resources.find(
      (r) => r.type === "tls:index/locallySignedCert:LocallySignedCert" && r.name.includes("mqtt-client-node-red"),
    )!;
    expect(client.inputs.allowedUses).toEqual(expect.arrayContaining(["client_auth"]));
    const ca = e.resources.find((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert")!;
    expect(ca.inputs.isCaCertificate).toBe(true);
    expect(ca.inputs.allowedUses).toContain("cert_signing");
    const keys = e.resources.filter((r) => r.type === "tls:index/privateKey:PrivateKey");
    expect(keys.every((k) => k.inputs.algorithm === "ECDSA" && k.inputs.ecdsaCurve === "P256")).toBe(true);
  });

  it("makes a service wait only on its own networks, configs and secrets (and what those are made of)", () => {
    const byUrn = new Map(e.resources.map((r) => [r.urn, r]));
    const closure = (urns: readonly string[]): Set<string> => {
      const seen = new Set<string>();
      const visit = (u: string) => {
        if (seen.has(u)) return;
        seen.add(u);
        byUrn.get(u)?.dependencies.forEach(visit);
      };
      urns.forEach(visit);
      return seen;
    };
    for (const s of services()) {
      const spec = s.inputs.taskSpec;
      const direct = e.resources.filter(
        (r) =>
          (r.type === NETWORK && spec.networksAdvanceds.some((n: { id: string }) => n.id === r.id)) ||
          (r.type === SECRET &&
            (spec.containerSpec.secrets ?? []).some((x: { secretId: string }) => x.secretId === r.id)) ||
          (r.type === CONFIG &&
            (spec.containerSpec.configs ?? []).some((x: { configId: string }) => x.configId === r.id)),
      );
      const allowed = closure(direct.map((r) => r.urn));
      for (const dep of s.dependencies)
        expect({ service: s.inputs.name, dep, allowed: allowed.has(dep) }).toEqual({
          service: s.inputs.name,
          dep,
          allowed: true,
        });
      expect(s.dependencies.some((d) => byUrn.get(d)?.type === SERVICE)).toBe(false);
    }
  });

  it("exports a discovery table with DNS names, tasks names and networks", () => {
    const discovery = e.outputs.discovery as {
      service: string;
      dnsNames: string[];
      tasksName: string;
      networks: string[];
    }[];
    const broker = discovery.find((d) => d.service === "mosquitto")!;
    expect(broker.dnsNames).toEqual(["mosquitto", "mqtt", "broker"]);
    expect(broker.tasksName).toBe("tasks.mosquitto");
    expect(broker.networks).toContain("iot-mqtt-network");
  });

  it("exports every service's health endpoint and external URLs", () => {
    const endpoints = e.outputs.endpoints as Record<string, { health: string; external: string[] }>;
    expect(Object.keys(endpoints).sort()).toEqual(
      services()
        .map((s) => s.inputs.name)
        .sort(),
    );
    expect(endpoints.grafana.health).toBe("http://grafana:3000/api/health");
    expect(endpoints.mosquitto.external).toEqual([
      `mqtts://${stack === "prod" ? "mqtt.energy.example.com" : "mqtt.localhost"}:8883`,
    ]);
  });

  it("fills every certificate expiry into the Prometheus alert rules and keeps Prometheus' own templates", () => {
    const rules = configText("prometheus-alerts-yml");
    expect(rules).toMatch(/vector\(\d+ - time\(\)\) < 21 \* 86400/);
    expect(rules).not.toMatch(/\{\{expiry/);
    expect(rules).toMatch(/\{\{ \$labels\.job \}\}/);
  });

  it("scrapes exactly the services Prometheus has a declared flow to", () => {
    const scrape = configText("prometheus-prometheus-yml");
    const jobs = [...scrape.matchAll(/names: \['tasks\.([a-z-]+)'\]/g)].map((m) => m[1]).sort();
    const prometheus = service("prometheus").inputs.labels.find((l: { label: string }) => l.label === "iot.flows");
    const declared = (prometheus.value as string).split(",").map((f) => f.split(":")[0]);
    expect(jobs).toEqual([...declared].sort());
    expect(jobs).toContain("gateway");
  });

  it("provisions Grafana's own InfluxDB password from a secret file, not inline", () => {
    const ds = configText("grafana-datasources-yaml");
    expect(ds).toMatch(/password: \$__file\{\/run\/secrets\/grafana-influxdb-password\}/);
    expect(ds).not.toMatch(/token/);
    expect(ds).not.toMatch(/mock-password/);
  });
}
