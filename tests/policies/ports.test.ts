import {
  disallowHostPortConflicts,
  disallowPlaintextMqtt,
  disallowPrivilegedHostPorts,
  disallowSensitivePortPublishing,
  enforcePublishMode,
  requireHostInterfaceBinding,
  restrictPortPublishers,
} from "../../policies/ports";
import { changeIn, container, edit, happyStack, MOSQUITTO_CONF, service, serviceConfig } from "./fixtures";
import { assertHasViolation, assertNoViolations, runResourcePolicy, runStackPolicy } from "./helpers";

const gateway = () =>
  service("gateway", {
    ports: [
      { targetPort: 8443, publishedPort: 443 },
      { targetPort: 8080, publishedPort: 80 },
    ],
  });
const broker = () => service("mosquitto", { role: "broker", ports: [{ targetPort: 8883, publishedPort: 8883 }] });

describe("restrict-port-publishers", () => {
  it("passes for the gateway and the broker", async () => {
    assertNoViolations(await runResourcePolicy(restrictPortPublishers, gateway()));
    assertNoViolations(await runResourcePolicy(restrictPortPublishers, broker()));
  });

  it("passes for a service that publishes nothing", async () => {
    assertNoViolations(await runResourcePolicy(restrictPortPublishers, service("grafana")));
  });

  it("fails when another service publishes a port", async () => {
    const r = service("node-red", { role: "flows", ports: [{ targetPort: 8081, publishedPort: 8081 }] });
    assertHasViolation(
      await runResourcePolicy(restrictPortPublishers, r),
      'service "node-red" publishes 8081->8081/tcp but is not an allowlisted publisher',
    );
  });

  it("fails when a port is listed without a host port (Swarm publishes it on a random one)", async () => {
    const r = service("node-red", { role: "flows", ports: [{ targetPort: 8081 }] });
    assertHasViolation(await runResourcePolicy(restrictPortPublishers, r), "(random)->8081/tcp");
  });

  it("fails for a container publishing a port", async () => {
    const r = edit(
      container("legacy", "backend"),
      (p) => (p.ports = [{ internal: 8080, external: 8080, ip: "127.0.0.1" }]),
    );
    assertHasViolation(
      await runResourcePolicy(restrictPortPublishers, r),
      'container "legacy" publishes 8080->8080/tcp',
    );
  });

  it("passes for a service added to allowedPublishers", async () => {
    const r = service("node-red", { role: "flows", ports: [{ targetPort: 8081, publishedPort: 8081 }] });
    assertNoViolations(
      await runResourcePolicy(restrictPortPublishers, r, { allowedPublishers: ["gateway", "node-red"] }),
    );
  });
});

describe("disallow-plaintext-mqtt", () => {
  it("passes for the TLS listener", async () => {
    assertNoViolations(await runResourcePolicy(disallowPlaintextMqtt, broker()));
  });

  it("fails when 1883 is published", async () => {
    const r = service("mosquitto", {
      role: "broker",
      ports: [
        { targetPort: 8883, publishedPort: 8883 },
        { targetPort: 1883, publishedPort: 1883 },
      ],
    });
    assertHasViolation(
      await runResourcePolicy(disallowPlaintextMqtt, r),
      'service "mosquitto" publishes plaintext MQTT (1883->1883/tcp)',
    );
  });

  it("fails when the plaintext listener hides behind another host port", async () => {
    const r = service("mosquitto", { role: "broker", ports: [{ targetPort: 1883, publishedPort: 11883 }] });
    assertHasViolation(await runResourcePolicy(disallowPlaintextMqtt, r), "11883->1883/tcp");
  });

  it("fails when MQTT over websockets (9001) is published", async () => {
    const r = service("mosquitto", { role: "broker", ports: [{ targetPort: 9001, publishedPort: 9001 }] });
    assertHasViolation(
      await runResourcePolicy(disallowPlaintextMqtt, r),
      'service "mosquitto" publishes plaintext MQTT (9001->9001/tcp)',
    );
  });
});

describe("disallow-plaintext-mqtt on the broker's config", () => {
  const conf = (change: (text: string) => string = (t) => t) => serviceConfig("mosquitto-conf", change(MOSQUITTO_CONF));

  it("passes for TLS on 8883 and plaintext 1883 on the container's loopback only", async () => {
    assertNoViolations(await runResourcePolicy(disallowPlaintextMqtt, conf()));
  });

  it("fails when the health-check listener is no longer bound to loopback", async () => {
    const r = conf((t) => t.replace("listener 1883 127.0.0.1", "listener 1883"));
    assertHasViolation(
      await runResourcePolicy(disallowPlaintextMqtt, r),
      'service config "mosquitto-conf" opens MQTT listener 1883 on all interfaces (line 5) without TLS',
    );
  });

  it("fails for an extra listener without certfile and keyfile", async () => {
    const r = conf((t) => `${t}listener 1884 0.0.0.0\n`);
    assertHasViolation(
      await runResourcePolicy(disallowPlaintextMqtt, r),
      "opens MQTT listener 1884 on 0.0.0.0 (line 15)",
    );
  });

  it("fails for a websockets listener without TLS", async () => {
    const r = conf((t) => `${t}listener 9001\nprotocol websockets\n`);
    assertHasViolation(await runResourcePolicy(disallowPlaintextMqtt, r), "opens MQTT websockets listener 9001");
  });

  it("fails for the default listener opened with port", async () => {
    const r = serviceConfig("legacy-conf", "port 1883\nallow_anonymous true\npersistence true\n");
    assertHasViolation(
      await runResourcePolicy(disallowPlaintextMqtt, r),
      "opens MQTT listener 1883 on all interfaces (line 1)",
    );
  });

  it("fails for a listener with a certificate but no key (TLS needs both)", async () => {
    const r = conf((t) => t.replace("keyfile /run/secrets/mosquitto-server.key\n", ""));
    assertHasViolation(await runResourcePolicy(disallowPlaintextMqtt, r), "opens MQTT listener 8883 on all interfaces");
  });

  it("passes for a Unix socket and for a Redis config that also sets port", async () => {
    assertNoViolations(
      await runResourcePolicy(
        disallowPlaintextMqtt,
        conf((t) => `${t}listener 0 /run/mosquitto.sock\n`),
      ),
    );
    assertNoViolations(
      await runResourcePolicy(
        disallowPlaintextMqtt,
        serviceConfig("redis-conf", "bind 0.0.0.0\nport 6379\ndir /data\n"),
      ),
    );
  });
});

describe("disallow-sensitive-port-publishing", () => {
  it("passes for the gateway's HTTPS and HTTP ports", async () => {
    assertNoViolations(await runResourcePolicy(disallowSensitivePortPublishing, gateway()));
  });

  it("fails when Redis 6379 is published", async () => {
    const r = service("redis", { ports: [{ targetPort: 6379, publishedPort: 6379 }] });
    assertHasViolation(
      await runResourcePolicy(disallowSensitivePortPublishing, r),
      "a Redis port that must stay inside the swarm",
    );
  });

  it("fails when Grafana's 3000 is published on another host port", async () => {
    const r = service("grafana", { ports: [{ targetPort: 3000, publishedPort: 8443 }] });
    assertHasViolation(await runResourcePolicy(disallowSensitivePortPublishing, r), "8443->3000/tcp, a Grafana port");
  });

  it("fails when the gateway publishes its metrics port", async () => {
    const r = service("gateway", { ports: [{ targetPort: 8405, publishedPort: 8405 }] });
    assertHasViolation(await runResourcePolicy(disallowSensitivePortPublishing, r), "HAProxy metrics");
  });
});

describe("disallow-host-port-conflicts", () => {
  it("passes when every host port is published once", async () => {
    assertNoViolations(await runStackPolicy(disallowHostPortConflicts, happyStack()));
  });

  it("fails when two services publish the same host port, naming both", async () => {
    const stack = changeIn(happyStack(), "svc-broker", (r) =>
      edit(r, (p) => (p.endpointSpec.ports[0].publishedPort = 443)),
    );
    const violations = await runStackPolicy(disallowHostPortConflicts, stack);
    assertHasViolation(
      violations,
      'host port 443/tcp is published by both service "gateway" (443->8443/tcp) and service "broker" (443->8883/tcp)',
    );
  });

  it("fails when a container takes a port a service publishes", async () => {
    const stack = [
      ...happyStack(),
      edit(container("legacy", "backend"), (p) => (p.ports = [{ internal: 1883, external: 8883, ip: "127.0.0.1" }])),
    ];
    assertHasViolation(
      await runStackPolicy(disallowHostPortConflicts, stack),
      "host port 8883/tcp is published by both",
    );
  });

  it("passes when the same number is published over tcp and udp", async () => {
    const stack = [
      ...happyStack(),
      service("dns", { ports: [{ targetPort: 8883, publishedPort: 8883, protocol: "udp" }] }),
    ];
    assertNoViolations(await runStackPolicy(disallowHostPortConflicts, stack));
  });
});

describe("disallow-privileged-host-ports", () => {
  it("passes for 80 and 443 on the gateway", async () => {
    assertNoViolations(await runResourcePolicy(disallowPrivilegedHostPorts, gateway()));
  });

  it("fails when another service publishes below 1024", async () => {
    const r = service("mosquitto", { role: "broker", ports: [{ targetPort: 8883, publishedPort: 883 }] });
    assertHasViolation(
      await runResourcePolicy(disallowPrivilegedHostPorts, r),
      'service "mosquitto" publishes privileged host port 883',
    );
  });

  it("fails when the gateway publishes a privileged port other than 80 and 443", async () => {
    const r = service("gateway", { ports: [{ targetPort: 8022, publishedPort: 22 }] });
    assertHasViolation(await runResourcePolicy(disallowPrivilegedHostPorts, r), "privileged host port 22");
  });

  it("fails for a container mapping a privileged port (KICS bc2908f3)", async () => {
    const r = edit(
      container("web", "frontend"),
      (p) => (p.ports = [{ internal: 8080, external: 80, ip: "127.0.0.1" }]),
    );
    assertHasViolation(
      await runResourcePolicy(disallowPrivilegedHostPorts, r),
      'container "web" publishes privileged host port 80',
    );
  });
});

describe("enforce-publish-mode", () => {
  it("passes for ports in the configured ingress mode", async () => {
    assertNoViolations(await runResourcePolicy(enforcePublishMode, gateway()));
  });

  it("fails when a port is published in host mode", async () => {
    const r = service("gateway", { ports: [{ targetPort: 8443, publishedPort: 443, publishMode: "host" }] });
    assertHasViolation(
      await runResourcePolicy(enforcePublishMode, r),
      'publishes 443->8443/tcp in "host" mode; this stack publishes in "ingress" mode',
    );
  });

  it("passes for host mode when the stack is configured for it", async () => {
    const r = service("gateway", { ports: [{ targetPort: 8443, publishedPort: 443, publishMode: "host" }] });
    assertNoViolations(await runResourcePolicy(enforcePublishMode, r, { publishMode: "host" }));
  });

  it("fails when the publish mode is unset and the stack publishes in host mode (Swarm defaults to ingress)", async () => {
    const r = edit(gateway(), (p) =>
      p.endpointSpec.ports.forEach((port: Record<string, unknown>) => delete port.publishMode),
    );
    assertHasViolation(await runResourcePolicy(enforcePublishMode, r, { publishMode: "host" }), '"ingress" mode');
  });
});

describe("require-host-interface-binding", () => {
  it("passes for a container port bound to one interface", async () => {
    const r = edit(
      container("web", "frontend"),
      (p) => (p.ports = [{ internal: 8080, external: 8080, ip: "127.0.0.1" }]),
    );
    assertNoViolations(await runResourcePolicy(requireHostInterfaceBinding, r));
  });

  it("fails when a container port binds every interface (ip unset)", async () => {
    const r = edit(container("web", "frontend"), (p) => (p.ports = [{ internal: 8080, external: 8080 }]));
    assertHasViolation(await runResourcePolicy(requireHostInterfaceBinding, r), "on every host interface (0.0.0.0)");
  });

  it("does not apply to Swarm services", async () => {
    assertNoViolations(await runResourcePolicy(requireHostInterfaceBinding, gateway()));
  });
});
