import {
  limitCertificateValidity,
  requireEncryptedOverlayNetworks,
  requireLeafCertificateSans,
  requireLeafCertificateUsage,
  requireMqttClientCertificates,
  requirePrivateKeysInSecrets,
  requireStrongPrivateKeys,
  restrictCertSigningToCa,
} from "../../policies/tls";
import { UNKNOWN_STRING_SENTINEL } from "../../policies/lib/values";
import {
  base64,
  byName,
  caCert,
  certRequest,
  changeIn,
  container,
  edit,
  happyStack,
  leafCert,
  MOSQUITTO_CONF,
  network,
  privateKey,
  secret,
  service,
  serviceConfig,
  urnOf,
} from "./fixtures";
import { assertHasViolation, assertNoViolations, runResourcePolicy, runStackPolicy } from "./helpers";

const KEY_PEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n";

describe("require-encrypted-overlay-networks", () => {
  it("passes for an encrypted overlay", async () => {
    assertNoViolations(await runResourcePolicy(requireEncryptedOverlayNetworks, network("backend")));
  });

  it("fails when an overlay has no encrypted option", async () => {
    const r = edit(network("backend"), (p) => (p.options = {}));
    assertHasViolation(
      await runResourcePolicy(requireEncryptedOverlayNetworks, r),
      'overlay network "backend" is not encrypted',
    );
  });

  it('fails when the option reads "false" (Docker would encrypt, but the intent is unclear)', async () => {
    const r = edit(network("backend"), (p) => (p.options = { encrypted: "false" }));
    assertHasViolation(await runResourcePolicy(requireEncryptedOverlayNetworks, r), 'sets encrypted="false"');
  });

  it("does not apply to local bridge networks", async () => {
    const r = edit(network("local"), (p) => {
      p.driver = "bridge";
      p.options = {};
    });
    assertNoViolations(await runResourcePolicy(requireEncryptedOverlayNetworks, r));
  });
});

describe("require-strong-private-keys", () => {
  it("passes for ECDSA P-256", async () => {
    assertNoViolations(await runResourcePolicy(requireStrongPrivateKeys, privateKey("k")));
  });

  it("passes for RSA 4096 and Ed25519", async () => {
    assertNoViolations(
      await runResourcePolicy(
        requireStrongPrivateKeys,
        edit(privateKey("k"), (p) => Object.assign(p, { algorithm: "RSA", rsaBits: 4096 })),
      ),
    );
    assertNoViolations(
      await runResourcePolicy(
        requireStrongPrivateKeys,
        edit(privateKey("k"), (p) => (p.algorithm = "ED25519")),
      ),
    );
  });

  it("fails for ECDSA without a curve (the provider defaults to P224)", async () => {
    const r = edit(privateKey("k"), (p) => delete p.ecdsaCurve);
    assertHasViolation(await runResourcePolicy(requireStrongPrivateKeys, r), 'ECDSA key "k" uses curve P224');
  });

  it("fails for RSA 1024", async () => {
    const r = edit(privateKey("k"), (p) => Object.assign(p, { algorithm: "RSA", rsaBits: 1024 }));
    assertHasViolation(
      await runResourcePolicy(requireStrongPrivateKeys, r),
      'RSA key "k" has 1024 bits; at least 2048 are required',
    );
  });

  it("fails for RSA 2048 when the config asks for 3072", async () => {
    const r = edit(privateKey("k"), (p) => Object.assign(p, { algorithm: "RSA", rsaBits: 2048 }));
    assertHasViolation(await runResourcePolicy(requireStrongPrivateKeys, r, { minRsaBits: 3072 }), "at least 3072");
  });
});

describe("limit-certificate-validity", () => {
  const csr = certRequest("csr", ["app.example.com"]);

  it("passes for a one-year leaf and a ten-year CA", async () => {
    assertNoViolations(await runResourcePolicy(limitCertificateValidity, leafCert("leaf", csr)));
    assertNoViolations(await runResourcePolicy(limitCertificateValidity, caCert()));
  });

  it("fails when a leaf is valid for more than 397 days", async () => {
    const r = edit(leafCert("leaf", csr), (p) => (p.validityPeriodHours = 24 * 825));
    assertHasViolation(
      await runResourcePolicy(limitCertificateValidity, r),
      'leaf certificate "leaf" is valid for 825 days (19800 hours); the maximum is 397 days',
    );
  });

  it("fails when a leaf exceeds a stricter configured maximum", async () => {
    assertHasViolation(
      await runResourcePolicy(limitCertificateValidity, leafCert("leaf", csr), { maxLeafValidityDays: 90 }),
      "the maximum is 90 days",
    );
  });

  it("fails when a self-signed leaf lives too long", async () => {
    const r = edit(caCert("selfsigned"), (p) =>
      Object.assign(p, { isCaCertificate: false, allowedUses: ["server_auth"], validityPeriodHours: 24 * 3650 }),
    );
    assertHasViolation(await runResourcePolicy(limitCertificateValidity, r), 'leaf certificate "selfsigned"');
  });

  it("fails when the CA outlives its maximum", async () => {
    const r = edit(caCert(), (p) => (p.validityPeriodHours = 24 * 365 * 30));
    assertHasViolation(await runResourcePolicy(limitCertificateValidity, r), 'CA certificate "ca"');
  });
});

describe("require-leaf-certificate-usage", () => {
  const csr = certRequest("csr", ["app.example.com"]);

  it("passes for server and client leaves", async () => {
    assertNoViolations(await runResourcePolicy(requireLeafCertificateUsage, leafCert("server", csr)));
    assertNoViolations(await runResourcePolicy(requireLeafCertificateUsage, leafCert("client", csr, "client_auth")));
  });

  it("fails when a leaf has neither server_auth nor client_auth", async () => {
    const r = edit(leafCert("leaf", csr), (p) => (p.allowedUses = ["digital_signature", "key_encipherment"]));
    assertHasViolation(await runResourcePolicy(requireLeafCertificateUsage, r), "neither server_auth nor client_auth");
  });

  it("does not apply to the CA", async () => {
    assertNoViolations(await runResourcePolicy(requireLeafCertificateUsage, caCert()));
  });
});

describe("require-leaf-certificate-sans", () => {
  it("passes when every server certificate's request names its hosts", async () => {
    assertNoViolations(await runStackPolicy(requireLeafCertificateSans, happyStack()));
  });

  it("fails when a server certificate's request has no SANs", async () => {
    const stack = changeIn(happyStack(), "broker-csr", (r) => edit(r, (p) => (p.dnsNames = [])));
    const violations = await runStackPolicy(requireLeafCertificateSans, stack);
    assertHasViolation(
      violations,
      'server certificate "broker-cert" has no subject alternative names (its request "broker-csr" sets no dnsNames',
    );
    expect(violations[0].urn).toBe(urnOf(byName(stack, "broker-cert")));
  });

  it("finds the request by its PEM when the engine recorded no property dependencies", async () => {
    const stack = changeIn(
      changeIn(happyStack(), "broker-csr", (r) => edit(r, (p) => (p.dnsNames = []))),
      "broker-cert",
      (r) => ({ ...r, propertyDependencies: {}, dependencies: [] }),
    );
    assertHasViolation(await runStackPolicy(requireLeafCertificateSans, stack), "has no subject alternative names");
  });

  it("passes for a client certificate without SANs", async () => {
    const csr = certRequest("client-csr", []);
    assertNoViolations(await runStackPolicy(requireLeafCertificateSans, [csr, leafCert("client", csr, "client_auth")]));
  });
});

describe("restrict-cert-signing-to-ca", () => {
  const csr = certRequest("csr", ["app.example.com"]);

  it("passes for the CA and a server leaf", async () => {
    assertNoViolations(await runResourcePolicy(restrictCertSigningToCa, caCert()));
    assertNoViolations(await runResourcePolicy(restrictCertSigningToCa, leafCert("leaf", csr)));
  });

  it("fails when a leaf allows cert_signing", async () => {
    const r = edit(leafCert("leaf", csr), (p) => p.allowedUses.push("cert_signing"));
    assertHasViolation(
      await runResourcePolicy(restrictCertSigningToCa, r),
      'leaf certificate "leaf" allows cert_signing',
    );
  });

  it("fails when a locally signed certificate is itself a CA", async () => {
    const r = edit(leafCert("intermediate", csr), (p) => (p.isCaCertificate = true));
    assertHasViolation(await runResourcePolicy(restrictCertSigningToCa, r), "is itself a CA");
  });

  it("fails when a self-signed certificate signs without being the CA", async () => {
    const r = edit(caCert("rogue"), (p) => (p.isCaCertificate = false));
    assertHasViolation(
      await runResourcePolicy(restrictCertSigningToCa, r),
      'self-signed certificate "rogue" allows cert_signing without being the CA',
    );
  });
});

describe("require-private-keys-in-secrets", () => {
  it("passes when keys are Docker secrets and configs hold certificates", async () => {
    assertNoViolations(await runStackPolicy(requirePrivateKeysInSecrets, happyStack()));
  });

  it("fails when a service config holds a private key", async () => {
    const stack = [...happyStack(), serviceConfig("broker-key-config", KEY_PEM)];
    assertHasViolation(
      await runStackPolicy(requirePrivateKeysInSecrets, stack),
      'service config "broker-key-config" holds a private key',
    );
  });

  it("fails during a preview when a config's unknown data comes from a private key", async () => {
    const config = {
      ...edit(serviceConfig("broker-key-config", ""), (p) => (p.data = UNKNOWN_STRING_SENTINEL)),
      propertyDependencies: { data: [urnOf(privateKey("broker-key"))] },
    };
    assertHasViolation(
      await runStackPolicy(requirePrivateKeysInSecrets, [...happyStack(), config]),
      'is built from the output of private key "broker-key"',
    );
  });

  it("passes during a preview when a config's unknown data comes from a certificate", async () => {
    const config = {
      ...edit(serviceConfig("broker-cert-config-2", ""), (p) => (p.data = UNKNOWN_STRING_SENTINEL)),
      propertyDependencies: { data: [urnOf(byName(happyStack(), "broker-cert"))] },
    };
    assertNoViolations(await runStackPolicy(requirePrivateKeysInSecrets, [...happyStack(), config]));
  });

  it("fails when a service carries a private key in its environment", async () => {
    const stack = changeIn(happyStack(), "svc-app", (r) =>
      edit(r, (p) => (p.taskSpec.containerSpec.env.MQTT_CLIENT_KEY_PEM = KEY_PEM)),
    );
    assertHasViolation(
      await runStackPolicy(requirePrivateKeysInSecrets, stack),
      'service "app" carries a private key in environment variable MQTT_CLIENT_KEY_PEM',
    );
  });

  it("fails when a container uploads a private key into its filesystem", async () => {
    const r = edit(
      container("legacy", "backend"),
      (p) => (p.uploads = [{ file: "/certs/key.pem", contentBase64: base64(KEY_PEM) }]),
    );
    assertHasViolation(
      await runStackPolicy(requirePrivateKeysInSecrets, [r]),
      'container "legacy" uploads a private key to /certs/key.pem',
    );
  });

  it("fails during a preview when a container's unknown environment comes from a private key", async () => {
    const r = {
      ...edit(container("legacy", "backend"), (p) => p.envs.push(UNKNOWN_STRING_SENTINEL)),
      propertyDependencies: { envs: [urnOf(privateKey("broker-key"))] },
    };
    assertHasViolation(
      await runStackPolicy(requirePrivateKeysInSecrets, [privateKey("broker-key"), r]),
      'container "legacy" builds its environment from private key "broker-key"',
    );
  });

  it("passes for a service that points at its key file, a Docker secret holding the key", async () => {
    const key = privateKey("app-key");
    const keyFile = { ...secret("app-mqtt-client-key", KEY_PEM), propertyDependencies: { data: [urnOf(key)] } };
    const app = edit(service("app", { networks: [] }), (p) => {
      p.taskSpec.containerSpec.env.MQTT_KEY_FILE = "/run/secrets/app-mqtt-client.key";
      p.taskSpec.containerSpec.secrets = [
        { secretName: "app-mqtt-client-key", fileName: "/run/secrets/app-mqtt-client.key", fileMode: 0o400 },
      ];
    });
    assertNoViolations(await runStackPolicy(requirePrivateKeysInSecrets, [key, keyFile, app]));
  });
});

describe("require-mqtt-client-certificates", () => {
  const conf = (change: (text: string) => string = (t) => t) => serviceConfig("mosquitto-conf", change(MOSQUITTO_CONF));

  it("passes when the TLS listener requires client certificates", async () => {
    assertNoViolations(await runResourcePolicy(requireMqttClientCertificates, conf()));
  });

  it("fails when the TLS listener sets require_certificate false", async () => {
    const r = conf((t) => t.replace("require_certificate true", "require_certificate false"));
    assertHasViolation(
      await runResourcePolicy(requireMqttClientCertificates, r),
      'service config "mosquitto-conf" accepts TLS clients without a client certificate on MQTT listener 8883 on all interfaces (line 8)',
    );
  });

  it("fails when require_certificate is left to Mosquitto's default (false)", async () => {
    const r = conf((t) => t.replace("require_certificate true\n", ""));
    assertHasViolation(await runResourcePolicy(requireMqttClientCertificates, r), "listener 8883");
  });

  it("passes for a TLS listener on loopback and for a plaintext one (disallow-plaintext-mqtt's concern)", async () => {
    const loopbackTls = conf((t) => `${t}listener 8884 127.0.0.1\ncertfile /c.crt\nkeyfile /k.key\n`);
    assertNoViolations(await runResourcePolicy(requireMqttClientCertificates, loopbackTls));
    const plaintext = conf((t) => `${t}listener 1884\n`);
    assertNoViolations(await runResourcePolicy(requireMqttClientCertificates, plaintext));
  });
});
