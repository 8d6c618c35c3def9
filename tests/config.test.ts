import { SECRET_CONFIG_KEYS, StackConfigError } from "../model/config";
import { planNetworks } from "../model/networks";
import { apiServiceConfig, configError, topologyFrom } from "./helpers";

const dev = { environment: "dev" };
/** A new service in the backend tier, under any name. */
const newService = (name: string) => ({
  [name]: {
    image: "ghcr.io/acme/meter-reader:2.0.1",
    tiers: ["backend"],
    role: "reader",
    ports: [{ name: "http", port: 8000, appProtocol: "http", purpose: "status" }],
    health: { test: ["CMD", "true"] },
  },
});
const name41 = "meter-reader-for-the-north-hall-and-yard1";

describe("stack config validation", () => {
  it("accepts the reference topology with only an environment", () => {
    expect(configError(dev)).toBe("");
  });

  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ["a missing environment", {}, "iot-swarm-net:environment", /dev.*prod/],
    ["an unknown environment", { environment: "staging" }, "iot-swarm-net:environment", /staging/],
    [
      "an unknown top-level key",
      { ...dev, subnetpool: "10.1.0.0/16" },
      "iot-swarm-net:subnetpool",
      /unknown config key/,
    ],
    [
      "a state node for a service that keeps no state",
      { ...dev, services: { nats: { stateNode: "store-1" } } },
      "iot-swarm-net:services.nats.stateNode",
      /"nats" keeps no state in a volume, so there is nothing to pin to node "store-1"/,
    ],
    [
      "a state node that is no hostname",
      { ...dev, services: { redis: { stateNode: "store 1" } } },
      "iot-swarm-net:services.redis.stateNode",
      /./,
    ],
    [
      "a misspelt service field",
      { ...dev, services: { grafana: { replica: 2 } } },
      "iot-swarm-net:services.grafana.replica",
      /unknown config key/,
    ],
    [
      "an unknown service in a flow",
      { ...dev, flows: ["node-red -> postgres:5432"] },
      "iot-swarm-net:flows[0]",
      /unknown service "postgres"/,
    ],
    [
      "a flow to a port the server does not listen on",
      { ...dev, flows: ["grafana -> redis:80"] },
      "iot-swarm-net:flows[0]",
      /does not listen on 80/,
    ],
    ["a malformed flow", { ...dev, flows: ["grafana to redis"] }, "iot-swarm-net:flows[0]", /client -> server:port/],
    [
      "an unknown tier",
      { ...dev, services: { grafana: { tiers: ["dmz"] } } },
      "iot-swarm-net:services.grafana.tiers[0]",
      /unknown tier "dmz"/,
    ],
    [
      "a port above 65535",
      { ...dev, services: { gateway: { publish: { https: 70000 } } } },
      "iot-swarm-net:services.gateway.publish.https",
      /between 1 and 65535.*70000/,
    ],
    [
      "a port of 0",
      { ...dev, services: { mosquitto: { publish: { mqtts: 0 } } } },
      "iot-swarm-net:services.mosquitto.publish.mqtts",
      /between 1 and 65535/,
    ],
    [
      "two services publishing one host port",
      { ...dev, services: { mosquitto: { publish: { mqtts: 443 } } } },
      "iot-swarm-net:services.mosquitto.publish.mqtts",
      /both "gateway" \(https\) and "mosquitto" \(mqtts\).*publish "mosquitto" on \d+ instead/,
    ],
    [
      "a Swarm management port",
      { ...dev, services: { mosquitto: { publish: { mqtts: 2377 } } } },
      "iot-swarm-net:services.mosquitto.publish.mqtts",
      /reserved for Swarm cluster management; use \d+ instead/,
    ],
    [
      "the VXLAN port",
      { ...dev, services: { mosquitto: { publish: { mqtts: 4789 } } } },
      "iot-swarm-net:services.mosquitto.publish.mqtts",
      /Swarm overlay VXLAN/,
    ],
    [
      "gossip port 7946",
      { ...dev, services: { gateway: { publish: { http: 7946 } } } },
      "iot-swarm-net:services.gateway.publish.http",
      /Swarm node gossip/,
    ],
    [
      "port 443 beside CapRover",
      { ...dev, caproverCoexistence: true },
      "iot-swarm-net:services.gateway.publish.https",
      /CapRover HTTPS/,
    ],
    [
      "a publish key naming no port",
      { ...dev, services: { gateway: { publish: { admin: 9000 } } } },
      "iot-swarm-net:services.gateway.publish.admin",
      /no port named "admin"/,
    ],
    [
      "a duplicate alias",
      { ...dev, services: { nats: { aliases: ["mqtt"] } } },
      "iot-swarm-net:services.nats.aliases[1]",
      /duplicate alias "mqtt": already an alias of "mosquitto"/,
    ],
    [
      "an alias equal to a service name",
      { ...dev, services: { redis: { aliases: ["grafana"] } } },
      "iot-swarm-net:services.redis.aliases[1]",
      /already the name of service "grafana"/,
    ],
    [
      "an image without a tag",
      { ...dev, services: { grafana: { image: "grafana/grafana" } } },
      "iot-swarm-net:services.grafana.image",
      /pinned by tag or digest/,
    ],
    [
      "the latest tag",
      { ...dev, services: { grafana: { image: "grafana/grafana:latest" } } },
      "iot-swarm-net:services.grafana.image",
      /"latest"/,
    ],
    [
      "an image repository with capitals",
      { ...dev, services: { grafana: { image: "Grafana/grafana:1" } } },
      "iot-swarm-net:services.grafana.image",
      /repository "Grafana\/grafana" must be lower-case, but "Grafana\/grafana:1" was provided/,
    ],
    [
      "an image from a registry with a port but no tag",
      { ...dev, services: { grafana: { image: "registry.local:5000/team/app" } } },
      "iot-swarm-net:services.grafana.image",
      /pinned by tag or digest/,
    ],
    [
      "an image with a malformed digest",
      { ...dev, services: { grafana: { image: "grafana/grafana@sha256:abc" } } },
      "iot-swarm-net:services.grafana.image",
      /digest must be sha256:<64 hex digits>/,
    ],
    [
      "an image path with a doubled separator",
      { ...dev, services: { grafana: { image: "grafana//grafana:1" } } },
      "iot-swarm-net:services.grafana.image",
      /repository part "" must be lower-case letters and digits/,
    ],
    [
      "a placement constraint without an operator",
      { ...dev, services: { grafana: { placement: ["node.role=manager"] } } },
      "iot-swarm-net:services.grafana.placement[0]",
      /must read "<attribute> == <value>"/,
    ],
    [
      "a placement constraint on an attribute Swarm does not know",
      { ...dev, services: { grafana: { placement: ["node.role == worker", "node.label.zone == a"] } } },
      "iot-swarm-net:services.grafana.placement[1]",
      /unknown attribute "node.label.zone"/,
    ],
    [
      "a placement constraint on an unknown node role",
      { ...dev, services: { grafana: { placement: ["node.role == master"] } } },
      "iot-swarm-net:services.grafana.placement[0]",
      /"manager" or "worker", but "master"/,
    ],
    [
      "a placement constraint with an empty label key",
      { ...dev, services: { grafana: { placement: ["engine.labels. == ssd"] } } },
      "iot-swarm-net:services.grafana.placement[0]",
      /unknown attribute "engine.labels."/,
    ],
    [
      "zero replicas",
      { ...dev, services: { gateway: { replicas: 0 } } },
      "iot-swarm-net:services.gateway.replicas",
      /at least 1, but 0/,
    ],
    [
      "two replicas of a singleton",
      { ...dev, services: { influxdb: { replicas: 2 } } },
      "iot-swarm-net:services.influxdb.replicas",
      /singleton/,
    ],
    [
      "a subnet pool overlapping the ingress network",
      { ...dev, subnetPool: "10.0.0.0/16" },
      "iot-swarm-net:subnetPool",
      /overlaps 10.0.0.0\/24, used by the Swarm ingress network/,
    ],
    [
      "a subnet pool overlapping the site LAN",
      { ...dev, subnetPool: "192.168.0.0/16", lanSubnets: ["192.168.10.0/24"] },
      "iot-swarm-net:subnetPool",
      /site LAN subnet 192.168.10.0\/24/,
    ],
    [
      "a pool CIDR with host bits",
      { ...dev, subnetPool: "10.231.5.0/16" },
      "iot-swarm-net:subnetPool",
      /host bits set/,
    ],
    [
      "a malformed admin CIDR",
      { ...dev, adminCidrs: ["10.0.0.300/24"] },
      "iot-swarm-net:adminCidrs[0]",
      /not an IPv4 CIDR/,
    ],
    [
      "plaintext MQTT published",
      {
        ...dev,
        services: {
          mosquitto: { ports: [{ name: "mqtt", port: 1883, appProtocol: "mqtt", purpose: "plain", published: 1883 }] },
        },
      },
      "iot-swarm-net:services.mosquitto.ports[0].published",
      /plaintext MQTT must never be published/,
    ],
    [
      "a leaf validity beyond 397 days",
      { ...dev, tls: { validityDays: 825 } },
      "iot-swarm-net:tls.validityDays",
      /at most 397 days, but 825/,
    ],
    [
      "early renewal longer than validity",
      { ...dev, tls: { validityDays: 30, earlyRenewalDays: 30 } },
      "iot-swarm-net:tls.earlyRenewalDays",
      /less than validityDays/,
    ],
    [
      "an ACL user without a client certificate",
      { ...dev, mqtt: { acl: [{ user: "meter-7", access: "write", topic: "devices/meter-7/#" }] } },
      "iot-swarm-net:mqtt.acl[0].user",
      /"meter-7" has no client certificate/,
    ],
    [
      "a topic filter with # before the last level",
      { ...dev, mqtt: { acl: [{ user: "node-red", access: "read", topic: "devices/#/state" }] } },
      "iot-swarm-net:mqtt.acl[0].topic",
      /"#" must be the last level and alone in it/,
    ],
    [
      "a topic filter with # sharing its level",
      { ...dev, mqtt: { acl: [{ user: "node-red", access: "read", topic: "devices/meter#" }] } },
      "iot-swarm-net:mqtt.acl[0].topic",
      /"#" must be the last level/,
    ],
    [
      "a topic filter with + sharing its level",
      { ...dev, mqtt: { acl: [{ user: "node-red", access: "read", topic: "devices/meter+/state" }] } },
      "iot-swarm-net:mqtt.acl[0].topic",
      /"\+" must be alone in its level/,
    ],
    [
      "an empty topic filter",
      { ...dev, mqtt: { acl: [{ user: "node-red", access: "read", topic: "" }] } },
      "iot-swarm-net:mqtt.acl[0].topic",
      /must not be empty/,
    ],
    [
      "a topic filter with NUL",
      { ...dev, mqtt: { acl: [{ user: "node-red", access: "read", topic: "devices/\u0000/x" }] } },
      "iot-swarm-net:mqtt.acl[0].topic",
      /NUL/,
    ],
    [
      "a topic filter with a line break",
      { ...dev, mqtt: { acl: [{ user: "node-red", access: "read", topic: "devices/#\ntopic readwrite #" }] } },
      "iot-swarm-net:mqtt.acl[0].topic",
      /line break/,
    ],
    [
      "a secret in plain env",
      { ...dev, services: { grafana: { env: { GF_DATABASE_PASSWORD: "hunter2" } } } },
      "iot-swarm-net:services.grafana.env.GF_DATABASE_PASSWORD",
      /Docker secret.*_FILE/,
    ],
    [
      "a new service missing required fields",
      { ...dev, services: { api: { image: "ghcr.io/acme/api:1.2.0" } } },
      "iot-swarm-net:services.api",
      /must set tiers, role, ports, health/,
    ],
    [
      "a route without a gateway flow",
      { ...dev, routes: [{ subdomain: "cache", service: "redis", port: 6379 }] },
      "iot-swarm-net:routes[0]",
      /no declared flow to redis:6379/,
    ],
    [
      "two routes on one subdomain",
      {
        ...dev,
        routes: [
          { subdomain: "dash", service: "grafana", port: 3000 },
          { subdomain: "dash", service: "prometheus", port: 9090 },
        ],
        flows: ["gateway -> prometheus:9090"],
      },
      "iot-swarm-net:routes[1].subdomain",
      /duplicate subdomain "dash": routes\[0\] already serves it/,
    ],
    [
      "a route taking a reference route's subdomain for another service",
      {
        ...dev,
        routes: [{ subdomain: "grafana", service: "prometheus", port: 9090 }],
        flows: ["gateway -> prometheus:9090"],
      },
      "iot-swarm-net:routes[0].subdomain",
      /"grafana" is the reference route to grafana; a route may serve it only to grafana, not to prometheus/,
    ],
    [
      "a route to a port that does not speak HTTP",
      { ...dev, routes: [{ subdomain: "cache", service: "redis", port: 6379 }], flows: [] },
      "iot-swarm-net:routes[0].port",
      /forwards plain HTTP, but redis:6379 is a redis port; HTTP ports of redis: none/,
    ],
    [
      "a route to the Node-RED editor open beyond the admin allowlist",
      { ...dev, routes: [{ subdomain: "flows", service: "node-red", port: 1880, admin: false }] },
      "iot-swarm-net:routes[0].admin",
      /node-red UI, which administers the stack; keep the route admin-only, or set publicAdminUi: true/,
    ],
    [
      "the InfluxDB UI route made public without saying so",
      { ...dev, routes: [{ subdomain: "influxdb", service: "influxdb", port: 8086, admin: false }] },
      "iot-swarm-net:routes[0].admin",
      /influxdb UI, which administers the stack/,
    ],
    [
      "a duplicate tier",
      { ...dev, tiers: [{ name: "dmz" }, { name: "dmz" }] },
      "iot-swarm-net:tiers[1].name",
      /duplicate tier "dmz": tiers\[0\] already defines it/,
    ],
    [
      "a duplicate MQTT client",
      { ...dev, tls: { mqttClients: ["node-red", "mqtt-exporter", "node-red"] } },
      "iot-swarm-net:tls.mqttClients[2]",
      /duplicate MQTT client "node-red": mqttClients\[0\] already names it/,
    ],
    [
      "a duplicate ACL entry",
      {
        ...dev,
        mqtt: {
          acl: [
            { user: "node-red", access: "read", topic: "devices/#" },
            { user: "node-red", access: "read", topic: "devices/#" },
          ],
        },
      },
      "iot-swarm-net:mqtt.acl[1]",
      /duplicate ACL entry: acl\[0\] already grants it/,
    ],
    [
      "a duplicate admin CIDR",
      { ...dev, adminCidrs: ["10.0.5.0/24", "10.0.5.0/24"] },
      "iot-swarm-net:adminCidrs[1]",
      /duplicate 10\.0\.5\.0\/24: adminCidrs\[0\] already lists it/,
    ],
    [
      "dnsrr on a port published through the routing mesh",
      { ...dev, services: { mosquitto: { endpointMode: "dnsrr" } } },
      "iot-swarm-net:services.mosquitto.endpointMode",
      /cannot publish ports in ingress mode/,
    ],
    [
      "a tier taking another tier's network name",
      { ...dev, tiers: [{ name: "dmz", network: "iot-edge-network" }] },
      "iot-swarm-net:tiers[0].network",
      /network name "iot-edge-network" is already used by tier "edge"/,
    ],
    [
      "a tier taking the generated name of a service's egress network",
      { ...dev, tiers: [{ name: "dmz", network: "iot-gateway-egress" }] },
      "iot-swarm-net:tiers[0].network",
      /tier "dmz" may not use network name "iot-gateway-egress": it is the generated name of the egress network of service "gateway"/,
    ],
    [
      "a tier taking a link network's generated name (underscore and all)",
      { ...dev, tiers: [{ name: "dmz", network: "iot-link-grafana_redis" }] },
      "iot-swarm-net:tiers[0].network",
      /lower-case DNS label/,
    ],
    [
      "a second stack tier taking the first one's network name",
      {
        ...dev,
        tiers: [
          { name: "dmz", network: "iot-dmz" },
          { name: "dmz2", network: "iot-dmz" },
        ],
      },
      "iot-swarm-net:tiers[1].network",
      /"iot-dmz" is already used by tier "dmz"$/,
    ],
    [
      "a service name that is not a DNS label",
      { ...dev, services: { Api_1: { image: "ghcr.io/acme/api:1.0.0" } } },
      "iot-swarm-net:services.Api_1",
      /lower-case DNS label of at most 41 characters, but "Api_1" was provided/,
    ],
    [
      "a service name ending in a hyphen",
      { ...dev, services: newService("reader-") },
      "iot-swarm-net:services.reader-",
      /lower-case DNS label of at most 41 characters, but "reader-" was provided/,
    ],
    [
      "a tier name ending in a hyphen",
      { ...dev, tiers: [{ name: "dmz-" }] },
      "iot-swarm-net:tiers[0].name",
      /not ending in -/,
    ],
    [
      "an alias ending in a hyphen",
      { ...dev, services: { redis: { aliases: ["cache-"] } } },
      "iot-swarm-net:services.redis.aliases[1]",
      /must be a lower-case DNS label, but "cache-" was provided/,
    ],
    [
      "an MQTT client whose certificate objects would exceed Docker's 64 characters",
      { ...dev, services: newService(name41), tls: { mqttClients: ["node-red", "mqtt-exporter", name41] } },
      "iot-swarm-net:tls.mqttClients[2]",
      new RegExp(
        `"${name41}" is too long .*its mqtt-client.(crt|key) would be "${name41}-mqtt-client-(crt|key)-<hash>", 70 characters where Docker allows 64; use a name of at most 35 characters`,
      ),
    ],
    [
      "a subnet prefix shorter than the pool's",
      { ...dev, subnetPool: "10.231.0.0/20", subnetPrefixLength: 18 },
      "iot-swarm-net:subnetPrefixLength",
      /at least the pool's prefix \(\/20\), but 18 was provided/,
    ],
    [
      "a malformed LAN subnet",
      { ...dev, lanSubnets: ["192.168.1.7/24"] },
      "iot-swarm-net:lanSubnets[0]",
      /host bits set; the network is 192\.168\.1\.0\/24/,
    ],
    [
      "a pool overlapping the docker0 bridge",
      { ...dev, subnetPool: "172.16.0.0/12" },
      "iot-swarm-net:subnetPool",
      /overlaps 172\.17\.0\.0\/16, used by the docker0 bridge/,
    ],
    [
      "a public subnet pool",
      { ...dev, subnetPool: "8.8.0.0/16" },
      "iot-swarm-net:subnetPool",
      /8\.8\.0\.0\/16 is not inside one private range; overlay subnets must lie in 10\.0\.0\.0\/8/,
    ],
    [
      "a loopback subnet pool",
      { ...dev, subnetPool: "127.16.0.0/16" },
      "iot-swarm-net:subnetPool",
      /overlaps the loopback range 127\.0\.0\.0\/8/,
    ],
    ["a link-local subnet pool", { ...dev, subnetPool: "169.254.0.0/16" }, "iot-swarm-net:subnetPool", /link-local/],
    ["a multicast subnet pool", { ...dev, subnetPool: "239.1.0.0/16" }, "iot-swarm-net:subnetPool", /multicast/],
    [
      "a pool straddling a private range's edge",
      { ...dev, subnetPool: "172.0.0.0/10" },
      "iot-swarm-net:subnetPool",
      /not inside one private range/,
    ],
    [
      "a public subnet pin",
      { ...dev, subnets: { "iot-edge-network": "203.0.113.0/24" } },
      "iot-swarm-net:subnets.iot-edge-network",
      /203\.0\.113\.0\/24 is not inside one private range/,
    ],
    [
      "a subnet pin with host bits",
      { ...dev, subnets: { "iot-edge-network": "10.231.0.7/24" } },
      "iot-swarm-net:subnets.iot-edge-network",
      /host bits set/,
    ],
    [
      "a CA that expires before its leaves",
      { ...dev, tls: { validityDays: 90, caValidityDays: 90 } },
      "iot-swarm-net:tls.caValidityDays",
      /must exceed validityDays \(90\), but 90 was provided/,
    ],
    [
      "reserved memory above the limit",
      { ...dev, services: { redis: { resources: { reservedMemoryMb: 512 } } } },
      "iot-swarm-net:services.redis.resources.reservedMemoryMb",
      /must not exceed memoryMb \(256\), but 512 was provided/,
    ],
    [
      "reserved CPUs above the limit",
      { ...dev, services: { redis: { resources: { cpus: 0.5, reservedCpus: 1 } } } },
      "iot-swarm-net:services.redis.resources.reservedCpus",
      /must not exceed cpus \(0.5\), but 1 was provided/,
    ],
    [
      "two ports with one name",
      {
        ...dev,
        services: {
          nats: {
            ports: [
              { name: "client", port: 4222, appProtocol: "nats", purpose: "clients" },
              { name: "client", port: 8222, appProtocol: "metrics", purpose: "monitor" },
            ],
          },
        },
      },
      "iot-swarm-net:services.nats.ports[1].name",
      /duplicate port name "client"/,
    ],
    [
      "a health check on a port the service lacks",
      {
        ...dev,
        services: { grafana: { health: { test: ["CMD", "true"], portName: "web" } } },
      },
      "iot-swarm-net:services.grafana.health.portName",
      /"grafana" has no port named "web"/,
    ],
    [
      "an alias that is not a DNS label",
      { ...dev, services: { redis: { aliases: ["Cache_1"] } } },
      "iot-swarm-net:services.redis.aliases[1]",
      /must be a lower-case DNS label, but "Cache_1" was provided/,
    ],
    [
      "an alias shadowing tasks.<service>",
      { ...dev, services: { redis: { aliases: ["tasks-cache"] } } },
      "iot-swarm-net:services.redis.aliases[1]",
      /"tasks-cache" would shadow Swarm's tasks.<service> names/,
    ],
    [
      "a flow from a service to itself",
      { ...dev, flows: ["redis -> redis:6379"] },
      "iot-swarm-net:flows[0]",
      /a service always reaches itself; a flow needs two services in "redis -> redis:6379"$/,
    ],
    [
      "a route to an unknown service",
      { ...dev, routes: [{ subdomain: "api", service: "api", port: 8000 }] },
      "iot-swarm-net:routes[0].service",
      /unknown service "api"/,
    ],
    [
      "a broker client without a certificate while the broker requires one",
      { ...dev, tls: { mqttClients: ["node-red"] }, mqtt: { acl: [] } },
      "iot-swarm-net:tls.mqttClients",
      /"mqtt-exporter" connects to the broker \(mqtt-exporter -> mosquitto:8883\) but has no client certificate; add it/,
    ],
    [
      "half a bring-your-own CA",
      { ...dev, caCertPem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----" },
      "iot-swarm-net:caKeyPem",
      /both caCertPem and caKeyPem/,
    ],
  ];

  it.each(cases)("rejects %s, naming the config key", (_label, raw, key, message) => {
    const error = configError(raw);
    const line = error.split("\n").find((l) => l.includes(`${key}:`));
    expect(line).toBeDefined();
    expect(line).toMatch(message);
  });

  it.each([
    "registry.local:5000/team/app:1.2",
    "localhost:5000/app:1.0",
    "10.0.0.5:5000/app@sha256:" + "a".repeat(64),
    "ghcr.io/acme/energy-api:1.4.2-RC_1",
    "grafana/grafana:latest@sha256:" + "b".repeat(64),
  ])("accepts the image reference %s", (image) => {
    expect(configError({ ...dev, services: { grafana: { image } } })).toBe("");
  });

  it("accepts every placement attribute Swarm defines", () => {
    const placement = [
      "node.id != abc123",
      "node.hostname==edge-1",
      "node.role == Manager",
      "node.platform.os == linux",
      "node.platform.arch != arm64",
      "node.labels.zone == hall-2",
      "engine.labels.storage == ssd",
    ];
    expect(configError({ ...dev, services: { grafana: { placement } } })).toBe("");
  });

  it.each(["10.40.0.0/16", "172.20.0.0/16", "100.64.0.0/10"])("accepts the private subnet pool %s", (subnetPool) => {
    expect(configError({ ...dev, subnetPool })).toBe("");
  });

  it("accepts a small private pool, asking only for pins where its networks collide", () => {
    const error = configError({ ...dev, subnetPool: "192.168.64.0/18" });
    expect(error).not.toContain("iot-swarm-net:subnetPool:");
    for (const line of error.split("\n").slice(1)) expect(line).toMatch(/iot-swarm-net:subnets\..*would both use/);
  });

  it("accepts an administrative UI made public on purpose, and a reference route served differently", () => {
    expect(
      configError({
        ...dev,
        routes: [
          { subdomain: "flows", service: "node-red", port: 1880, admin: false, publicAdminUi: true },
          { subdomain: "grafana", service: "grafana", port: 3000, admin: true },
        ],
      }),
    ).toBe("");
  });

  it.each(["#", "+", "devices/+/state", "devices/#", "/leading/empty/level", "$SYS/#", "a//b", "+/+/#"])(
    "accepts the MQTT topic filter %s",
    (topic) => {
      expect(configError({ ...dev, mqtt: { acl: [{ user: "node-red", access: "read", topic }] } })).toBe("");
    },
  );

  it("accepts a 41-character service that holds no files, and a 35-character MQTT client", () => {
    const name35 = name41.slice(0, 35);
    expect(name41).toHaveLength(41);
    expect(configError({ ...dev, services: newService(name41) })).toBe("");
    expect(
      configError({
        ...dev,
        services: newService(name35),
        tls: { mqttClients: ["node-red", "mqtt-exporter", name35] },
        mqtt: { acl: [{ user: name35, access: "write", topic: "devices/north/#" }] },
      }),
    ).toBe("");
  });

  it("accepts broker clients without certificates when the broker does not require them", () => {
    expect(
      configError({ ...dev, tls: { mqttClients: ["node-red"] }, mqtt: { requireClientCertificate: false, acl: [] } }),
    ).toBe("");
  });

  it("reports every problem at once, not only the first", () => {
    const error = configError({
      ...dev,
      services: { gateway: { replicas: 0 }, grafana: { image: "grafana/grafana" } },
      flows: ["x -> y:1"],
    });
    expect(error).toMatch(/3 problems/);
  });

  it("reports every problem at once: validation, rotation and network planning together", () => {
    const [a, b] = planNetworks(topologyFrom(dev)).networks.filter((n) => n.kind === "tier");
    const error = configError({
      ...dev,
      flows: ["grafana to redis"],
      rotations: { "no-such-credential": 2 },
      subnets: { [b.name]: a.subnet },
    });
    expect(error).toMatch(/3 problems/);
    expect(error).toContain('iot-swarm-net:flows[0]: must read "client -> server:port"');
    expect(error).toContain('iot-swarm-net:rotations.no-such-credential: no credential is named "no-such-credential"');
    expect(error).toContain(`iot-swarm-net:subnets.${b.name}: networks "${a.name}" and "${b.name}" would both use`);
    expect(error).not.toMatch(/\n\s+at /);
  });

  it("reports the Docker, Swarm, MQTT and route rules together in one run", () => {
    const error = configError({
      ...dev,
      subnetPool: "8.8.0.0/16",
      services: {
        grafana: { image: "Grafana/grafana:1", placement: ["node.role == boss"] },
        redis: { resources: { cpus: 0.5, reservedCpus: 1 } },
      },
      routes: [{ subdomain: "flows", service: "node-red", port: 1880, admin: false }],
      tls: { mqttClients: ["node-red", "mqtt-exporter", "node-red"] },
      mqtt: { acl: [{ user: "node-red", access: "read", topic: "devices/#/x" }] },
    });
    for (const key of [
      "subnetPool",
      "services.grafana.image",
      "services.grafana.placement[0]",
      "services.redis.resources.reservedCpus",
      "routes[0].admin",
      "tls.mqttClients[2]",
      "mqtt.acl[0].topic",
    ]) {
      expect(error).toContain(`iot-swarm-net:${key}:`);
    }
  });

  describe("secret values", () => {
    const keyBody = "MHcCAQEEIDx3mQ9vL2n8hK5t4Qe1pVb7sWc0aZr6yUo3iJkLmNoP";

    it("marks caKeyPem secret in the schema", () => {
      expect([...SECRET_CONFIG_KEYS]).toEqual(["caKeyPem"]);
    });

    it("never prints the value of a secret key it rejects", () => {
      const pem = `-----BEGIN EC KEY-----\n${keyBody}\n-----END EC KEY-----`;
      const error = configError({ ...dev, caKeyPem: pem });
      expect(error).toContain("iot-swarm-net:caKeyPem: must be a PEM private key");
      expect(error).not.toContain(keyBody);
      expect(error).not.toContain("BEGIN EC KEY");
    });

    it("never prints key material put under a key that is not secret", () => {
      const pem = `-----BEGIN EC PRIVATE KEY-----\n${keyBody}\n-----END EC PRIVATE KEY-----`;
      const error = configError({ ...dev, caCertPem: pem, caKeyPem: pem });
      expect(error).toContain("iot-swarm-net:caCertPem: must be a PEM certificate");
      expect(error).not.toContain(keyBody);
    });

    it("never prints a value, even in part, that an environment variable's name marks as secret", () => {
      const error = configError({ ...dev, services: { grafana: { env: { GF_DATABASE_PASSWORD: "hunter2" } } } });
      expect(error).toContain("iot-swarm-net:services.grafana.env.GF_DATABASE_PASSWORD");
      expect(error).not.toContain("hunter2");
      expect(error).not.toContain('"hu');
    });

    it("names the key, not the value, of a secret found by its value, and keeps a name that points at a file", () => {
      const pem = `-----BEGIN EC PRIVATE KEY-----\n${keyBody}\n-----END EC PRIVATE KEY-----`;
      const error = configError({ ...dev, services: { grafana: { env: { GREETING: pem, TLS_KEY_PATH: pem } } } });
      expect(error).toContain(
        "iot-swarm-net:services.grafana.env.GREETING: looks like a secret (its value is a private key); deliver it as a Docker secret and pass its path in GREETING_FILE instead",
      );
      expect(error).toContain("env.TLS_KEY_PATH: looks like a secret (its value is a private key)");
      expect(error).toContain("pass its path in TLS_KEY_PATH instead");
      expect(error).not.toContain(keyBody.slice(0, 12));
    });

    it("still prints a rejected value that is not secret", () => {
      expect(configError({ environment: "staging" })).toContain('but "staging" was provided');
    });
  });

  it("throws a typed error carrying the problems", () => {
    expect(() => topologyFrom({ ...dev, flows: ["bad"] })).toThrow(StackConfigError);
  });

  it("suggests a host port that is itself free and unreserved", () => {
    const error = configError({ ...dev, services: { mosquitto: { publish: { mqtts: 443 } } } });
    const suggested = Number(/on (\d+) instead/.exec(error)![1]);
    expect(configError({ ...dev, services: { mosquitto: { publish: { mqtts: suggested } } } })).toBe("");
  });

  it("accepts a new service with its own tier, flow and route", () => {
    const t = topologyFrom({ ...dev, ...apiServiceConfig });
    expect(t.services.find((s) => s.name === "api")?.tiers).toEqual(["api"]);
    expect(t.tiers.find((x) => x.name === "api")?.network).toBe("iot-api-network");
    expect(t.routes.map((r) => r.subdomain)).toContain("api");
  });
});

describe("environment defaults", () => {
  it("runs one replica of everything in dev", () => {
    expect(topologyFrom(dev).services.every((s) => s.replicas === 1)).toBe(true);
  });

  it("runs scalable services with two replicas and encrypts overlays in prod", () => {
    const t = topologyFrom({ environment: "prod" });
    expect(t.services.find((s) => s.name === "gateway")?.replicas).toBe(2);
    expect(t.services.filter((s) => s.singleton).every((s) => s.replicas === 1)).toBe(true);
    expect(t.encryptOverlays).toBe(true);
  });

  it("switches published services to dnsrr when ports are published in host mode", () => {
    const t = topologyFrom({ ...dev, publishMode: "host" });
    expect(t.services.find((s) => s.name === "gateway")?.endpointMode).toBe("dnsrr");
  });
});
