/** The certificate plan: which leaves the stack issues, for which names and uses, and for how long. */
import { CA_USES, LEAF_USES, mqttClientCertName, planCertificates } from "../model/pki";
import { topologyFrom } from "./helpers";

describe("planCertificates", () => {
  const t = topologyFrom({
    environment: "prod",
    domain: "energy.example.com",
    tls: { validityDays: 90, earlyRenewalDays: 20 },
  });
  const leaves = planCertificates(t);
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
