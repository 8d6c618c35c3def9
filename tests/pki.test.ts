/** The certificate plan: which leaves the stack issues, for which names and uses, and for how long. */
import { CA_USES, LeafPlan, LEAF_USES, mqttClientCertName, planCertificates } from "../model/pki";
import { topologyFrom } from "./helpers";

describe("planCertificates", () => {
  // Built in each test, not once per file: a fixture built at load time runs the model outside any test.
  let leaves: LeafPlan[];
  beforeEach(() => {
    leaves = planCertificates(
      topologyFrom({
        environment: "prod",
        domain: "energy.example.com",
        tls: { validityDays: 90, earlyRenewalDays: 20 },
      }),
    );
  });
  const leaf = (name: string) => leaves.find((l) => l.name === name)!;

  it("issues the broker, the gateway and each MQTT client a leaf, in that order", () => {
    expect(leaves.map((l) => [l.name, l.usage])).toEqual([
      ["mosquitto", "server"],
      ["gateway", "server"],
      ["mqtt-client-node-red", "client"],
      ["mqtt-client-mqtt-exporter", "client"],
    ]);
  });

  it("names the broker's certificate for devices' host name, the service, its aliases and loopback", () => {
    expect(leaf("mosquitto")).toMatchObject({
      commonName: "mqtt.energy.example.com",
      dnsNames: ["mqtt.energy.example.com", "mosquitto", "mqtt", "broker", "localhost"],
    });
  });

  it("names the gateway's certificate for the domain, every route host, the service and its aliases", () => {
    expect(leaf("gateway")).toMatchObject({
      commonName: "energy.example.com",
      dnsNames: [
        "energy.example.com",
        "grafana.energy.example.com",
        "node-red.energy.example.com",
        "influxdb.energy.example.com",
        "gateway",
        "gateway-internal",
      ],
    });
  });

  it("lists a name once even when two sources give it", () => {
    const same = topologyFrom({ environment: "dev", tls: { mqttHostname: "mosquitto" } });
    expect(planCertificates(same).find((l) => l.name === "mosquitto")!.dnsNames).toEqual([
      "mosquitto",
      "mqtt",
      "broker",
      "localhost",
    ]);
  });

  it("gives client certificates the client's identity as common name and no DNS names", () => {
    expect(leaf(mqttClientCertName("node-red"))).toMatchObject({ commonName: "node-red", dnsNames: [] });
    expect(mqttClientCertName("meter-7")).toBe("mqtt-client-meter-7");
  });

  it("makes every leaf valid for validityDays and renew earlyRenewalDays before the end", () => {
    for (const l of leaves) expect(l).toMatchObject({ validityHours: 90 * 24, earlyRenewalHours: 20 * 24 });
  });

  it("lets only the CA sign, and servers and clients authenticate as what they are", () => {
    expect(CA_USES).toContain("cert_signing");
    expect(LEAF_USES.server).toEqual(["digital_signature", "key_encipherment", "server_auth"]);
    expect(LEAF_USES.client).toEqual(["digital_signature", "key_encipherment", "client_auth"]);
  });
});

describe("planCertificates follows the model", () => {
  const dev = () => topologyFrom({ environment: "dev" });

  it("issues no broker certificate without a broker, and no gateway certificate without a gateway", () => {
    const t = dev();
    const noBroker = planCertificates({ ...t, services: t.services.filter((s) => s.app !== "mosquitto") });
    expect(noBroker.map((l) => l.name)).toEqual(["gateway", "mqtt-client-node-red", "mqtt-client-mqtt-exporter"]);
    const noGateway = planCertificates({ ...t, services: t.services.filter((s) => s.app !== "haproxy") });
    expect(noGateway.map((l) => l.name)).toEqual(["mosquitto", "mqtt-client-node-red", "mqtt-client-mqtt-exporter"]);
  });

  it("names server certificates after the service that serves them, with its aliases", () => {
    const t = dev();
    const renamed = {
      ...t,
      services: t.services.map((s) =>
        s.app === "mosquitto"
          ? { ...s, name: "broker-1", aliases: ["mq"] }
          : s.app === "haproxy"
            ? { ...s, name: "edge", aliases: [] }
            : s,
      ),
    };
    const leaves = planCertificates(renamed);
    expect(leaves.find((l) => l.name === "broker-1")!.dnsNames).toEqual([
      t.tls.mqttHostname,
      "broker-1",
      "mq",
      "localhost",
    ]);
    expect(leaves.find((l) => l.name === "edge")!.dnsNames).toEqual([
      t.domain,
      ...t.routes.map((r) => `${r.subdomain}.${t.domain}`),
      "edge",
    ]);
  });

  it("issues a client certificate for each listed MQTT client, and none for a client not listed", () => {
    const t = dev();
    const leaves = planCertificates({ ...t, tls: { ...t.tls, mqttClients: ["meter-7"] } });
    expect(leaves.filter((l) => l.usage === "client")).toEqual([
      {
        name: "mqtt-client-meter-7",
        commonName: "meter-7",
        dnsNames: [],
        usage: "client",
        validityHours: t.tls.validityDays * 24,
        earlyRenewalHours: t.tls.earlyRenewalDays * 24,
      },
    ]);
  });

  it("lets the CA sign certificates and revocation lists, and no leaf sign anything", () => {
    expect([...CA_USES]).toEqual(["cert_signing", "crl_signing", "digital_signature"]);
    for (const uses of Object.values(LEAF_USES)) expect(uses.filter((u) => /signing/.test(u))).toEqual([]);
  });
});
