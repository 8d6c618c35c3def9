/**
 * Gateway routes: each reaches a service the gateway has a declared flow to, on a port that speaks HTTP (the
 * gateway forwards plain HTTP inside the overlay). A subdomain is served once: a stack route may take over a
 * reference route's subdomain only to serve the same service differently (another port, admin or not), never
 * to send its users elsewhere. A UI that administers the stack (the Node-RED editor runs code, the InfluxDB UI
 * holds every token) stays behind the admin allowlist unless the route sets `publicAdminUi: true`.
 */
import { referenceRoutes } from "./catalog";
import { StackConfig } from "./config";
import { serviceRunning } from "./lookup";
import { AppName, Topology } from "./types";
import { Report } from "./validateServices";

/** Applications whose web UI administers the stack. */
export const ADMIN_UI_APPS: ReadonlySet<AppName> = new Set<AppName>(["node-red", "influxdb"]);

export function checkRoutes(config: StackConfig, t: Topology, report: Report): void {
  const gateway = serviceRunning(t, "haproxy")?.name ?? "gateway";
  const services = new Map(t.services.map((s) => [s.name, s]));
  config.routes.forEach((route, i) => {
    const reference = referenceRoutes.find((r) => r.subdomain === route.subdomain && services.has(r.service));
    if (reference && reference.service !== route.service) {
      report(
        ["routes", i, "subdomain"],
        `"${route.subdomain}" is the reference route to ${reference.service}; a route may serve it only to ${reference.service}, not to ${route.service}`,
      );
    }
    const service = services.get(route.service);
    if (!service) {
      report(["routes", i, "service"], `unknown service "${route.service}"`);
      return;
    }
    const target = service.ports.find((p) => p.port === route.port);
    if (target?.appProtocol !== "http") {
      const http = service.ports.filter((p) => p.appProtocol === "http").map((p) => `${p.port} (${p.name})`);
      report(
        ["routes", i, "port"],
        `the gateway forwards plain HTTP, but ${route.service}:${route.port} is ${target ? `a ${target.appProtocol} port` : "no port of the service"}; ` +
          `HTTP ports of ${route.service}: ${http.join(", ") || "none"}`,
      );
    }
    if (!t.flows.some((f) => f.from === gateway && f.to === route.service && f.port === route.port)) {
      report(
        ["routes", i],
        `the ${gateway} has no declared flow to ${route.service}:${route.port}; add "${gateway} -> ${route.service}:${route.port}" to flows`,
      );
    }
    if (service.app && ADMIN_UI_APPS.has(service.app) && !route.admin && !route.publicAdminUi) {
      report(
        ["routes", i, "admin"],
        `${route.service} serves the ${service.app} UI, which administers the stack; keep the route admin-only, or set publicAdminUi: true to expose it on purpose`,
      );
    }
  });
}
