import { renderHaproxyConfig, SERVER_SLOTS } from "../model/render/haproxy";
import { Topology } from "../model/types";
import { apiServiceConfig, topologyFrom } from "./helpers";

describe("the generated HAProxy gateway configuration", () => {
  let t: Topology;
  let cfg: string;
  beforeEach(() => {
    t = topologyFrom({
      environment: "prod",
      domain: "energy.example.com",
      adminCidrs: ["10.50.0.0/24", "192.0.2.0/28"],
    });
    cfg = renderHaproxyConfig(t);
  });

  it("terminates TLS with the gateway certificate and redirects HTTP to HTTPS", () => {
    expect(cfg).toMatch(/bind :8443 ssl crt \/run\/secrets\/gateway\.pem/);
    expect(cfg).toMatch(/frontend http\n {2}bind :8080\n {2}http-request redirect scheme https code 301/);
  });

  it("routes each host to its backend and restricts admin routes to the CIDR allowlist", () => {
    for (const route of t.routes) {
      const host = `${route.subdomain}.energy.example.com`;
      expect(cfg).toContain(`-i ${host}`);
      const deny = `http-request deny deny_status 403 if host_${route.subdomain.replace(/-/g, "_")} !admin_src`;
      if (route.admin) expect(cfg).toContain(deny);
      else expect(cfg).not.toContain(deny);
    }
    expect(cfg).toContain("acl admin_src src 10.50.0.0/24 192.0.2.0/28");
  });

  it("sends HSTS on every HTTPS answer, the gateway's own refusals included", () => {
    expect(cfg).toMatch(
      /frontend https\n(?: {2}.*\n)* {2}http-after-response set-header Strict-Transport-Security "max-age=31536000"\n/,
    );
    expect(cfg).not.toContain("http-response set-header Strict-Transport-Security");
  });

  it("lets a request waiting on a server that died be redispatched instead of cut when the server is marked down", () => {
    expect(cfg).toMatch(/default-server inter 2s fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down\n/);
    expect(cfg).not.toContain("shutdown-sessions");
  });

  it("writes every http-request rule before the first use_backend, the order HAProxy runs them in", () => {
    const frontend = cfg.split("frontend https\n")[1].split("\n\n")[0].split("\n");
    const lastRequestRule = Math.max(...frontend.map((l, i) => (l.trim().startsWith("http-request") ? i : -1)));
    const firstUseBackend = frontend.findIndex((l) => l.trim().startsWith("use_backend"));
    expect(firstUseBackend).toBeGreaterThan(lastRequestRule);
  });

  it("redirects HTTP to the HTTPS port the gateway is published on", () => {
    expect(cfg).toContain("http-request redirect scheme https code 301");
    const beside = renderHaproxyConfig(
      topologyFrom({
        environment: "dev",
        caproverCoexistence: true,
        services: { gateway: { publish: { https: 8443, http: 8080 } } },
      }),
    );
    expect(beside).toMatch(
      /frontend http\n {2}bind :8080\n {2}http-request redirect location https:\/\/%\[req\.hdr\(host\),field\(1,:\)\]:8443%\[capture\.req\.uri\] code 301\n/,
    );
    expect(beside).not.toContain("redirect scheme");
  });

  it("opens a server connection per request, so a lost node costs a connect timeout, not a server timeout", () => {
    expect(cfg).toMatch(/^ {2}http-reuse never$/m);
    expect(cfg).toMatch(/^ {2}timeout connect 3s$/m);
  });

  it("discovers every task through Docker's DNS with health checks, retries and redispatch", () => {
    expect(cfg).toMatch(/resolvers docker\n {2}nameserver swarm 127\.0\.0\.11:53/);
    expect(cfg).toContain(
      `server-template grafana ${SERVER_SLOTS} tasks.grafana:3000 check resolvers docker init-addr none`,
    );
    expect(cfg).toMatch(/backend grafana_3000\n {2}balance roundrobin\n {2}option httpchk GET \/api\/health/);
    expect(cfg).toMatch(/retries 3\n {2}option redispatch 1\n {2}retry-on all-retryable-errors/);
  });

  it("logs every request as one JSON object and serves health and metrics", () => {
    const format = /log-format '(\{.*\})'/.exec(cfg)![1];
    expect(format).toMatch(/"status":%ST/);
    expect(format).toMatch(/"backend":"%b"/);
    expect(cfg).toContain("monitor-uri /healthz");
    expect(cfg).toContain("http-request use-service prometheus-exporter if { path /metrics }");
  });

  it("routes a configured API service the same way", () => {
    const withApi = topologyFrom({ environment: "dev", ...apiServiceConfig });
    const text = renderHaproxyConfig(withApi);
    expect(text).toContain("use_backend api_8000 if host_api");
    expect(text).toMatch(/backend api_8000\n {2}balance roundrobin\n {2}option httpchk GET \/healthz/);
  });
});
