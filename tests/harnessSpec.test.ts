/**
 * The e2e harness's mapping from the docker provider's (v5) inputs to Docker Engine API bodies
 * (e2e/harness/spec.ts): pure, so it is checked here against the provider's documented defaults
 * and the Engine's field names, and on the services the program really registers.
 */
import {
  base64Data,
  desiredReplicas,
  labelsToMap,
  networkCreateBody,
  parseDuration,
  serviceSpecBody,
} from "../e2e/harness/spec";
import { evaluateProgram } from "../tools/evaluate";
import { NETWORK, ofType, SERVICE } from "./helpers";

const RUN = { "e2e.run": "r1" };

/** The smallest service the provider accepts, plus `extra` merged into its inputs. */
function service(extra: Record<string, any> = {}, containerSpec: Record<string, any> = {}): Record<string, any> {
  return { ...extra, taskSpec: { ...extra.taskSpec, containerSpec: { image: "alpine:3.20.3", ...containerSpec } } };
}
const body = (inputs: Record<string, any>) => serviceSpecBody("svc", inputs, { labels: RUN });

describe("parseDuration", () => {
  it.each([
    ["10s", 10e9],
    ["1m30s", 90e9],
    ["500ms", 500e6],
    ["1.5h", 5400e9],
    ["2us", 2000],
    ["3\u00b5s", 3000],
    ["4\u03bcs", 4000],
    [".5s", 500e6],
    ["7ns", 7],
    ["0", 0],
    [" 5m ", 300e9],
  ])("reads the Go duration %j as %d ns", (text, ns) => {
    expect(parseDuration(text)).toBe(ns);
  });

  it("passes numbers through as nanoseconds and leaves absent values absent", () => {
    expect(parseDuration(1500)).toBe(1500);
    expect(parseDuration(undefined)).toBeUndefined();
    expect(parseDuration(null)).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
  });

  it.each(["10", "s", "10x", "10s garbage", "1m-5s", "abc"])("rejects %j, naming it", (text) => {
    expect(() => parseDuration(text)).toThrow(`invalid duration ${JSON.stringify(text)}`);
  });
});

describe("labelsToMap", () => {
  it("turns the provider's label list into the Engine's map, values as strings", () => {
    expect(
      labelsToMap([
        { label: "a", value: "1" },
        { label: "b", value: 2 },
      ]),
    ).toEqual({ a: "1", b: "2" });
    expect(labelsToMap(undefined)).toEqual({});
  });
});

describe("base64Data", () => {
  it("keeps base64 data without its line breaks", () => {
    expect(base64Data("secret", "aGVs\nbG8=")).toBe("aGVsbG8=");
  });

  it("encodes dataRaw", () => {
    expect(base64Data("config", undefined, "hello")).toBe(Buffer.from("hello").toString("base64"));
  });

  it.each([["not base64!"], ["abc"], [undefined]])("rejects %j as the provider does, naming the kind", (data) => {
    expect(() => base64Data("secret", data)).toThrow("secret data must be base64 encoded");
  });
});

describe("networkCreateBody", () => {
  it("applies the provider's defaults: bridge driver, duplicate check, default IPAM, nothing internal", () => {
    expect(networkCreateBody("n", {}, RUN)).toEqual({
      Name: "n",
      CheckDuplicate: true,
      Driver: "bridge",
      Internal: false,
      Attachable: false,
      Ingress: false,
      EnableIPv6: false,
      Options: {},
      Labels: RUN,
      IPAM: { Driver: "default", Config: [] },
    });
  });

  it("maps an encrypted internal overlay with its subnet, and the harness's labels win", () => {
    const b = networkCreateBody(
      "iot-mqtt-network",
      {
        driver: "overlay",
        internal: true,
        attachable: true,
        options: { encrypted: "true" },
        labels: [
          { label: "iot.network-kind", value: "tier" },
          { label: "e2e.run", value: "program" },
        ],
        ipamConfigs: [{ subnet: "10.231.4.0/24", gateway: "10.231.4.1" }],
      },
      RUN,
    );
    expect(b).toMatchObject({ Driver: "overlay", Internal: true, Attachable: true, Options: { encrypted: "true" } });
    expect(b.Labels).toEqual({ "iot.network-kind": "tier", "e2e.run": "r1" });
    expect(b.IPAM).toEqual({ Driver: "default", Config: [{ Subnet: "10.231.4.0/24", Gateway: "10.231.4.1" }] });
  });
});

describe("serviceSpecBody", () => {
  it("refuses a service without an image", () => {
    expect(() => serviceSpecBody("svc", { taskSpec: { containerSpec: {} } }, { labels: RUN })).toThrow(
      "service svc has no taskSpec.containerSpec.image",
    );
  });

  it("runs one replica, and only what the inputs set, by default", () => {
    const b = body(service());
    expect(b.Mode).toEqual({ Replicated: { Replicas: 1 } });
    expect(b.TaskTemplate).toEqual({ ContainerSpec: { Image: "alpine:3.20.3", Labels: RUN } });
    expect(b).not.toHaveProperty("UpdateConfig");
    expect(b).not.toHaveProperty("RollbackConfig");
    expect(b).not.toHaveProperty("EndpointSpec");
    expect(b.Labels).toEqual(RUN);
  });

  it("maps the replica count and global mode", () => {
    expect(body(service({ mode: { replicated: { replicas: 3 } } })).Mode).toEqual({ Replicated: { Replicas: 3 } });
    expect(body(service({ mode: { global: true } })).Mode).toEqual({ Global: {} });
    expect(desiredReplicas({ mode: { replicated: { replicas: 3 } } })).toBe(3);
    expect(desiredReplicas({ mode: { global: true } })).toBe(1);
    expect(desiredReplicas({})).toBe(1);
  });

  it("maps the image through imageMap", () => {
    const b = serviceSpecBody("svc", service(), { labels: RUN, imageMap: (i) => `local/${i}` });
    expect(b.TaskTemplate.ContainerSpec.Image).toBe("local/alpine:3.20.3");
  });

  it("writes the environment as KEY=value in key order, whatever order the map has", () => {
    const b = body(service({}, { env: { ZONE: "a", API_URL: "http://x:1/?q=a=b", MIDDLE: "" } }));
    expect(b.TaskTemplate.ContainerSpec.Env).toEqual(["API_URL=http://x:1/?q=a=b", "MIDDLE=", "ZONE=a"]);
  });

  it("mounts secrets and configs at their targets with the given owner and mode", () => {
    const c = body(
      service(
        {},
        {
          secrets: [
            {
              secretId: "s1",
              secretName: "k",
              fileName: "/run/secrets/k",
              fileUid: "1000",
              fileGid: "1000",
              fileMode: 0o400,
            },
          ],
          configs: [
            {
              configId: "c1",
              configName: "conf",
              fileName: "/etc/app.conf",
              fileUid: "1000",
              fileGid: "0",
              fileMode: 0o444,
            },
          ],
        },
      ),
    ).TaskTemplate.ContainerSpec;
    expect(c.Secrets).toEqual([
      { File: { Name: "/run/secrets/k", UID: "1000", GID: "1000", Mode: 0o400 }, SecretID: "s1", SecretName: "k" },
    ]);
    expect(c.Configs).toEqual([
      { File: { Name: "/etc/app.conf", UID: "1000", GID: "0", Mode: 0o444 }, ConfigID: "c1", ConfigName: "conf" },
    ]);
  });

  it("gives file targets the provider's defaults: root-owned, world-readable", () => {
    const c = body(service({}, { secrets: [{ secretId: "s1", secretName: "k", fileName: "/run/secrets/k" }] }))
      .TaskTemplate.ContainerSpec;
    expect(c.Secrets[0].File).toEqual({ Name: "/run/secrets/k", UID: "0", GID: "0", Mode: 0o444 });
  });

  it("maps volume, tmpfs and bind mounts; volumes the swarm creates carry the harness's labels", () => {
    const mounts = body(
      service(
        {},
        {
          mounts: [
            {
              type: "volume",
              source: "dev_grafana-data",
              target: "/var/lib/grafana",
              volumeOptions: { labels: [{ label: "app", value: "grafana" }], driverName: "local", noCopy: true },
            },
            { type: "volume", source: "dev_plain", target: "/data" },
            { type: "tmpfs", target: "/tmp", tmpfsOptions: { sizeBytes: 64 * 1024 * 1024, mode: 0o1777 } },
            { type: "bind", source: "/srv", target: "/srv", readOnly: true, bindOptions: { propagation: "rprivate" } },
          ],
        },
      ),
    ).TaskTemplate.ContainerSpec.Mounts;
    expect(mounts).toEqual([
      {
        Type: "volume",
        Source: "dev_grafana-data",
        Target: "/var/lib/grafana",
        VolumeOptions: { NoCopy: true, Labels: { app: "grafana", ...RUN }, DriverConfig: { Name: "local" } },
      },
      { Type: "volume", Source: "dev_plain", Target: "/data", VolumeOptions: { Labels: RUN } },
      { Type: "tmpfs", Target: "/tmp", TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1777 } },
      { Type: "bind", Source: "/srv", Target: "/srv", ReadOnly: true, BindOptions: { Propagation: "rprivate" } },
    ]);
  });

  it("attaches networks by id, and by the deprecated name field (which also holds an id)", () => {
    const networks = body(
      service({
        taskSpec: {
          networksAdvanceds: [
            { id: "net-1", aliases: ["mqtt", "broker"] },
            { name: "net-2" },
            { id: "net-3", driverOpts: ["com.example.opt=a=b", "flag="] },
          ],
        },
      }),
    ).TaskTemplate.Networks;
    expect(networks).toEqual([
      { Target: "net-1", Aliases: ["mqtt", "broker"] },
      { Target: "net-2" },
      { Target: "net-3", DriverOpts: { "com.example.opt": "a=b", flag: "" } },
    ]);
  });

  it("publishes ports with the provider's defaults (tcp, ingress) unless set", () => {
    const ep = body(
      service({
        endpointSpec: {
          mode: "dnsrr",
          ports: [
            { name: "https", targetPort: 8443, publishedPort: 443 },
            { name: "mqtts", targetPort: 8883, publishedPort: 18883, protocol: "tcp", publishMode: "host" },
          ],
        },
      }),
    ).EndpointSpec;
    expect(ep).toEqual({
      Mode: "dnsrr",
      Ports: [
        { Name: "https", Protocol: "tcp", TargetPort: 8443, PublishedPort: 443, PublishMode: "ingress" },
        { Name: "mqtts", Protocol: "tcp", TargetPort: 8883, PublishedPort: 18883, PublishMode: "host" },
      ],
    });
    expect(body(service({ endpointSpec: {} })).EndpointSpec).toEqual({});
  });

  it("maps update and rollback config: durations in nanoseconds, the failure ratio as a number", () => {
    const update = {
      parallelism: 1,
      delay: "10s",
      failureAction: "rollback",
      monitor: "30s",
      maxFailureRatio: "0.25",
      order: "start-first",
    };
    const b = body(service({ updateConfig: update, rollbackConfig: { ...update, delay: "5s", order: "stop-first" } }));
    expect(b.UpdateConfig).toEqual({
      Parallelism: 1,
      Delay: 10e9,
      FailureAction: "rollback",
      Monitor: 30e9,
      MaxFailureRatio: 0.25,
      Order: "start-first",
    });
    expect(b.RollbackConfig).toMatchObject({ Delay: 5e9, Order: "stop-first", MaxFailureRatio: 0.25 });
  });

  it("maps placement: constraints, spread preferences, max replicas and platforms", () => {
    const placement = body(
      service({
        taskSpec: {
          placement: {
            constraints: ["node.role==manager"],
            prefs: ["spread=node.labels.zone", "node.labels.rack"],
            maxReplicas: 2,
            platforms: [{ architecture: "amd64", os: "linux" }],
          },
        },
      }),
    ).TaskTemplate.Placement;
    expect(placement).toEqual({
      Constraints: ["node.role==manager"],
      Preferences: [
        { Spread: { SpreadDescriptor: "node.labels.zone" } },
        { Spread: { SpreadDescriptor: "node.labels.rack" } },
      ],
      MaxReplicas: 2,
      Platforms: [{ Architecture: "amd64", OS: "linux" }],
    });
  });

  it("maps the health check, restart policy and stop grace period durations", () => {
    const b = body(
      service(
        { taskSpec: { restartPolicy: { condition: "on-failure", delay: "5s", maxAttempts: 5, window: "2m" } } },
        {
          healthcheck: { tests: ["CMD", "true"], interval: "10s", timeout: "5s", retries: 3, startPeriod: "20s" },
          stopGracePeriod: "20s",
        },
      ),
    );
    expect(b.TaskTemplate.ContainerSpec.Healthcheck).toEqual({
      Test: ["CMD", "true"],
      Interval: 10e9,
      Timeout: 5e9,
      Retries: 3,
      StartPeriod: 20e9,
    });
    expect(b.TaskTemplate.ContainerSpec.StopGracePeriod).toBe(20e9);
    expect(b.TaskTemplate.RestartPolicy).toEqual({
      Condition: "on-failure",
      Delay: 5e9,
      MaxAttempts: 5,
      Window: 120e9,
    });
  });

  it("maps resources, with generic resources as KIND=VALUE", () => {
    const resources = body(
      service({
        taskSpec: {
          resources: {
            limits: { nanoCpus: 5e8, memoryBytes: 256 * 1024 * 1024 },
            reservation: {
              nanoCpus: 1e8,
              memoryBytes: 64 * 1024 * 1024,
              genericResources: { discreteResourcesSpecs: ["gpu=2"], namedResourcesSpecs: ["ssd=fast=1"] },
            },
          },
        },
      }),
    ).TaskTemplate.Resources;
    expect(resources).toEqual({
      Limits: { NanoCPUs: 5e8, MemoryBytes: 256 * 1024 * 1024 },
      Reservations: {
        NanoCPUs: 1e8,
        MemoryBytes: 64 * 1024 * 1024,
        GenericResources: [
          { DiscreteResourceSpec: { Kind: "gpu", Value: 2 } },
          { NamedResourceSpec: { Kind: "ssd", Value: "fast=1" } },
        ],
      },
    });
    expect(() =>
      body(
        service({
          taskSpec: { resources: { reservation: { genericResources: { discreteResourcesSpecs: ["gpu"] } } } },
        }),
      ),
    ).toThrow("generic resource gpu is not KIND=VALUE");
  });

  it("maps the container's user, capabilities, read-only root, hosts and DNS", () => {
    const c = body(
      service(
        {},
        {
          user: "1000:1000",
          readOnly: true,
          capDrops: ["ALL"],
          capAdds: ["NET_BIND_SERVICE"],
          commands: ["nats-server"],
          args: ["-c", "/etc/nats/nats.conf"],
          hosts: [{ host: "db.local", ip: "10.0.0.5" }],
          dnsConfig: { nameservers: ["10.0.0.2"], searches: ["local"], options: ["ndots:2"] },
          labels: [{ label: "c", value: "1" }],
        },
      ),
    ).TaskTemplate.ContainerSpec;
    expect(c).toMatchObject({
      User: "1000:1000",
      ReadOnly: true,
      CapabilityDrop: ["ALL"],
      CapabilityAdd: ["NET_BIND_SERVICE"],
      Command: ["nats-server"],
      Args: ["-c", "/etc/nats/nats.conf"],
      Hosts: ["10.0.0.5 db.local"],
      DNSConfig: { Nameservers: ["10.0.0.2"], Search: ["local"], Options: ["ndots:2"] },
      Labels: { c: "1", ...RUN },
    });
  });
});

describe("the program's own services through the mapping", () => {
  it("attach to the program's networks, mount every file and publish only what the program publishes", async () => {
    const e = await evaluateProgram({ stack: "prod" });
    const networkIds = new Set(ofType(e.resources, NETWORK).map((n) => n.id));
    for (const s of ofType(e.resources, SERVICE)) {
      const b = serviceSpecBody(s.inputs.name, s.inputs, { labels: RUN });
      const c = s.inputs.taskSpec.containerSpec;
      expect(b.Name).toBe(s.inputs.name);
      expect(b.TaskTemplate.Networks.map((n: { Target: string }) => n.Target)).toEqual(
        s.inputs.taskSpec.networksAdvanceds.map((n: { id: string }) => n.id),
      );
      for (const n of b.TaskTemplate.Networks) expect(networkIds.has(n.Target)).toBe(true);
      expect((b.TaskTemplate.ContainerSpec.Secrets ?? []).map((x: any) => x.File.Name)).toEqual(
        (c.secrets ?? []).map((x: any) => x.fileName),
      );
      expect((b.TaskTemplate.ContainerSpec.Configs ?? []).map((x: any) => x.File.Name)).toEqual(
        (c.configs ?? []).map((x: any) => x.fileName),
      );
      expect(b.TaskTemplate.ContainerSpec.Env).toHaveLength(Object.keys(c.env).length);
      expect((b.EndpointSpec.Ports ?? []).map((p: any) => p.PublishedPort)).toEqual(
        (s.inputs.endpointSpec.ports ?? []).map((p: any) => p.publishedPort),
      );
      expect(b.UpdateConfig.Order).toBe(s.inputs.updateConfig.order);
    }
  });
});
