/**
 * The e2e cluster's gateway client (e2e/cluster/client.ts) against HTTPS servers on loopback
 * addresses: it moves to the next address only when the TCP connect fails, counts everything
 * after a connection as the request's outcome, and starts a fault only while no request is in flight.
 */
import * as https from "node:https";
import * as net from "node:net";
import { GatewayClient } from "../e2e/cluster/client";
import { realiseTls } from "../e2e/harness/tls";

const HOST = "grafana.iot.test";
let ca: string;
let cert: { key: string; cert: string };

beforeAll(async () => {
  const caKey = await realiseTls("tls:index/privateKey:PrivateKey", { algorithm: "ECDSA", ecdsaCurve: "P256" });
  const caCert = await realiseTls("tls:index/selfSignedCert:SelfSignedCert", {
    privateKeyPem: caKey.privateKeyPem,
    subject: { commonName: "client test CA" },
    isCaCertificate: true,
    validityPeriodHours: 1,
    allowedUses: ["cert_signing"],
  });
  const key = await realiseTls("tls:index/privateKey:PrivateKey", { algorithm: "ECDSA", ecdsaCurve: "P256" });
  const csr = await realiseTls("tls:index/certRequest:CertRequest", {
    privateKeyPem: key.privateKeyPem,
    subject: { commonName: HOST },
    dnsNames: [HOST],
  });
  const leaf = await realiseTls("tls:index/locallySignedCert:LocallySignedCert", {
    certRequestPem: csr.certRequestPem,
    caPrivateKeyPem: caKey.privateKeyPem,
    caCertPem: caCert.certPem,
    validityPeriodHours: 1,
    allowedUses: ["digital_signature", "server_auth"],
  });
  ca = String(caCert.certPem);
  cert = { key: String(key.privateKeyPem), cert: String(leaf.certPem) };
});

type Handler = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void;

/** An HTTPS server on `address` (a loopback address) and a free port, or the given port. */
async function serve(address: string, handler: Handler, port = 0): Promise<https.Server> {
  const server = https.createServer({ ...cert }, handler);
  await new Promise<void>((resolve) => server.listen(port, address, resolve));
  return server;
}

const portOf = (s: https.Server) => (s.address() as net.AddressInfo).port;
const close = (s: https.Server) => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())));

const ok: Handler = (_req, res) => {
  res.setHeader("X-Served-By", "replica-a");
  res.end("ok");
};

function client(
  addresses: string[],
  port: number,
  extra: Partial<ConstructorParameters<typeof GatewayClient>[0]> = {},
) {
  return new GatewayClient({ addresses, port, host: HOST, path: "/api/health", ca, connectTimeoutMs: 500, ...extra });
}

describe("the gateway client of the e2e cluster", () => {
  it("skips an address that refuses the connection and is served by the next", async () => {
    const s = await serve("127.0.0.2", ok);
    const r = await client(["127.0.0.3", "127.0.0.2"], portOf(s)).request();
    await close(s);
    expect(r).toMatchObject({ ok: true, status: 200, address: "127.0.0.2", servedBy: "replica-a" });
    expect(r.skipped).toEqual(["127.0.0.3: ECONNREFUSED"]);
  });

  it("counts an answer other than 200 as a failed request, without trying another address", async () => {
    const bad = await serve("127.0.0.2", (_req, res) => ((res.statusCode = 503), res.end()));
    const good = await serve("127.0.0.3", ok, portOf(bad));
    const r = await client(["127.0.0.2", "127.0.0.3"], portOf(bad)).request();
    await Promise.all([close(bad), close(good)]);
    expect(r).toMatchObject({ ok: false, status: 503, address: "127.0.0.2", error: "HTTP 503", skipped: [] });
  });

  it("counts a connection cut after the request was sent as a failed request", async () => {
    const s = await serve("127.0.0.2", (req) => req.socket.destroy());
    const r = await client(["127.0.0.2"], portOf(s)).request();
    await close(s);
    expect(r.ok).toBe(false);
    expect(r.address).toBe("127.0.0.2");
    expect(r.error).toMatch(/socket hang up|ECONNRESET/);
  });

  it("fails a request no address takes, naming why each was skipped", async () => {
    const probe = await serve("127.0.0.2", ok);
    const port = portOf(probe);
    await close(probe);
    const r = await client(["127.0.0.2", "127.0.0.3"], port).request();
    expect(r).toMatchObject({ ok: false, error: "no address took the connection" });
    expect(r.skipped).toEqual(["127.0.0.2: ECONNREFUSED", "127.0.0.3: ECONNREFUSED"]);
  });

  it("starts with the next address on each request, as DNS round-robin rotates them", async () => {
    const a = await serve("127.0.0.2", ok);
    const b = await serve("127.0.0.3", ok, portOf(a));
    const c = client(["127.0.0.2", "127.0.0.3"], portOf(a));
    const used = [(await c.request()).address, (await c.request()).address, (await c.request()).address];
    await Promise.all([close(a), close(b)]);
    expect(used).toEqual(["127.0.0.2", "127.0.0.3", "127.0.0.2"]);
  });

  it("runs an action only while no request is in flight, and holds requests back meanwhile", async () => {
    let open = 0;
    const s = await serve("127.0.0.2", (_req, res) => {
      open++;
      setTimeout(() => {
        open--;
        ok(_req, res);
      }, 100);
    });
    const c = client(["127.0.0.2"], portOf(s), { users: 3, pauseMs: 0 });
    c.start();
    await new Promise((r) => setTimeout(r, 150));
    const seen = await c.between(async () => {
      const atStart = open;
      await new Promise((r) => setTimeout(r, 200));
      return { atStart, during: open };
    });
    await c.stop();
    await close(s);
    expect(seen).toEqual({ atStart: 0, during: 0 });
    expect(c.records.length).toBeGreaterThan(3);
    expect(c.records.every((r) => r.ok)).toBe(true);
  });
});
