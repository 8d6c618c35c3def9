/**
 * Test stand-in for the Pulumi `tls` provider: realises its resources in-process with real
 * keys and real X.509 (Node's crypto + @peculiar/x509), shaped like the provider's outputs,
 * so certificates the program wires into Mosquitto and HAProxy are the ones the servers load.
 */
import "reflect-metadata";
import * as crypto from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(crypto.webcrypto as any);
const subtle = crypto.webcrypto.subtle;
type CryptoKey = crypto.webcrypto.CryptoKey;
type SigningAlgorithm =
  crypto.webcrypto.Algorithm | crypto.webcrypto.EcdsaParams | crypto.webcrypto.RsaHashedImportParams;

export type TlsState = Record<string, unknown>;

/** Resource tokens this module realises. */
export const TLS_TYPES = [
  "tls:index/privateKey:PrivateKey",
  "tls:index/selfSignedCert:SelfSignedCert",
  "tls:index/certRequest:CertRequest",
  "tls:index/locallySignedCert:LocallySignedCert",
] as const;

export async function realiseTls(type: string, inputs: Record<string, any>): Promise<TlsState> {
  switch (type) {
    case "tls:index/privateKey:PrivateKey":
      return { ...inputs, ...privateKey(inputs) };
    case "tls:index/selfSignedCert:SelfSignedCert":
      return { ...inputs, ...(await selfSignedCert(inputs)) };
    case "tls:index/certRequest:CertRequest":
      return { ...inputs, ...(await certRequest(inputs)) };
    case "tls:index/locallySignedCert:LocallySignedCert":
      return { ...inputs, ...(await locallySignedCert(inputs)) };
    default:
      throw new Error(`e2e harness: unsupported tls resource type ${type}`);
  }
}

// ---------------------------------------------------------------------------------------
// Keys

const CURVES: Record<string, { node: string; web: string; ssh: string; hash: string }> = {
  P224: { node: "secp224r1", web: "P-224", ssh: "nistp224", hash: "SHA-256" },
  P256: { node: "prime256v1", web: "P-256", ssh: "nistp256", hash: "SHA-256" },
  P384: { node: "secp384r1", web: "P-384", ssh: "nistp384", hash: "SHA-384" },
  P521: { node: "secp521r1", web: "P-521", ssh: "nistp521", hash: "SHA-512" },
};

function privateKey(inputs: Record<string, any>): TlsState {
  const algorithm = String(inputs.algorithm ?? "").toUpperCase();
  let key: crypto.KeyObject;
  let privateKeyPem: string;
  if (algorithm === "RSA") {
    const rsaBits = Number(inputs.rsaBits ?? 2048);
    key = crypto.generateKeyPairSync("rsa", { modulusLength: rsaBits, publicExponent: 65537 }).privateKey;
    // The provider emits PKCS#1 for RSA and SEC1 for ECDSA, plus PKCS#8 separately.
    privateKeyPem = key.export({ type: "pkcs1", format: "pem" }) as string;
  } else if (algorithm === "ECDSA") {
    const curveName = String(inputs.ecdsaCurve ?? "P224");
    const curve = CURVES[curveName];
    if (!curve) throw new Error(`e2e harness: unsupported ecdsaCurve ${curveName}`);
    key = crypto.generateKeyPairSync("ec", { namedCurve: curve.node }).privateKey;
    privateKeyPem = key.export({ type: "sec1", format: "pem" }) as string;
  } else if (algorithm === "ED25519") {
    key = crypto.generateKeyPairSync("ed25519").privateKey;
    privateKeyPem = key.export({ type: "pkcs8", format: "pem" }) as string;
  } else {
    throw new Error(`e2e harness: unsupported private key algorithm ${inputs.algorithm}`);
  }
  const pub = crypto.createPublicKey(key);
  const sshBlob = opensshPublicBlob(key);
  const sshType = sshBlob ? readSshString(sshBlob, 0).value.toString() : "";
  return {
    algorithm,
    ecdsaCurve: inputs.ecdsaCurve ?? "P224",
    rsaBits: inputs.rsaBits ?? 2048,
    privateKeyPem,
    privateKeyPemPkcs8: key.export({ type: "pkcs8", format: "pem" }) as string,
    publicKeyPem: pub.export({ type: "spki", format: "pem" }) as string,
    publicKeyOpenssh: sshBlob ? `${sshType} ${sshBlob.toString("base64")}\n` : "",
    privateKeyOpenssh: sshBlob ? opensshPrivateKey(key, sshBlob) : "",
    publicKeyFingerprintMd5: sshBlob ? colonHex(crypto.createHash("md5").update(sshBlob).digest()) : "",
    publicKeyFingerprintSha256: sshBlob
      ? `SHA256:${crypto.createHash("sha256").update(sshBlob).digest("base64").replace(/=+$/, "")}`
      : "",
  };
}

function colonHex(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}

function sshString(b: Buffer | string): Buffer {
  const data = typeof b === "string" ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

function sshMpint(b64url: string): Buffer {
  let b = Buffer.from(b64url, "base64url");
  while (b.length > 1 && b[0] === 0 && (b[1] & 0x80) === 0) b = b.subarray(1);
  if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return sshString(b);
}

function readSshString(buf: Buffer, off: number): { value: Buffer; next: number } {
  const len = buf.readUInt32BE(off);
  return { value: buf.subarray(off + 4, off + 4 + len), next: off + 4 + len };
}

function ecCurveOf(key: crypto.KeyObject) {
  const named = key.asymmetricKeyDetails?.namedCurve;
  const curve = Object.values(CURVES).find((c) => c.node === named);
  if (!curve) throw new Error(`e2e harness: unsupported EC curve ${named}`);
  return curve;
}

/** SSH wire-format public key; P224 has no SSH form (the provider leaves it empty too). */
function opensshPublicBlob(key: crypto.KeyObject): Buffer | undefined {
  const jwk = key.export({ format: "jwk" });
  switch (key.asymmetricKeyType) {
    case "rsa":
      return Buffer.concat([sshString("ssh-rsa"), sshMpint(jwk.e!), sshMpint(jwk.n!)]);
    case "ec": {
      const curve = ecCurveOf(key);
      if (curve.ssh === "nistp224") return undefined;
      const point = Buffer.concat([
        Buffer.from([4]),
        Buffer.from(jwk.x!, "base64url"),
        Buffer.from(jwk.y!, "base64url"),
      ]);
      return Buffer.concat([sshString(`ecdsa-sha2-${curve.ssh}`), sshString(curve.ssh), sshString(point)]);
    }
    case "ed25519":
      return Buffer.concat([sshString("ssh-ed25519"), sshString(Buffer.from(jwk.x!, "base64url"))]);
    default:
      return undefined;
  }
}

/** Unencrypted openssh-key-v1 private key (what `ssh-keygen` writes without a passphrase). */
function opensshPrivateKey(key: crypto.KeyObject, pubBlob: Buffer): string {
  const jwk = key.export({ format: "jwk" });
  let fields: Buffer;
  switch (key.asymmetricKeyType) {
    case "rsa":
      fields = Buffer.concat([
        sshString("ssh-rsa"),
        sshMpint(jwk.n!),
        sshMpint(jwk.e!),
        sshMpint(jwk.d!),
        sshMpint(jwk.qi!),
        sshMpint(jwk.p!),
        sshMpint(jwk.q!),
      ]);
      break;
    case "ec": {
      const ssh = ecCurveOf(key).ssh;
      const point = readSshString(pubBlob, readSshString(pubBlob, readSshString(pubBlob, 0).next).next).value;
      fields = Buffer.concat([sshString(`ecdsa-sha2-${ssh}`), sshString(ssh), sshString(point), sshMpint(jwk.d!)]);
      break;
    }
    case "ed25519": {
      const pub = Buffer.from(jwk.x!, "base64url");
      fields = Buffer.concat([
        sshString("ssh-ed25519"),
        sshString(pub),
        sshString(Buffer.concat([Buffer.from(jwk.d!, "base64url"), pub])),
      ]);
      break;
    }
    default:
      return "";
  }
  const check = crypto.randomBytes(4);
  let priv = Buffer.concat([check, check, fields, sshString("")]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const nkeys = Buffer.alloc(4);
  nkeys.writeUInt32BE(1);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    nkeys,
    sshString(pubBlob),
    sshString(priv),
  ]);
  const b64 = body
    .toString("base64")
    .replace(/(.{70})/g, "$1\n")
    .replace(/\n$/, "");
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

interface LoadedKey {
  keyAlgorithm: "RSA" | "ECDSA" | "ED25519";
  signingAlgorithm: SigningAlgorithm;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/** Imports a PEM private key in any of the provider's formats (PKCS#1, SEC1, PKCS#8). */
async function loadKey(pem: string): Promise<LoadedKey> {
  if (!pem) throw new Error("e2e harness: a private key PEM is required");
  const key = crypto.createPrivateKey(pem);
  const pkcs8 = key.export({ type: "pkcs8", format: "der" });
  const spki = crypto.createPublicKey(key).export({ type: "spki", format: "der" });
  let alg: crypto.webcrypto.RsaHashedImportParams | crypto.webcrypto.EcKeyImportParams | crypto.webcrypto.Algorithm;
  let signingAlgorithm: SigningAlgorithm;
  let keyAlgorithm: LoadedKey["keyAlgorithm"];
  switch (key.asymmetricKeyType) {
    case "rsa":
      alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as crypto.webcrypto.RsaHashedImportParams;
      signingAlgorithm = alg;
      keyAlgorithm = "RSA";
      break;
    case "ec": {
      const curve = ecCurveOf(key);
      alg = { name: "ECDSA", namedCurve: curve.web } as crypto.webcrypto.EcKeyImportParams;
      // Same choice as Go's x509: the hash follows the curve size.
      signingAlgorithm = { name: "ECDSA", hash: curve.hash } as crypto.webcrypto.EcdsaParams;
      keyAlgorithm = "ECDSA";
      break;
    }
    case "ed25519":
      alg = { name: "Ed25519" };
      signingAlgorithm = alg;
      keyAlgorithm = "ED25519";
      break;
    default:
      throw new Error(`e2e harness: unsupported key type ${key.asymmetricKeyType}`);
  }
  const privateKey = await subtle.importKey("pkcs8", pkcs8, alg, true, ["sign"]);
  const publicKey = await subtle.importKey("spki", spki, alg, true, ["verify"]);
  return { keyAlgorithm, signingAlgorithm, privateKey, publicKey };
}

// ---------------------------------------------------------------------------------------
// Names, usages, extensions

/** Subject in Go pkix.Name order (C, ST, L, street, postalCode, O, OU, CN, serialNumber, email). */
function jsonName(subject: Record<string, any> | undefined): x509.JsonName {
  const s = subject ?? {};
  const out: x509.JsonName = [];
  const add = (attr: string, v: unknown) => {
    if (v === undefined || v === null || v === "") return;
    for (const value of Array.isArray(v) ? v : [v]) out.push({ [attr]: [String(value)] });
  };
  add("C", s.country);
  add("ST", s.province);
  add("L", s.locality);
  add("2.5.4.9", s.streetAddresses);
  add("2.5.4.17", s.postalCode);
  add("O", s.organization);
  add("OU", s.organizationalUnit);
  add("CN", s.commonName);
  add("2.5.4.5", s.serialNumber);
  add("E", s.emailAddress);
  return out;
}

const KEY_USAGES: Record<string, x509.KeyUsageFlags> = {
  digital_signature: x509.KeyUsageFlags.digitalSignature,
  content_commitment: x509.KeyUsageFlags.nonRepudiation,
  key_encipherment: x509.KeyUsageFlags.keyEncipherment,
  data_encipherment: x509.KeyUsageFlags.dataEncipherment,
  key_agreement: x509.KeyUsageFlags.keyAgreement,
  cert_signing: x509.KeyUsageFlags.keyCertSign,
  crl_signing: x509.KeyUsageFlags.cRLSign,
  encipher_only: x509.KeyUsageFlags.encipherOnly,
  decipher_only: x509.KeyUsageFlags.decipherOnly,
};

const EXT_KEY_USAGES: Record<string, string> = {
  any_extended: "2.5.29.37.0",
  server_auth: "1.3.6.1.5.5.7.3.1",
  client_auth: "1.3.6.1.5.5.7.3.2",
  code_signing: "1.3.6.1.5.5.7.3.3",
  email_protection: "1.3.6.1.5.5.7.3.4",
  ipsec_end_system: "1.3.6.1.5.5.7.3.5",
  ipsec_tunnel: "1.3.6.1.5.5.7.3.6",
  ipsec_user: "1.3.6.1.5.5.7.3.7",
  timestamping: "1.3.6.1.5.5.7.3.8",
  ocsp_signing: "1.3.6.1.5.5.7.3.9",
  microsoft_server_gated_crypto: "1.3.6.1.4.1.311.10.3.3",
  netscape_server_gated_crypto: "2.16.840.1.113730.4.1",
  microsoft_commercial_code_signing: "1.3.6.1.4.1.311.2.1.22",
  microsoft_kernel_code_signing: "1.3.6.1.4.1.311.61.1.1",
};

function usageExtensions(allowedUses: unknown, isCa: boolean, maxPathLength?: number): x509.Extension[] {
  const uses = (Array.isArray(allowedUses) ? allowedUses : []).map(String);
  let flags = 0;
  const eku: string[] = [];
  for (const use of uses) {
    if (use in KEY_USAGES) flags |= KEY_USAGES[use];
    else if (use in EXT_KEY_USAGES) eku.push(EXT_KEY_USAGES[use]);
    else throw new Error(`e2e harness: unknown allowedUses entry ${use}`);
  }
  const exts: x509.Extension[] = [];
  // As the provider (Go x509): basicConstraints always present and critical, CA flag as asked.
  const pathLen = isCa && maxPathLength !== undefined && maxPathLength >= 0 ? maxPathLength : undefined;
  exts.push(new x509.BasicConstraintsExtension(isCa, pathLen, true));
  if (flags) exts.push(new x509.KeyUsagesExtension(flags, true));
  if (eku.length) exts.push(new x509.ExtendedKeyUsageExtension(eku, false));
  return exts;
}

function sanExtension(inputs: Record<string, any>): x509.Extension | undefined {
  const names: x509.JsonGeneralName[] = [
    ...((inputs.dnsNames ?? []) as string[]).map((value) => ({ type: "dns" as const, value })),
    ...((inputs.ipAddresses ?? []) as string[]).map((value) => ({ type: "ip" as const, value })),
    ...((inputs.uris ?? []) as string[]).map((value) => ({ type: "url" as const, value })),
  ];
  return names.length ? new x509.SubjectAlternativeNameExtension(names, false) : undefined;
}

function randomSerial(): string {
  const b = crypto.randomBytes(16);
  b[0] &= 0x7f; // positive INTEGER
  if (b[0] === 0) b[0] = 1;
  return b.toString("hex");
}

function validity(inputs: Record<string, any>) {
  const hours = Number(inputs.validityPeriodHours);
  if (!Number.isFinite(hours) || hours <= 0) throw new Error("e2e harness: validityPeriodHours must be > 0");
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + hours * 3600_000);
  const early = Number(inputs.earlyRenewalHours ?? 0);
  return {
    notBefore,
    notAfter,
    state: {
      validityStartTime: notBefore.toISOString().replace(/\.\d{3}Z$/, "Z"),
      validityEndTime: notAfter.toISOString().replace(/\.\d{3}Z$/, "Z"),
      readyForRenewal: Date.now() >= notAfter.getTime() - early * 3600_000,
      earlyRenewalHours: early,
    },
  };
}

// ---------------------------------------------------------------------------------------
// Resources

async function selfSignedCert(inputs: Record<string, any>): Promise<TlsState> {
  const key = await loadKey(inputs.privateKeyPem);
  const isCa = Boolean(inputs.isCaCertificate);
  const v = validity(inputs);
  const ski = await x509.SubjectKeyIdentifierExtension.create(key.publicKey);
  const extensions = [...usageExtensions(inputs.allowedUses, isCa, inputs.maxPathLength), ski];
  // Self-signed: AKI names its own key, so chains built by openssl/Go match by key id.
  extensions.push(new x509.AuthorityKeyIdentifierExtension(ski.keyId));
  const san = sanExtension(inputs);
  if (san) extensions.push(san);
  const name = jsonName(inputs.subject);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: name,
    issuer: name,
    notBefore: v.notBefore,
    notAfter: v.notAfter,
    signingAlgorithm: key.signingAlgorithm,
    publicKey: key.publicKey,
    signingKey: key.privateKey,
    extensions,
  });
  return {
    certPem: cert.toString("pem") + "\n",
    keyAlgorithm: key.keyAlgorithm,
    isCaCertificate: isCa,
    // The state holds what the program planned (schema default false); the certificate carries both key
    // identifiers either way, so chains built by OpenSSL and Go match by key id.
    setSubjectKeyId: Boolean(inputs.setSubjectKeyId),
    setAuthorityKeyId: Boolean(inputs.setAuthorityKeyId),
    ...v.state,
  };
}

async function certRequest(inputs: Record<string, any>): Promise<TlsState> {
  const key = await loadKey(inputs.privateKeyPem);
  const san = sanExtension(inputs);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: jsonName(inputs.subject),
    keys: { privateKey: key.privateKey, publicKey: key.publicKey },
    signingAlgorithm: key.signingAlgorithm,
    extensions: san ? [san] : [],
  });
  return { certRequestPem: csr.toString("pem") + "\n", keyAlgorithm: key.keyAlgorithm };
}

async function locallySignedCert(inputs: Record<string, any>): Promise<TlsState> {
  const csr = new x509.Pkcs10CertificateRequest(String(inputs.certRequestPem));
  if (!(await csr.verify())) throw new Error("e2e harness: certificate request signature does not verify");
  const ca = new x509.X509Certificate(String(inputs.caCertPem));
  const caKey = await loadKey(inputs.caPrivateKeyPem);
  // The CA key must be the CA certificate's key, or the chain would never verify.
  const caSpki = Buffer.from(await subtle.exportKey("spki", caKey.publicKey));
  const certSpki = Buffer.from(ca.publicKey.rawData);
  if (!caSpki.equals(certSpki)) throw new Error("e2e harness: caPrivateKeyPem does not match caCertPem");
  const isCa = Boolean(inputs.isCaCertificate);
  const v = validity(inputs);
  const leafKey = await csr.publicKey.export();
  const extensions = [...usageExtensions(inputs.allowedUses, isCa, inputs.maxPathLength)];
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(leafKey));
  const caSki = ca.getExtension(x509.SubjectKeyIdentifierExtension);
  extensions.push(
    caSki
      ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId)
      : await x509.AuthorityKeyIdentifierExtension.create(caKey.publicKey),
  );
  // The provider copies the SANs of the request into the certificate.
  const sanExt = csr.getExtension("2.5.29.17");
  if (sanExt) {
    const san = new x509.SubjectAlternativeNameExtension(sanExt.rawData);
    extensions.push(new x509.SubjectAlternativeNameExtension(san.names.toJSON(), false));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: csr.subjectName,
    issuer: ca.subjectName,
    notBefore: v.notBefore,
    notAfter: v.notAfter,
    signingAlgorithm: caKey.signingAlgorithm,
    publicKey: leafKey,
    signingKey: caKey.privateKey,
    extensions,
  });
  return {
    certPem: cert.toString("pem") + "\n",
    caKeyAlgorithm: caKey.keyAlgorithm,
    isCaCertificate: isCa,
    ...v.state,
  };
}
