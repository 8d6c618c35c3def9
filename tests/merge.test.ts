/**
 * The merge step: what the topology holds for a stack config, one override at a time against the
 * reference catalog (referenceServices) and the environment's defaults.
 */
import { referenceFlows, referenceRoutes, referenceServices, referenceTiers } from "../model/catalog";
import { parseStackConfig } from "../model/config";
import { mergeTopology, REQUIRED_NEW_SERVICE_FIELDS, unbuildableService } from "../model/merge";
import { topologyFrom } from "./helpers";

const dev = { environment: "dev" };
const reference = (name: string) => referenceServices.find((s) => s.name === name)!;
const service = (raw: Record<string, unknown>, name: string) =>
  topologyFrom(raw).services.find((s) => s.name === name)!;
const newService = {
  image: "ghcr.io/acme/api:1.0.0",
  tiers: ["backend"],
  role: "api",
  ports: [{ name: "http", port: 8000, appProtocol: "http", purpose: "API" }],
  health: { test: ["CMD", "true"] },
};

describe("merging the reference catalog with stack overrides", () => {
  it("gives every catalog service as the catalog has it in dev, in catalog order", () => {
    const t = topologyFrom(dev);
    // Every service with a volume is pinned to the node with the state label; nothing else differs.
    expect(t.services).toEqual(
      referenceServices.map((s) =>
        s.volumes.length > 0 ? { ...s, placement: [...s.placement, "node.labels.iot.state == true"] } : s,
      ),
    );
    expect(t.services.filter((s) => s.volumes.length > 0).map((s) => s.name)).toEqual([
      "mosquitto",
      "influxdb",
      "grafana",
      "node-red",
      "redis",
      "prometheus",
    ]);
    expect(t.tiers).toEqual(referenceTiers);
    expect(t.flows).toEqual(referenceFlows);
    expect(t.routes).toEqual(referenceRoutes);
  });

  it("replaces the scalar fields an override sets and keeps the rest", () => {
    const s = service(
      {
        ...dev,
        services: {
          grafana: {
            image: "grafana/grafana:11.4.0",
            role: "dashboards",
            uid: 1000,
            gid: 1000,
            readOnlyRootFilesystem: false,
            capAdd: ["NET_BIND_SERVICE"],
            placement: ["node.role==worker"],
            command: ["grafana", "server"],
          },
        },
      },
      "grafana",
    );
    expect(s).toMatchObject({
      image: "grafana/grafana:11.4.0",
      role: "dashboards",
      uid: 1000,
      gid: 1000,
      readOnlyRootFilesystem: false,
      capAdd: ["NET_BIND_SERVICE"],
      // The configured constraints, then the pin of a service with a volume.
      placement: ["node.role==worker", "node.labels.iot.state == true"],
      command: ["grafana", "server"],
    });
    expect(s.tiers).toEqual(reference("grafana").tiers);
    expect(s.volumes).toEqual(reference("grafana").volumes);
    expect(s.capDrop).toEqual(["ALL"]);
  });

  describe("pins every service with a volume to one node", () => {
    it("to the node its stateNode names, instead of the state label", () => {
      const s = service({ ...dev, services: { redis: { stateNode: "store-1" } } }, "redis");
      expect(s.placement).toEqual(["node.hostname == store-1"]);
    });

    it("keeps a configured pin as the only one, since two pins may match no node", () => {
      const byHost = service({ ...dev, services: { redis: { placement: ["node.hostname == a"] } } }, "redis");
      expect(byHost.placement).toEqual(["node.hostname == a"]);
      const byLabel = service({ ...dev, services: { redis: { placement: ["node.labels.iot.state==true"] } } }, "redis");
      expect(byLabel.placement).toEqual(["node.labels.iot.state==true"]);
    });

    it("adds the pin beside a label other nodes may carry too", () => {
      const s = service(
        { ...dev, services: { influxdb: { placement: ["node.labels.iot.storage == true"] } } },
        "influxdb",
      );
      expect(s.placement).toEqual(["node.labels.iot.storage == true", "node.labels.iot.state == true"]);
    });

    it("leaves a scaled-out service (singleton: false) without node-local volumes and unpinned", () => {
      const s = service({ ...dev, services: { grafana: { singleton: false, replicas: 3 } } }, "grafana");
      expect(s.volumes).toEqual([]);
      expect(s.placement).toEqual([]);
    });

    it("leaves a service without volumes unpinned", () => {
      expect(service(dev, "nats").placement).toEqual([]);
      expect(service(dev, "gateway").placement).toEqual([]);
    });
  });

  it("adds aliases to the catalog's, merges env over it and resources field by field", () => {
    const s = service(
      { ...dev, services: { redis: { aliases: ["kv"], env: { TZ: "UTC" }, resources: { memoryMb: 512 } } } },
      "redis",
    );
    expect(s.aliases).toEqual([...reference("redis").aliases, "kv"]);
    expect(s.env).toEqual({ ...reference("redis").env, TZ: "UTC" });
    expect(s.resources).toEqual({ ...reference("redis").resources, memoryMb: 512 });
  });

  it("publishes, republishes and unpublishes ports by port name", () => {
    const gateway = service({ ...dev, services: { gateway: { publish: { https: 8443, http: null } } } }, "gateway");
    expect(gateway.ports.map((p) => [p.name, p.published])).toEqual([
      ["https", 8443],
      ["http", undefined],
      ["metrics", undefined],
    ]);
    const grafana = service({ ...dev, services: { grafana: { publish: { http: 3001 } } } }, "grafana");
    expect(grafana.ports[0].published).toBe(3001);
    expect(grafana).toMatchObject({ egress: true, endpointMode: "vip" });
  });

  it("resolves published services through DNS round-robin in host mode, and others always", () => {
    expect(service({ ...dev, publishMode: "host" }, "mosquitto").endpointMode).toBe("dnsrr");
    expect(service({ ...dev, publishMode: "host" }, "grafana").endpointMode).toBe("dnsrr");
    expect(service(dev, "mosquitto").endpointMode).toBe("vip");
    expect(service({ ...dev, services: { grafana: { endpointMode: "vip" } } }, "grafana").endpointMode).toBe("vip");
  });

  it("gives a service with external endpoints egress, and one without none", () => {
    const endpoints = [{ name: "weather", host: "api.weather.example", port: 443 }];
    expect(service({ ...dev, services: { "node-red": { externalEndpoints: endpoints } } }, "node-red")).toMatchObject({
      egress: true,
      externalEndpoints: endpoints,
    });
    expect(service(dev, "node-red").egress).toBe(false);
  });

  it("runs two replicas of scalable services in prod unless told otherwise, one of singletons", () => {
    expect(service({ environment: "prod" }, "gateway").replicas).toBe(2);
    expect(service({ environment: "prod", services: { gateway: { replicas: 3 } } }, "gateway").replicas).toBe(3);
    expect(service({ environment: "prod" }, "influxdb").replicas).toBe(1);
    expect(service({ environment: "prod", services: { redis: { singleton: false } } }, "redis").replicas).toBe(2);
    expect(service({ environment: "e2e" }, "gateway").replicas).toBe(1);
  });

  it("builds a new service from its own fields and the defaults, running no catalog application", () => {
    const api = service({ ...dev, services: { api: newService } }, "api");
    expect(api).toMatchObject({
      name: "api",
      app: undefined,
      image: newService.image,
      role: "api",
      replicas: 1,
      singleton: false,
      uid: 65534,
      gid: 65534,
      readOnlyRootFilesystem: true,
      capAdd: [],
      aliases: [],
      resources: { cpus: 0.5, memoryMb: 256, reservedCpus: 0.1, reservedMemoryMb: 64 },
      volumes: [],
      tmpfs: [],
      egress: false,
      endpointMode: "dnsrr",
    });
    expect(api.ports[0]).toMatchObject({ name: "http", port: 8000, protocol: "tcp", published: undefined });
    expect(
      topologyFrom({ ...dev, services: { api: newService } })
        .services.map((s) => s.name)
        .at(-1),
    ).toBe("api");
  });

  it("leaves out a new service it cannot build, and says why", () => {
    const config = parseStackConfig({ environment: "dev", services: JSON.stringify({ api: { role: "api" } }) });
    expect(mergeTopology(config).services.map((s) => s.name)).not.toContain("api");
    expect(unbuildableService("api", { role: "api" }, false)).toBe(
      `a service not in the reference catalog must set ${REQUIRED_NEW_SERVICE_FIELDS.filter((f) => f !== "role").join(", ")}`,
    );
    expect(unbuildableService("grafana", {}, true)).toBeUndefined();
    expect(unbuildableService("a".repeat(41), {}, true)).toBeUndefined();
    expect(unbuildableService("a".repeat(42), {}, true)).toMatch(/at most 41 characters/);
  });
});

describe("merging tiers, flows and routes", () => {
  it("adds a tier with a network named after it, described by its name when no description is given", () => {
    const t = topologyFrom({ ...dev, tiers: [{ name: "dmz" }] });
    expect(t.tiers.at(-1)).toEqual({ name: "dmz", network: "iot-dmz-network", description: "dmz", attachable: false });
  });

  it("overrides a reference tier in place, keeping what the override leaves out", () => {
    const t = topologyFrom({ ...dev, tiers: [{ name: "cache", attachable: true }] });
    const cache = referenceTiers.find((x) => x.name === "cache")!;
    expect(t.tiers.map((x) => x.name)).toEqual(referenceTiers.map((x) => x.name));
    expect(t.tiers.find((x) => x.name === "cache")).toEqual({ ...cache, attachable: true });
  });

  it("adds a stack flow once, after the reference flows, and none that repeats a reference flow", () => {
    const t = topologyFrom({
      ...dev,
      flows: ["redis -> nats:4222", " grafana->influxdb : 8086 ", "redis -> nats:4222"],
    });
    expect(t.flows).toEqual([
      ...referenceFlows,
      { from: "redis", to: "nats", port: 4222, purpose: "Declared in stack config" },
    ]);
  });

  it("adds a stack route, replacing a reference route with the same subdomain", () => {
    const t = topologyFrom({
      ...dev,
      routes: [
        { subdomain: "grafana", service: "grafana", port: 3000, admin: true },
        { subdomain: "dash", service: "grafana", port: 3000, purpose: "Second name" },
      ],
    });
    expect(t.routes.find((r) => r.subdomain === "grafana")).toEqual({
      subdomain: "grafana",
      service: "grafana",
      port: 3000,
      admin: true,
      purpose: "Route to grafana",
    });
    expect(t.routes.find((r) => r.subdomain === "dash")).toMatchObject({ admin: true, purpose: "Second name" });
    expect(t.routes).toHaveLength(referenceRoutes.length + 1);
  });

  it("fills the stack-wide settings from the config and the environment", () => {
    const t = topologyFrom({ ...dev, domain: "site.example", adminCidrs: ["10.0.5.0/24"] });
    expect(t).toMatchObject({
      domain: "site.example",
      encryptOverlays: false,
      publishMode: "ingress",
      caproverCoexistence: false,
      subnetPool: "10.231.0.0/16",
      subnetPrefixLength: 24,
      adminCidrs: ["10.0.5.0/24"],
    });
    expect(t.tls.mqttHostname).toBe("mqtt.site.example");
    expect(topologyFrom({ ...dev, tls: { mqttHostname: "broker.site.example" } }).tls.mqttHostname).toBe(
      "broker.site.example",
    );
    expect(topologyFrom({ ...dev, encryptOverlays: true }).encryptOverlays).toBe(true);
    expect(topologyFrom({ environment: "prod", encryptOverlays: false }).encryptOverlays).toBe(false);
  });
});

describe("merge details the reference stacks do not reach", () => {
  const merged = (raw: Record<string, unknown>) =>
    mergeTopology(
      parseStackConfig(
        Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
      ),
    );

  it("encrypts overlays by default in prod only", () => {
    expect(merged({ environment: "prod" }).encryptOverlays).toBe(true);
    expect(merged({ environment: "dev" }).encryptOverlays).toBe(false);
  });

  it("keeps reissue and rotation counters as strings, and no reissue when none is set", () => {
    const t = merged({ ...dev, tls: { reissue: 2 }, rotations: { redis: 3, "mqtt-client-node-red": "b" } });
    expect(t.tls.reissue).toBe("2");
    expect(t.rotations).toEqual({ redis: "3", "mqtt-client-node-red": "b" });
    expect(merged(dev).tls.reissue).toBeUndefined();
    expect(merged(dev).rotations).toEqual({});
  });

  it("gives a reference tier the network its override names", () => {
    const t = merged({ ...dev, tiers: [{ name: "cache", network: "site-cache" }] });
    expect(t.tiers.find((x) => x.name === "cache")!.network).toBe("site-cache");
  });

  it("leaves nothing in place of a service it cannot build", () => {
    const t = merged({ ...dev, services: { Bad_Name: newService, api: { role: "api" } } });
    // toEqual would pass over undefined entries left in the list; the length does not.
    expect(t.services).toHaveLength(referenceServices.length);
    expect(t.services.map((s) => s.name)).toEqual(referenceServices.map((s) => s.name));
  });

  it("accepts a one-letter service name", () => {
    expect(unbuildableService("a", {}, true)).toBeUndefined();
  });

  it("builds a new singleton without volumes, constraints or environment of its own", () => {
    const api = merged({ ...dev, services: { api: { ...newService, singleton: true } } }).services.at(-1)!;
    expect(api).toMatchObject({ name: "api", singleton: true, volumes: [], placement: [], env: {} });
  });

  it("leaves out stack flows it cannot read or build, and adds one that differs only in port", () => {
    const t = merged({
      ...dev,
      flows: ["not a flow", "ghost -> grafana:3000", "redis -> grafana:1", "grafana -> influxdb:8086"],
    });
    expect(t.flows).toEqual(referenceFlows);
    // The first reference flow too is declared once.
    const [first] = referenceFlows;
    expect(merged({ ...dev, flows: [`${first.from} -> ${first.to}:${first.port}`] }).flows).toEqual(referenceFlows);
    // Each repeats a reference flow in all but one of client, server and port (NATS listens on two ports).
    const api = { ...newService, ports: [{ name: "http", port: 8086, appProtocol: "http", purpose: "API" }] };
    const other = merged({
      ...dev,
      services: { api },
      flows: ["redis -> influxdb:8086", "grafana -> api:8086", "node-red -> nats:8222", "grafana -> influxdb:8086"],
    });
    expect(referenceFlows).toContainEqual(expect.objectContaining({ from: "node-red", to: "nats", port: 4222 }));
    expect(other.flows).toEqual([
      ...referenceFlows,
      { from: "redis", to: "influxdb", port: 8086, purpose: "Declared in stack config" },
      { from: "grafana", to: "api", port: 8086, purpose: "Declared in stack config" },
      { from: "node-red", to: "nats", port: 8222, purpose: "Declared in stack config" },
    ]);
  });

  it("gives a stack flow the permissions declared with it, and a repeated reference flow those given with the repeat", () => {
    const t = merged({
      ...dev,
      flows: [
        { flow: "node-red -> influxdb:8086", permissions: { access: "read" } },
        "grafana -> influxdb:8086",
        { flow: "redis -> influxdb:8086", permissions: { bucket: "fleet", access: "read-write" } },
        "mqtt-exporter -> influxdb:8086",
      ],
    });
    // Strict: a flow declared without permissions has no permissions key at all.
    expect(t.flows).toStrictEqual([
      ...referenceFlows.map((f) =>
        f.from === "node-red" && f.to === "influxdb" ? { ...f, permissions: { access: "read" } } : f,
      ),
      {
        from: "redis",
        to: "influxdb",
        port: 8086,
        purpose: "Declared in stack config",
        permissions: { bucket: "fleet", access: "read-write" },
      },
      { from: "mqtt-exporter", to: "influxdb", port: 8086, purpose: "Declared in stack config" },
    ]);
  });

  it("keeps the first of two stack routes on one subdomain", () => {
    const t = merged({
      ...dev,
      routes: [
        { subdomain: "dash", service: "grafana", port: 3000, purpose: "First" },
        { subdomain: "dash", service: "influxdb", port: 8086, purpose: "Second" },
      ],
    });
    expect(t.routes.filter((r) => r.subdomain === "dash")).toEqual([
      { subdomain: "dash", service: "grafana", port: 3000, admin: true, purpose: "First" },
    ]);
  });
});
