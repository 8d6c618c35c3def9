/**
 * The cross-field rules of validation (model/validate.ts and the files it draws on), one rule at a time: each
 * case starts from the valid dev stack, changes one thing, and expects exactly the problems it causes, each with
 * its full config key and message. Validation runs on the merged topology alone (no network planning), so a
 * case sees only what these rules report. Everything is built inside the tests.
 */
import { parseStackConfig, StackConfig } from "../model/config";
import { constraintProblem } from "../model/constraint";
import { mergeTopology } from "../model/merge";
import {
  egressNetworkName,
  fitName,
  linkNetworkName,
  shortHash,
  swarmObjectName,
  tierNetworkName,
} from "../model/naming";
import { reservedPorts, suggestFreePort } from "../model/reserved";
import { validateTopology } from "../model/validate";

type Raw = Record<string, unknown>;

const encode = (raw: Raw): Record<string, string> =>
  Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));

/** The problems validation reports for a parsed config, keys without the namespace. */
function problemsOf(config: StackConfig): { key: string; message: string }[] {
  return validateTopology(config, mergeTopology(config)).map((p) => ({
    key: p.key.replace(/^iot-swarm-net:/, ""),
    message: p.message,
  }));
}

/** The problems validation reports for the dev stack changed by `raw`. */
const problems = (raw: Raw) => problemsOf(parseStackConfig(encode({ environment: "dev", ...raw })));

/** A service of the stack's own in the backend tier, with an HTTP port 8000 and `extra` fields. */
const own = (name: string, extra: Raw = {}): Raw => ({
  [name]: {
    image: "ghcr.io/acme/api:1.0.0",
    tiers: ["backend"],
    role: "api",
    ports: [{ name: "http", port: 8000, appProtocol: "http", purpose: "REST API" }],
    health: { test: ["CMD", "true"] },
    ...extra,
  },
});

const ALL_TIERS = "edge, frontend, backend, mqtt, cache, messaging, monitoring";
const ATTRIBUTES =
  "Swarm matches node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.<key> and engine.labels.<key>";
const NOT_PRIVATE =
  "is not inside one private range; overlay subnets must lie in 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10";

describe("validation of a valid stack", () => {
  it("reports nothing for the dev and prod stacks", () => {
    expect(problems({})).toEqual([]);
    expect(problems({ environment: "prod" })).toEqual([]);
  });

  it("reports nothing for a stack using every rule's allowed edge", () => {
    expect(
      problems({
        tiers: [
          { name: "dmz", network: "iot-dmz-net" },
          { name: "lab", network: "iot-lab-network" },
        ],
        services: {
          ...own("api", {
            tiers: ["dmz"],
            ports: [
              { name: "http", port: 8000, appProtocol: "http", purpose: "REST API" },
              { name: "coap", port: 8883, protocol: "udp", appProtocol: "metrics", purpose: "CoAP", published: 8883 },
            ],
            publish: { http: 9000 },
            aliases: ["api-v1", "x-tasks", "z"],
            placement: ["node.role == manager", "node.labels.zone != north"],
            resources: { cpus: 1, reservedCpus: 1, memoryMb: 256, reservedMemoryMb: 256 },
            replicas: 3,
            singleton: false,
            env: { TZ: "UTC", PASSWORDFILE: "x" },
            stateNode: undefined,
          }),
          redis: { stateNode: "store-1" },
          gateway: { replicas: 2, publish: { metrics: 9405 } },
          grafana: { image: "grafana/grafana@sha256:" + "a".repeat(64) },
          prometheus: { image: "prom/prometheus:latest@sha256:" + "b".repeat(64) },
        },
        flows: ["gateway -> api:8000"],
        routes: [
          { subdomain: "api", service: "api", port: 8000, admin: false },
          { subdomain: "dash", service: "grafana", port: 3000, admin: false },
          { subdomain: "grafana", service: "grafana", port: 3000, admin: false },
          { subdomain: "flows", service: "node-red", port: 1880, admin: true },
          { subdomain: "tsdb", service: "influxdb", port: 8086, admin: false, publicAdminUi: true },
        ],
        subnetPool: "10.231.0.0/24",
        subnetPrefixLength: 24,
        tls: { validityDays: 397, earlyRenewalDays: 396, caValidityDays: 398 },
        mqtt: {
          acl: [
            { user: "node-red", access: "read", topic: "devices/#" },
            { user: "node-red", access: "write", topic: "devices/#" },
          ],
        },
      }),
    ).toEqual([]);
  });
});

describe("tier networks", () => {
  it("rejects a tier taking the network of an earlier stack tier, under the later tier", () => {
    expect(
      problems({
        tiers: [
          { name: "dmz", network: "shared" },
          { name: "lab", network: "shared" },
        ],
      }),
    ).toEqual([{ key: "tiers[1].network", message: 'network name "shared" is already used by tier "dmz"' }]);
  });

  it("rejects a stack tier taking a reference tier's network", () => {
    expect(problems({ tiers: [{ name: "dmz", network: "iot-edge-network" }] })).toEqual([
      { key: "tiers[0].network", message: 'network name "iot-edge-network" is already used by tier "edge"' },
    ]);
  });

  it("blames the later of two stack tiers even when the later one is a reference tier", () => {
    expect(
      problems({
        tiers: [
          { name: "dmz", network: "shared" },
          { name: "edge", network: "shared" },
        ],
      }),
    ).toEqual([{ key: "tiers[1].network", message: 'network name "shared" is already used by tier "dmz"' }]);
  });

  it("does not let a tier named twice clash with itself", () => {
    expect(problems({ tiers: [{ name: "dmz", network: "mine" }, { name: "dmz" }] })).toEqual([
      { key: "tiers[1].name", message: 'duplicate tier "dmz": tiers[0] already defines it' },
    ]);
  });

  it("rejects a tier network named like a service's egress network", () => {
    expect(problems({ tiers: [{ name: "dmz", network: "iot-grafana-egress" }] })).toEqual([
      {
        key: "tiers[0].network",
        message:
          'tier "dmz" may not use network name "iot-grafana-egress": it is the generated name of the egress network of service "grafana"; choose another name',
      },
    ]);
  });

  it("rejects a tier network named like the link network of any two services, naming them in catalog order", () => {
    // The schema admits no `_` in a network name, and every link network name holds one (naming.ts), so the
    // names are set on the parsed config.
    const parsed = parseStackConfig(
      encode({ environment: "dev", tiers: [{ name: "dmz" }, { name: "lab" }, { name: "own" }] }),
    );
    const networks = ["iot-link-influxdb_mosquitto", "iot-link-gateway_mqtt-exporter", "iot-link-grafana_grafana"];
    const config = { ...parsed, tiers: parsed.tiers.map((tier, i) => ({ ...tier, network: networks[i] })) };
    expect(problemsOf(config)).toEqual([
      {
        key: "tiers[0].network",
        message:
          'tier "dmz" may not use network name "iot-link-influxdb_mosquitto": it is the generated name of the link network of services "mosquitto" and "influxdb"; choose another name',
      },
      {
        key: "tiers[1].network",
        message:
          'tier "lab" may not use network name "iot-link-gateway_mqtt-exporter": it is the generated name of the link network of services "gateway" and "mqtt-exporter"; choose another name',
      },
    ]);
  });
});

describe("services", () => {
  it("rejects a service name that is no DNS label, and a new service missing required fields", () => {
    expect(problems({ services: { Bad_Name: { image: "x:1" } } })).toEqual([
      {
        key: "services.Bad_Name",
        message: 'service name must be a lower-case DNS label of at most 41 characters, but "Bad_Name" was provided',
      },
    ]);
    expect(problems({ services: { api: { image: "x:1" } } })).toEqual([
      { key: "services.api", message: "a service not in the reference catalog must set tiers, role, ports, health" },
    ]);
  });

  it("rejects an unknown tier under its index, listing the tiers", () => {
    expect(problems({ services: { grafana: { tiers: ["frontend", "dmz"] } } })).toEqual([
      { key: "services.grafana.tiers[1]", message: `unknown tier "dmz"; tiers are: ${ALL_TIERS}` },
    ]);
  });

  it.each([
    [
      "Grafana/Bad Image",
      'must be a Docker image reference: the repository "Grafana/Bad Image" must be lower-case, but "Grafana/Bad Image" was provided',
    ],
    [
      "grafana/grafana",
      'must be pinned by tag or digest (e.g. "grafana/grafana:11.3.1"), but "grafana/grafana" was provided',
    ],
    ["grafana/grafana:latest", 'must not use the moving "latest" tag, but "grafana/grafana:latest" was provided'],
  ])("rejects the image %s", (image, message) => {
    expect(problems({ services: { grafana: { image } } })).toEqual([{ key: "services.grafana.image", message }]);
  });

  it("rejects fewer than one replica", () => {
    expect(problems({ services: { gateway: { replicas: 0 } } })).toEqual([
      { key: "services.gateway.replicas", message: "must be at least 1, but 0 was provided" },
    ]);
  });

  it("rejects a singleton with more than one replica, and accepts it once singleton is off", () => {
    expect(problems({ services: { grafana: { replicas: 2 } } })).toEqual([
      {
        key: "services.grafana.replicas",
        message:
          '"grafana" is a singleton (its state or subscriptions live in one process) and must run 1 replica, but 2 was provided (set singleton: false only for a clustered setup)',
      },
    ]);
    expect(problems({ services: { grafana: { replicas: 2, singleton: false } } })).toEqual([]);
  });

  it("rejects reservations above the limits", () => {
    expect(
      problems({
        services: { grafana: { resources: { cpus: 0.5, reservedCpus: 0.6, memoryMb: 64, reservedMemoryMb: 65 } } },
      }),
    ).toEqual([
      { key: "services.grafana.resources.reservedCpus", message: "must not exceed cpus (0.5), but 0.6 was provided" },
      {
        key: "services.grafana.resources.reservedMemoryMb",
        message: "must not exceed memoryMb (64), but 65 was provided",
      },
    ]);
  });

  it("rejects a state node for a service without volumes, saying when it is no singleton", () => {
    expect(problems({ services: { nats: { stateNode: "store-1" }, gateway: { stateNode: "store-2" } } })).toEqual([
      {
        key: "services.gateway.stateNode",
        message:
          '"gateway" keeps no state in a volume (singleton: false), so there is nothing to pin to node "store-2"',
      },
      {
        key: "services.nats.stateNode",
        message: '"nats" keeps no state in a volume, so there is nothing to pin to node "store-1"',
      },
    ]);
  });

  it("rejects a repeated port name, a published port name and a health port the service lacks", () => {
    expect(
      problems({
        services: {
          ...own("api", {
            ports: [
              { name: "http", port: 8000, appProtocol: "http", purpose: "REST API" },
              { name: "http", port: 8001, appProtocol: "http", purpose: "status" },
            ],
          }),
          gateway: { publish: { web: 9000 } },
          grafana: { health: { test: ["CMD", "true"], portName: "web" } },
        },
      }),
    ).toEqual([
      {
        key: "services.gateway.publish.web",
        message: '"gateway" has no port named "web"; its ports are: https, http, metrics',
      },
      { key: "services.grafana.health.portName", message: '"grafana" has no port named "web"' },
      { key: "services.api.ports[1].name", message: 'duplicate port name "http"' },
    ]);
  });

  it("rejects a placement constraint under its index", () => {
    expect(problems({ services: { grafana: { placement: ["node.role == manager", "node.rol == x"] } } })).toEqual([
      { key: "services.grafana.placement[1]", message: `unknown attribute "node.rol"; ${ATTRIBUTES}` },
    ]);
  });

  it("rejects a dnsrr service publishing in ingress mode, not in host mode and not with vip", () => {
    const message = `"dnsrr" cannot publish ports in ingress mode; use "vip" or set publishMode to "host"`;
    const grafana = { publish: { http: 3001 }, endpointMode: "dnsrr" };
    expect(problems({ services: { grafana } })).toEqual([{ key: "services.grafana.endpointMode", message }]);
    expect(problems({ publishMode: "host", services: { grafana } })).toEqual([]);
    expect(problems({ services: { grafana: { publish: { http: 3001 } } } })).toEqual([]);
    expect(problems({ services: { grafana: { endpointMode: "dnsrr" } } })).toEqual([]);
    // One of two ports published is enough.
    expect(problems({ services: { nats: { publish: { client: 4222 }, endpointMode: "dnsrr" } } })).toEqual([
      { key: "services.nats.endpointMode", message },
    ]);
  });

  it("rejects a secret in env by name or value, naming the variable that should carry its path", () => {
    expect(
      problems({
        services: {
          grafana: {
            env: {
              TZ: "UTC",
              DB_PASSWORD: "x",
              SECRET_FILE: "-----BEGIN PRIVATE KEY-----abc",
              db_key_path: "-----BEGIN PRIVATE KEY-----abc",
              KEYFILE: "-----BEGIN PRIVATE KEY-----abc",
              PATH: "-----BEGIN PRIVATE KEY-----abc",
              KEY_FILE_DATA: "-----BEGIN PRIVATE KEY-----abc",
            },
          },
        },
      }),
    ).toEqual([
      {
        key: "services.grafana.env.DB_PASSWORD",
        message:
          "looks like a secret (its name contains PASSWORD); deliver it as a Docker secret and pass its path in DB_PASSWORD_FILE instead",
      },
      {
        key: "services.grafana.env.SECRET_FILE",
        message:
          "looks like a secret (its value is a private key); deliver it as a Docker secret and pass its path in SECRET_FILE instead",
      },
      {
        key: "services.grafana.env.db_key_path",
        message:
          "looks like a secret (its value is a private key); deliver it as a Docker secret and pass its path in db_key_path instead",
      },
      {
        key: "services.grafana.env.KEYFILE",
        message:
          "looks like a secret (its value is a private key); deliver it as a Docker secret and pass its path in KEYFILE_FILE instead",
      },
      {
        key: "services.grafana.env.PATH",
        message:
          "looks like a secret (its value is a private key); deliver it as a Docker secret and pass its path in PATH instead",
      },
      {
        key: "services.grafana.env.KEY_FILE_DATA",
        message:
          "looks like a secret (its value is a private key); deliver it as a Docker secret and pass its path in KEY_FILE_DATA_FILE instead",
      },
    ]);
  });
});

describe("published host ports", () => {
  it("rejects a port Swarm reserves, suggesting the next port no service publishes", () => {
    expect(
      problems({ services: { gateway: { publish: { https: 2377 } }, mosquitto: { publish: { mqtts: 2378 } } } }),
    ).toEqual([
      {
        key: "services.gateway.publish.https",
        message: "host port 2377 is reserved for Swarm cluster management; use 2379 instead",
      },
    ]);
  });

  it("rejects CapRover's ports only beside CapRover, suggesting unprivileged ones", () => {
    expect(problems({ caproverCoexistence: true, services: { gateway: { replicas: 1 } } })).toEqual([
      {
        key: "services.gateway.publish.https",
        message: "host port 443 is reserved for CapRover HTTPS; use 8443 instead",
      },
      { key: "services.gateway.publish.http", message: "host port 80 is reserved for CapRover HTTP; use 8080 instead" },
    ]);
  });

  it("rejects plaintext MQTT under the port's entry in ports", () => {
    expect(
      problems({
        services: own("bridge", {
          ports: [
            { name: "http", port: 8000, appProtocol: "http", purpose: "status" },
            { name: "mqtt", port: 1884, appProtocol: "mqtt", purpose: "MQTT", published: 1884 },
          ],
        }),
      }),
    ).toEqual([
      {
        key: "services.bridge.ports[1].published",
        message: "plaintext MQTT must never be published; publish the TLS listener (8883) instead of 1884",
      },
    ]);
  });

  it("rejects a host port two services publish, under the second, per protocol", () => {
    expect(problems({ services: { gateway: { publish: { metrics: 8883 } } } })).toEqual([
      {
        key: "services.mosquitto.publish.mqtts",
        message:
          'host port 8883/tcp is published by both "gateway" (metrics) and "mosquitto" (mqtts); publish "mosquitto" on 8884 instead',
      },
    ]);
  });

  it("names publish of a service that also lists its ports, when publish set the port", () => {
    expect(
      problems({
        services: own("bridge", {
          ports: [
            { name: "http", port: 8000, appProtocol: "http", purpose: "status" },
            { name: "web", port: 8001, appProtocol: "http", purpose: "web" },
          ],
          publish: { web: 2377 },
        }),
      }),
    ).toEqual([
      {
        key: "services.bridge.publish.web",
        message: "host port 2377 is reserved for Swarm cluster management; use 2378 instead",
      },
    ]);
  });

  it("names the ports entry of a service that publishes other ports through publish", () => {
    expect(
      problems({
        services: own("bridge", {
          ports: [
            { name: "http", port: 8000, appProtocol: "http", purpose: "status" },
            { name: "web", port: 8001, appProtocol: "http", purpose: "web", published: 443 },
          ],
          publish: { http: 9000 },
        }),
      }),
    ).toEqual([
      {
        key: "services.bridge.ports[1].published",
        message:
          'host port 443/tcp is published by both "gateway" (https) and "bridge" (web); publish "bridge" on 8443 instead',
      },
    ]);
  });
});

describe("DNS aliases", () => {
  it("rejects an alias that is no DNS label, and stops there", () => {
    expect(problems({ services: { grafana: { aliases: ["tasks_x", "a-", "9lives", "Ab", "b1"] } } })).toEqual([
      { key: "services.grafana.aliases[1]", message: 'must be a lower-case DNS label, but "tasks_x" was provided' },
      { key: "services.grafana.aliases[2]", message: 'must be a lower-case DNS label, but "a-" was provided' },
      { key: "services.grafana.aliases[3]", message: 'must be a lower-case DNS label, but "9lives" was provided' },
      { key: "services.grafana.aliases[4]", message: 'must be a lower-case DNS label, but "Ab" was provided' },
    ]);
  });

  it("accepts a label of 63 characters and rejects one of 64", () => {
    const a63 = "a".repeat(63);
    expect(problems({ services: { grafana: { aliases: [a63] } } })).toEqual([]);
    expect(problems({ services: { grafana: { aliases: [a63 + "b"] } } })).toEqual([
      { key: "services.grafana.aliases[1]", message: `must be a lower-case DNS label, but "${a63}b" was provided` },
    ]);
  });

  it("rejects an alias shadowing tasks. names", () => {
    expect(problems({ services: { grafana: { aliases: ["tasks"] } } })).toEqual([
      { key: "services.grafana.aliases[1]", message: `"tasks" would shadow Swarm's tasks.<service> names` },
    ]);
  });

  it("rejects an alias that is a service's name or another service's alias", () => {
    expect(problems({ services: { grafana: { aliases: ["redis", "cache"] } } })).toEqual([
      { key: "services.grafana.aliases[1]", message: 'alias "redis" is already the name of service "redis"' },
      { key: "services.redis.aliases[0]", message: 'duplicate alias "cache": already an alias of "grafana"' },
    ]);
  });
});

describe("flows", () => {
  it("rejects a malformed flow", () => {
    expect(problems({ flows: ["grafana to redis"] })).toEqual([
      { key: "flows[0]", message: 'must read "client -> server:port", but "grafana to redis" was provided' },
    ]);
  });

  it("joins every problem of one flow", () => {
    expect(problems({ flows: ["gateway -> grafana:3000", "postgres -> mysql:5432"] })).toEqual([
      { key: "flows[1]", message: 'unknown service "postgres"; unknown service "mysql" in "postgres -> mysql:5432"' },
    ]);
  });
});

describe("subnets", () => {
  it.each([
    ["10.231.0.300/16", '"10.231.0.300/16" is not an IPv4 CIDR'],
    ["10.231.1.0/16", '"10.231.1.0/16" has host bits set; the network is 10.231.0.0/16'],
  ])("rejects the pool %s and checks nothing else of it", (subnetPool, message) => {
    expect(problems({ subnetPool, lanSubnets: ["10.231.0.0/24"] })).toEqual([{ key: "subnetPool", message }]);
  });

  it("rejects a public pool", () => {
    expect(problems({ subnetPool: "8.8.0.0/16" })).toEqual([
      { key: "subnetPool", message: `8.8.0.0/16 ${NOT_PRIVATE}` },
    ]);
  });

  it("rejects a subnet prefix shorter than the pool's", () => {
    expect(problems({ subnetPool: "10.231.0.0/24", subnetPrefixLength: 23 })).toEqual([
      { key: "subnetPrefixLength", message: "must be at least the pool's prefix (/24), but 23 was provided" },
    ]);
  });

  it("rejects a pool over each range Docker uses", () => {
    expect(problems({ subnetPool: "10.0.0.0/16" })).toEqual([
      { key: "subnetPool", message: "10.0.0.0/16 overlaps 10.0.0.0/24, used by the Swarm ingress network" },
    ]);
    expect(problems({ subnetPool: "172.16.0.0/12" })).toEqual([
      { key: "subnetPool", message: "172.16.0.0/12 overlaps 172.17.0.0/16, used by the docker0 bridge" },
      { key: "subnetPool", message: "172.16.0.0/12 overlaps 172.18.0.0/16, used by docker_gwbridge" },
    ]);
  });

  it("rejects a pool over a site LAN subnet, and a malformed LAN subnet under its index", () => {
    expect(problems({ lanSubnets: ["192.168.1.0/24", "10.231.5.0/24", "10.0.0.0/33"] })).toEqual([
      { key: "subnetPool", message: "10.231.0.0/16 overlaps the site LAN subnet 10.231.5.0/24 (lanSubnets[1])" },
      { key: "lanSubnets[2]", message: '"10.0.0.0/33" is not an IPv4 CIDR' },
    ]);
  });

  it("rejects a pinned subnet that is public or malformed, and a malformed admin range", () => {
    expect(
      problems({
        subnets: { "iot-cache-network": "10.231.9.0/24", "iot-edge-network": "8.8.8.0/24", x: "10.1.1.0/40" },
        adminCidrs: ["10.0.5.0/24", "1.2.3.4/40"],
      }),
    ).toEqual([
      { key: "subnets.iot-edge-network", message: `8.8.8.0/24 ${NOT_PRIVATE}` },
      { key: "subnets.x", message: '"10.1.1.0/40" is not an IPv4 CIDR' },
      { key: "adminCidrs[1]", message: '"1.2.3.4/40" is not an IPv4 CIDR' },
    ]);
  });
});

describe("TLS and the broker's clients", () => {
  it("rejects a leaf validity above the limit", () => {
    expect(problems({ tls: { validityDays: 398, caValidityDays: 3650 } })).toEqual([
      { key: "tls.validityDays", message: "must be at most 397 days, but 398 was provided" },
    ]);
  });

  it("rejects early renewal not below the validity", () => {
    expect(problems({ tls: { validityDays: 100, earlyRenewalDays: 100 } })).toEqual([
      { key: "tls.earlyRenewalDays", message: "must be less than validityDays (100), but 100 was provided" },
    ]);
  });

  it("rejects a CA validity not above the leaf validity", () => {
    expect(problems({ tls: { validityDays: 100, caValidityDays: 100 } })).toEqual([
      { key: "tls.caValidityDays", message: "must exceed validityDays (100), but 100 was provided" },
    ]);
  });

  it("rejects an ACL topic filter and an ACL user without a certificate, under the entry's index", () => {
    expect(
      problems({
        mqtt: {
          acl: [
            { user: "node-red", access: "read", topic: "devices/#" },
            { user: "grafana", access: "read", topic: "devices/#/x" },
          ],
        },
      }),
    ).toEqual([
      {
        key: "mqtt.acl[1].topic",
        message: '"#" must be the last level and alone in it (e.g. "devices/#"), but "devices/#/x" was provided',
      },
      {
        key: "mqtt.acl[1].user",
        message: '"grafana" has no client certificate; add it to tls.mqttClients (node-red, mqtt-exporter)',
      },
    ]);
  });

  it("says when no client has a certificate", () => {
    expect(
      problems({
        tls: { mqttClients: [] },
        mqtt: { requireClientCertificate: false, acl: [{ user: "node-red", access: "read", topic: "devices/#" }] },
      }),
    ).toEqual([
      { key: "mqtt.acl[0].user", message: '"node-red" has no client certificate; add it to tls.mqttClients (none)' },
    ]);
  });

  it("rejects a CA certificate without its key and a key without its certificate", () => {
    const message = "a bring-your-own CA needs both caCertPem and caKeyPem";
    const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    const key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----";
    expect(problems({ caCertPem: cert })).toEqual([{ key: "caKeyPem", message }]);
    expect(problems({ caKeyPem: key })).toEqual([{ key: "caCertPem", message }]);
    expect(problems({ caCertPem: cert, caKeyPem: key })).toEqual([]);
  });

  it("rejects a broker client without a certificate only when the broker requires one", () => {
    const raw = {
      tls: { mqttClients: ["node-red"] },
      mqtt: { acl: [{ user: "node-red", access: "read", topic: "devices/#" }] },
    };
    expect(problems(raw)).toEqual([
      {
        key: "tls.mqttClients",
        message:
          '"mqtt-exporter" connects to the broker (mqtt-exporter -> mosquitto:8883) but has no client certificate; add it',
      },
    ]);
    expect(problems({ ...raw, mqtt: { ...raw.mqtt, requireClientCertificate: false } })).toEqual([]);
  });
});

describe("gateway routes", () => {
  it("rejects a reference subdomain sent to another service", () => {
    expect(problems({ routes: [{ subdomain: "grafana", service: "node-red", port: 1880 }] })).toEqual([
      {
        key: "routes[0].subdomain",
        message: '"grafana" is the reference route to grafana; a route may serve it only to grafana, not to node-red',
      },
    ]);
  });

  it("rejects an unknown service and checks nothing more of the route", () => {
    expect(problems({ routes: [{ subdomain: "db", service: "postgres", port: 5432 }] })).toEqual([
      { key: "routes[0].service", message: 'unknown service "postgres"' },
    ]);
  });

  it("rejects a port that is no HTTP port, listing the service's HTTP ports", () => {
    expect(problems({ routes: [{ subdomain: "cache", service: "redis", port: 6379 }] })).toEqual([
      {
        key: "routes[0].port",
        message: "the gateway forwards plain HTTP, but redis:6379 is a redis port; HTTP ports of redis: none",
      },
      {
        key: "routes[0]",
        message: 'the gateway has no declared flow to redis:6379; add "gateway -> redis:6379" to flows',
      },
    ]);
    expect(
      problems({
        services: own("api", {
          ports: [
            { name: "http", port: 8000, appProtocol: "http", purpose: "REST API" },
            { name: "status", port: 8001, appProtocol: "http", purpose: "status" },
          ],
        }),
        flows: ["gateway -> api:8000"],
        routes: [{ subdomain: "api", service: "api", port: 8002 }],
      }),
    ).toEqual([
      {
        key: "routes[0].port",
        message:
          "the gateway forwards plain HTTP, but api:8002 is no port of the service; HTTP ports of api: 8000 (http), 8001 (status)",
      },
      {
        key: "routes[0]",
        message: 'the gateway has no declared flow to api:8002; add "gateway -> api:8002" to flows',
      },
    ]);
  });

  it("needs the gateway's own flow to that service and port", () => {
    const api = own("api", {
      ports: [
        { name: "http", port: 3000, appProtocol: "http", purpose: "REST API" },
        { name: "status", port: 8001, appProtocol: "http", purpose: "status" },
      ],
    });
    const missing = (route: string) => ({
      key: "routes[0]",
      message: `the gateway has no declared flow to ${route}; add "gateway -> ${route}" to flows`,
    });
    // grafana -> prometheus:9090 is declared, but not from the gateway.
    expect(problems({ routes: [{ subdomain: "prom", service: "prometheus", port: 9090 }] })).toEqual([
      missing("prometheus:9090"),
    ]);
    // gateway -> grafana:3000 is declared, but to another service.
    expect(problems({ services: api, routes: [{ subdomain: "api", service: "api", port: 3000 }] })).toEqual([
      missing("api:3000"),
    ]);
    // gateway -> api:3000 is declared, but on another port.
    expect(
      problems({
        services: api,
        flows: ["gateway -> api:3000"],
        routes: [{ subdomain: "api", service: "api", port: 8001 }],
      }),
    ).toEqual([missing("api:8001")]);
  });

  it("keeps the Node-RED and InfluxDB UIs admin-only unless the route opens them on purpose", () => {
    const ui = (service: string, app: string) => ({
      key: "routes[0].admin",
      message: `${service} serves the ${app} UI, which administers the stack; keep the route admin-only, or set publicAdminUi: true to expose it on purpose`,
    });
    expect(problems({ routes: [{ subdomain: "flows", service: "node-red", port: 1880, admin: false }] })).toEqual([
      ui("node-red", "node-red"),
    ]);
    expect(problems({ routes: [{ subdomain: "tsdb", service: "influxdb", port: 8086, admin: false }] })).toEqual([
      ui("influxdb", "influxdb"),
    ]);
  });
});

describe("repeated entries", () => {
  it("reports each repeat against the first occurrence", () => {
    expect(problems({ tiers: [{ name: "dmz" }, { name: "lab" }, { name: "dmz" }, { name: "dmz" }] })).toEqual([
      { key: "tiers[2].name", message: 'duplicate tier "dmz": tiers[0] already defines it' },
      { key: "tiers[3].name", message: 'duplicate tier "dmz": tiers[0] already defines it' },
    ]);
  });

  it("rejects a repeated MQTT client, subdomain, ACL entry, admin range and LAN subnet", () => {
    expect(
      problems({
        tls: { mqttClients: ["node-red", "mqtt-exporter", "node-red"] },
        routes: [
          { subdomain: "dash", service: "grafana", port: 3000, admin: false },
          { subdomain: "flows", service: "node-red", port: 1880 },
          { subdomain: "dash", service: "grafana", port: 3000, admin: false },
        ],
        mqtt: {
          acl: [
            { user: "node-red", access: "read", topic: "devices/#" },
            { user: "node-red", access: "write", topic: "devices/#" },
            { user: "node-red", access: "write", topic: "devices/#" },
          ],
        },
        adminCidrs: ["10.0.5.0/24", "10.0.6.0/24", "10.0.6.0/24"],
        lanSubnets: ["192.168.1.0/24", "192.168.1.0/24"],
      }),
    ).toEqual([
      { key: "tls.mqttClients[2]", message: 'duplicate MQTT client "node-red": mqttClients[0] already names it' },
      { key: "routes[2].subdomain", message: 'duplicate subdomain "dash": routes[0] already serves it' },
      { key: "mqtt.acl[2]", message: "duplicate ACL entry: acl[1] already grants it" },
      { key: "adminCidrs[2]", message: "duplicate 10.0.6.0/24: adminCidrs[1] already lists it" },
      { key: "lanSubnets[1]", message: "duplicate 192.168.1.0/24: lanSubnets[0] already lists it" },
    ]);
  });
});

describe("Docker object names", () => {
  const client = (name: string, index = 2) => {
    const clients = ["node-red", "mqtt-exporter"];
    clients.splice(index, 0, name);
    return { services: own(name), tls: { mqttClients: clients } };
  };

  it("accepts an MQTT client whose longest object name is exactly 64 characters", () => {
    expect(problems(client("c".repeat(35)))).toEqual([]);
  });

  it("rejects an MQTT client one character longer, under its entry in mqttClients", () => {
    const name = "c".repeat(36);
    const message =
      `"${name}" is too long for the Docker objects named after it: its mqtt-client.crt would be ` +
      `"${name}-mqtt-client-crt-<hash>", 65 characters where Docker allows 64; use a name of at most 35 characters`;
    expect(problems(client(name))).toEqual([{ key: "tls.mqttClients[2]", message }]);
    expect(problems(client(name, 0))).toEqual([{ key: "tls.mqttClients[0]", message }]);
  });

  it("rejects a service whose longest credential file makes a name too long, under the service", () => {
    const name = "s".repeat(41);
    expect(problems({ services: own(name), flows: [`${name} -> nats:4222`, `${name} -> redis:6379`] })).toEqual([
      {
        key: `services.${name}`,
        message:
          `"${name}" is too long for the Docker objects named after it: its redis-password would be ` +
          `"${name}-redis-password-<hash>", 69 characters where Docker allows 64; use a name of at most 36 characters`,
      },
    ]);
  });

  it("accepts a 41-character service that holds no files", () => {
    expect(problems({ services: own("s".repeat(41)) })).toEqual([]);
  });
});

describe("naming", () => {
  it("hashes with SHA-256, 8 hex digits unless told otherwise", () => {
    expect(shortHash("abc")).toBe("ba7816bf");
    expect(shortHash("abc", 12)).toBe("ba7816bf8f01");
  });

  it("keeps a name that fits and shortens a longer one to a prefix and its hash", () => {
    const n63 = "n".repeat(63);
    expect(fitName(n63)).toBe(n63);
    expect(fitName("abcd", 4)).toBe("abcd");
    const n64 = "n".repeat(64);
    expect(fitName(n64)).toBe(`${"n".repeat(54)}-${shortHash(n64)}`);
    expect(fitName(n64)).toHaveLength(63);
    expect(fitName("abcdefghijkl", 11)).toBe(`ab-${shortHash("abcdefghijkl")}`);
  });

  it("trims separators from the end of the prefix", () => {
    const name = `${"a".repeat(50)}-_.-${"b".repeat(20)}`;
    expect(fitName(name)).toBe(`${"a".repeat(50)}-${shortHash(name)}`);
    const inner = `${"a".repeat(51)}-b-${"c".repeat(20)}`;
    expect(fitName(inner)).toBe(`${"a".repeat(51)}-b-${shortHash(inner)}`);
  });

  it("names tier, link and egress networks and Swarm objects", () => {
    expect(tierNetworkName("edge")).toBe("iot-edge-network");
    expect(linkNetworkName("redis", "grafana")).toBe("iot-link-grafana_redis");
    expect(linkNetworkName("grafana", "redis")).toBe("iot-link-grafana_redis");
    expect(egressNetworkName("grafana")).toBe("iot-grafana-egress");
    expect(swarmObjectName("svc", "A_b.c-9/x", "h")).toBe("svc-A-b-c-9-x-h");
    const long = "t".repeat(60);
    expect(tierNetworkName(long)).toBe(fitName(`iot-${long}-network`));
    expect(tierNetworkName(long)).toHaveLength(63);
    expect(egressNetworkName(long)).toHaveLength(63);
    expect(linkNetworkName(long, "a")).toHaveLength(63);
  });
});

describe("placement constraints", () => {
  it.each([
    "node.role == manager",
    "node.role==worker",
    "  node.role  !=  Manager  ",
    "node.id == abc123",
    "node.hostname == store-1",
    "node.platform.os == linux",
    "node.platform.arch != arm64",
    "node.labels.zone == north",
    "node.labels.Zone_1 == North",
    "engine.labels.disk == ssd",
    "node.labels.a == x:y-z_w v.*()?+[]\\^$|/",
  ])("accepts %s", (text) => {
    expect(constraintProblem(text)).toBeUndefined();
  });

  it.each([
    [
      "node.role = manager",
      'must read "<attribute> == <value>" or "<attribute> != <value>", but "node.role = manager" was provided',
    ],
    ["node.role", 'must read "<attribute> == <value>" or "<attribute> != <value>", but "node.role" was provided'],
    [
      "!node.id == x",
      'must read "<attribute> == <value>" or "<attribute> != <value>", but "!node.id == x" was provided',
    ],
    ["== manager", 'must read "<attribute> == <value>" or "<attribute> != <value>", but "== manager" was provided'],
    ["node.hostnam == x", `unknown attribute "node.hostnam"; ${ATTRIBUTES}`],
    ["node.labels. == x", `unknown attribute "node.labels."; ${ATTRIBUTES}`],
    ["engine.labels. == x", `unknown attribute "engine.labels."; ${ATTRIBUTES}`],
    ["node.labels.zöne == x", `unknown attribute "node.labels.zöne"; ${ATTRIBUTES}`],
    ["xnode.labels.zone == x", `unknown attribute "xnode.labels.zone"; ${ATTRIBUTES}`],
    ["node.id == ", '"" is not a valid constraint value for node.id'],
    ["node.id == a,b", '"a,b" is not a valid constraint value for node.id'],
    ["node.labels.zone == a=b", '"a=b" is not a valid constraint value for node.labels.zone'],
    ["node.role == boss", 'node.role is "manager" or "worker", but "boss" was provided'],
    ["node.role != managers", 'node.role is "manager" or "worker", but "managers" was provided'],
  ])("rejects %s", (text, message) => {
    expect(constraintProblem(text)).toBe(message);
  });
});

describe("reserved host ports", () => {
  it("reserves Swarm's ports, and CapRover's beside it", () => {
    expect([...reservedPorts(false)]).toEqual([
      [2377, "Swarm cluster management"],
      [7946, "Swarm node gossip"],
      [4789, "Swarm overlay VXLAN"],
    ]);
    expect([...reservedPorts(true)]).toEqual([
      [2377, "Swarm cluster management"],
      [7946, "Swarm node gossip"],
      [4789, "Swarm overlay VXLAN"],
      [80, "CapRover HTTP"],
      [443, "CapRover HTTPS"],
      [3000, "CapRover dashboard"],
    ]);
  });

  it("suggests the next free port, moving a privileged one up by 8000", () => {
    const none = new Set<number>();
    const swarm = reservedPorts(false);
    expect(suggestFreePort(80, none, swarm)).toBe(8080);
    expect(suggestFreePort(1023, none, swarm)).toBe(9023);
    expect(suggestFreePort(1024, none, swarm)).toBe(1025);
    expect(suggestFreePort(80, new Set([8080, 8081]), swarm)).toBe(8082);
    expect(suggestFreePort(2376, none, swarm)).toBe(2378);
    expect(suggestFreePort(65534, none, swarm)).toBe(65535);
  });

  it("wraps around to the lowest unprivileged port, and fails when none is free", () => {
    const none = new Map<number, string>();
    expect(suggestFreePort(65535, new Set(), none)).toBe(1024);
    expect(suggestFreePort(65535, new Set([1024]), new Map([[1025, "x"]]))).toBe(1026);
    const everyUnprivileged = new Set(Array.from({ length: 65535 - 1023 }, (_, i) => 1024 + i));
    expect(() => suggestFreePort(65535, everyUnprivileged, none)).toThrow("no free host port left");
    expect(() => suggestFreePort(80, everyUnprivileged, none)).toThrow("no free host port left");
    const allButOne = new Set(everyUnprivileged);
    allButOne.delete(2000);
    expect(suggestFreePort(80, allButOne, none)).toBe(2000);
    expect(suggestFreePort(3000, allButOne, none)).toBe(2000);
  });
});
