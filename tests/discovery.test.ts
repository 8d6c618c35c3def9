/** Discovery tables and endpoints: what each service is called, where it answers, and how to reach it from outside. */
import { discoveryTable, endpoints, publishedPorts } from "../model/discovery";
import { planNetworks } from "../model/networks";
import { topologyFrom } from "./helpers";

const prod = topologyFrom({ environment: "prod", domain: "energy.example.com" });

describe("discoveryTable", () => {
  it("gives each service its names, tasks name, endpoint mode, replicas, ports, networks and health URL", () => {
    const plan = planNetworks(prod);
    const table = discoveryTable(prod, plan);
    expect(table.map((d) => d.service)).toEqual(prod.services.map((s) => s.name));
    expect(table.find((d) => d.service === "gateway")).toEqual({
      service: "gateway",
      dnsNames: ["gateway", "gateway-internal"],
      tasksName: "tasks.gateway",
      endpointMode: "vip",
      replicas: 2,
      ports: ["8443/tcp (https)", "8080/tcp (http)", "8405/tcp (metrics)"],
      networks: plan.attachments.gateway,
      healthUrl: "http://gateway:8405/healthz",
    });
    expect(table.find((d) => d.service === "mosquitto")!.healthUrl).toBeUndefined();
  });
});

describe("publishedPorts", () => {
  it("lists published ports by host port, with container port, mode and purpose", () => {
    expect(publishedPorts(topologyFrom({ environment: "dev", publishMode: "host" }))).toEqual([
      expect.objectContaining({
        service: "gateway",
        portName: "http",
        hostPort: 80,
        containerPort: 8080,
        mode: "host",
      }),
      expect.objectContaining({
        service: "gateway",
        portName: "https",
        hostPort: 443,
        containerPort: 8443,
        protocol: "tcp",
      }),
      {
        service: "mosquitto",
        portName: "mqtts",
        hostPort: 8883,
        containerPort: 8883,
        protocol: "tcp",
        mode: "host",
        purpose: "MQTT over TLS with client certificates",
      },
    ]);
  });
});

describe("endpoints", () => {
  const e = endpoints(prod);

  it("gives HTTP health URLs where a service has one, and the health command where it has not", () => {
    expect(e.grafana.health).toBe("http://grafana:3000/api/health");
    expect(e.mosquitto.health).toBe("exec: mosquitto_sub -h 127.0.0.1 -p 1883 -t $SYS/broker/uptime -C 1 -W 3");
    expect(e.redis.health).toMatch(/^exec: redis-cli/);
    // The health port is the one the check names, not the service's first port.
    expect(e.gateway.health).toBe("http://gateway:8405/healthz");
    expect(e.nats.health).toBe("http://nats:8222/healthz");
  });

  it("gives in-swarm addresses with each port's scheme", () => {
    expect(e.gateway.internal).toEqual(["https://gateway:8443", "http://gateway:8080", "http://gateway:8405"]);
    expect(e.redis.internal).toEqual(["redis://redis:6379"]);
    expect(e.nats.internal).toEqual(["nats://nats:4222", "http://nats:8222"]);
    expect(e.mosquitto.internal).toEqual(["mqtts://mosquitto:8883"]);
  });

  it("gives routed services their gateway URL and published services their own, never plain HTTP", () => {
    expect(e.grafana.external).toEqual(["https://grafana.energy.example.com/"]);
    expect(e.gateway.external).toEqual(["https://energy.example.com/"]);
    expect(e.mosquitto.external).toEqual(["mqtts://mqtt.energy.example.com:8883"]);
    expect(e.redis.external).toEqual([]);
  });

  it("names the host port when HTTPS is published elsewhere than 443", () => {
    const beside = endpoints(
      topologyFrom({
        environment: "dev",
        caproverCoexistence: true,
        services: { gateway: { publish: { https: 8443, http: 8080 } } },
      }),
    );
    expect(beside.gateway.external).toEqual(["https://localhost:8443"]);
  });

  it("keeps a non-HTTPS scheme on host port 443", () => {
    const moved = endpoints(
      topologyFrom({
        environment: "dev",

        services: { gateway: { publish: { https: 8443, http: 8080 } }, mosquitto: { publish: { mqtts: 443 } } },
      }),
    );
    expect(moved.mosquitto.external).toEqual(["mqtts://mqtt.localhost:443"]);
  });
});
