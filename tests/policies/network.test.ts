import {
  disallowHostAndDefaultBridgeNetworks,
  enforceDeclaredSegmentation,
  requireInternalNetworks,
  requireAdminSourceAllowlist,
  requireOverlayNetworks,
  restrictAttachableNetworks,
} from "../../policies/network";
import { UNKNOWN_STRING_SENTINEL } from "../../policies/lib/values";
import {
  byName,
  changeIn,
  container,
  edit,
  HAPROXY_CFG,
  happyStack,
  network,
  service,
  serviceConfig,
  urnOf,
} from "./fixtures";
import { assertHasViolation, assertNoViolations, runResourcePolicy, runStackPolicy } from "./helpers";

describe("enforce-declared-segmentation", () => {
  it("passes on a stack whose shared networks carry only tiers and declared flows", async () => {
    assertNoViolations(await runStackPolicy(enforceDeclaredSegmentation, happyStack()));
  });

  it("fails when a service joins another tier's network without a declared flow, naming both URNs", async () => {
    const stack = changeIn(happyStack(), "svc-broker", (r) =>
      edit(r, (p) => p.taskSpec.networksAdvanceds.push({ id: "edge-id" })),
    );
    const violations = await runStackPolicy(enforceDeclaredSegmentation, stack);
    expect(violations).toHaveLength(1);
    const [v] = violations;
    expect(v.message).toContain('service "gateway" and service "broker" can reach each other on "edge"');
    expect(v.message).toContain(urnOf(byName(stack, "svc-gateway")));
    expect(v.message).toContain(urnOf(byName(stack, "svc-broker")));
    expect(v.urn).toBe(urnOf(byName(stack, "svc-gateway")));
  });

  it("fails when a network joins services by Docker name as well as by id", async () => {
    const stack = changeIn(happyStack(), "svc-broker", (r) =>
      edit(r, (p) => p.taskSpec.networksAdvanceds.push({ id: "backend" })),
    );
    assertHasViolation(
      await runStackPolicy(enforceDeclaredSegmentation, stack),
      'service "gateway" and service "broker" can reach each other on "backend"',
    );
  });

  it("fails when a service joins another tier's network through the deprecated name field", async () => {
    // Stacks written for older provider versions (or other programs) carry the network id in `name`.
    const stack = changeIn(happyStack(), "svc-broker", (r) =>
      edit(r, (p) => p.taskSpec.networksAdvanceds.push({ name: "edge-id" })),
    );
    assertHasViolation(
      await runStackPolicy(enforceDeclaredSegmentation, stack),
      'service "gateway" and service "broker" can reach each other on "edge"',
    );
  });

  it("passes when the extra pair is a flow declared in the policy config", async () => {
    const stack = changeIn(happyStack(), "svc-broker", (r) =>
      edit(r, (p) => p.taskSpec.networksAdvanceds.push({ id: "edge-id" })),
    );
    assertNoViolations(
      await runStackPolicy(enforceDeclaredSegmentation, stack, { allowedFlows: ["gateway -> broker:8883"] }),
    );
  });

  it("passes when the policy config puts both services in one tier", async () => {
    const stack = changeIn(happyStack(), "svc-broker", (r) =>
      edit(r, (p) => p.taskSpec.networksAdvanceds.push({ id: "edge-id" })),
    );
    assertNoViolations(
      await runStackPolicy(enforceDeclaredSegmentation, stack, { tiers: { edge: ["gateway", "broker"] } }),
    );
  });

  it("fails when labels are not trusted and the config declares nothing", async () => {
    const violations = await runStackPolicy(enforceDeclaredSegmentation, happyStack(), { useLabels: false });
    assertHasViolation(violations, 'service "gateway" and service "app" can reach each other on "backend"');
    assertHasViolation(violations, 'service "app" and service "broker" can reach each other on "mqtt"');
  });

  it("fails during a preview, when network ids are unknown, through the services' property dependencies", async () => {
    const preview = happyStack().map((r) => {
      if (r.type === "docker:index/network:Network") return edit(r, (p) => delete p.id);
      if (r.type !== "docker:index/service:Service") return r;
      const networks = happyStack().filter((n) => n.type === "docker:index/network:Network");
      const joined = (r.props as any).taskSpec.networksAdvanceds.map((n: { id: string }) => n.id);
      if (r.name === "svc-broker") joined.push("edge-id");
      return {
        ...edit(
          r,
          (p) => (p.taskSpec.networksAdvanceds = joined.map(() => ({ id: UNKNOWN_STRING_SENTINEL, aliases: [] }))),
        ),
        propertyDependencies: { taskSpec: networks.filter((n) => joined.includes(n.id)).map(urnOf) },
      };
    });
    const violations = await runStackPolicy(enforceDeclaredSegmentation, preview);
    expect(violations.map((v) => v.message)).toEqual([
      expect.stringContaining('service "gateway" and service "broker" can reach each other on "edge"'),
    ]);
  });

  it("passes during a preview of the compliant stack, resolving networks through plain dependencies", async () => {
    const networks = happyStack().filter((n) => n.type === "docker:index/network:Network");
    const preview = happyStack().map((r) => {
      if (r.type !== "docker:index/service:Service") return r;
      const joined = (r.props as any).taskSpec.networksAdvanceds.map((n: { id: string }) => n.id);
      return {
        ...edit(r, (p) => (p.taskSpec.networksAdvanceds = UNKNOWN_STRING_SENTINEL)),
        dependencies: networks.filter((n) => joined.includes(n.id)).map(urnOf),
      };
    });
    assertNoViolations(await runStackPolicy(enforceDeclaredSegmentation, preview));
  });

  it("fails when a service joins a network the stack does not declare", async () => {
    const stack = changeIn(happyStack(), "svc-app", (r) =>
      edit(r, (p) => p.taskSpec.networksAdvanceds.push({ id: "shared-ops" })),
    );
    assertHasViolation(
      await runStackPolicy(enforceDeclaredSegmentation, stack),
      'joins network "shared-ops", which this stack does not declare',
    );
  });

  it("passes when that external network is listed in externalNetworks", async () => {
    const stack = changeIn(happyStack(), "svc-app", (r) =>
      edit(r, (p) => p.taskSpec.networksAdvanceds.push({ id: "shared-ops" })),
    );
    assertNoViolations(await runStackPolicy(enforceDeclaredSegmentation, stack, { externalNetworks: ["shared-ops"] }));
  });

  it("fails when two containers share Docker's default bridge", async () => {
    const stack = [
      ...happyStack(),
      edit(container("legacy-a", "bridge"), (p) => delete p.networksAdvanced),
      edit(container("legacy-b", "bridge"), (p) => delete p.networksAdvanced),
    ];
    assertHasViolation(
      await runStackPolicy(enforceDeclaredSegmentation, stack),
      'container "legacy-a" and container "legacy-b" can reach each other on the default bridge',
    );
  });
});

describe("disallow-host-and-default-bridge-networks", () => {
  it("passes for a service on the stack's own networks", async () => {
    assertNoViolations(
      await runResourcePolicy(disallowHostAndDefaultBridgeNetworks, service("app", { networks: ["backend-id"] })),
    );
  });

  it("fails when a service joins the host network", async () => {
    const r = service("app", { networks: ["backend-id", "host"] });
    assertHasViolation(
      await runResourcePolicy(disallowHostAndDefaultBridgeNetworks, r),
      'service "app" joins the host network',
    );
  });

  it("fails when a service joins the default bridge", async () => {
    const r = service("app", { networks: ["bridge"] });
    assertHasViolation(
      await runResourcePolicy(disallowHostAndDefaultBridgeNetworks, r),
      "joins Docker's default bridge",
    );
  });

  it("fails when a container runs with networkMode host", async () => {
    const r = edit(container("legacy", "backend"), (p) => (p.networkMode = "host"));
    assertHasViolation(
      await runResourcePolicy(disallowHostAndDefaultBridgeNetworks, r),
      'container "legacy" joins the host network',
    );
  });

  it("fails when a container leaves networkMode unset (the provider puts it on the default bridge)", async () => {
    const r = edit(container("legacy", "backend"), (p) => delete p.networkMode);
    assertHasViolation(await runResourcePolicy(disallowHostAndDefaultBridgeNetworks, r), "default bridge");
  });

  it("fails when a container shares another container's network namespace", async () => {
    const r = edit(container("sidecar", "backend"), (p) => (p.networkMode = "container:app"));
    assertHasViolation(
      await runResourcePolicy(disallowHostAndDefaultBridgeNetworks, r),
      'shares the network namespace of app ("container:app")',
    );
  });

  it("passes for a container whose networkMode is its own network", async () => {
    assertNoViolations(await runResourcePolicy(disallowHostAndDefaultBridgeNetworks, container("app", "backend")));
  });

  it("does not apply to networks", async () => {
    assertNoViolations(await runResourcePolicy(disallowHostAndDefaultBridgeNetworks, network("backend")));
  });
});

describe("require-internal-networks", () => {
  it("passes for an internal tier network", async () => {
    assertNoViolations(await runResourcePolicy(requireInternalNetworks, network("backend")));
  });

  it("fails when a tier network is not internal", async () => {
    const r = edit(network("backend"), (p) => (p.internal = false));
    assertHasViolation(
      await runResourcePolicy(requireInternalNetworks, r),
      'network "backend" (tier backend) is not internal',
    );
  });

  it("fails when a network without labels leaves internal unset", async () => {
    const r = edit(network("legacy"), (p) => {
      delete p.internal;
      p.labels = [];
    });
    assertHasViolation(await runResourcePolicy(requireInternalNetworks, r), 'network "legacy" is not internal');
  });

  it("passes for an egress network", async () => {
    assertNoViolations(await runResourcePolicy(requireInternalNetworks, network("gateway-egress", { kind: "egress" })));
  });

  it("passes for a network listed in egressNetworks", async () => {
    const r = edit(network("uplink"), (p) => (p.internal = false));
    assertNoViolations(await runResourcePolicy(requireInternalNetworks, r, { egressNetworks: ["uplink"] }));
  });
});

describe("require-overlay-networks", () => {
  it("passes when every network of a swarm stack is an overlay", async () => {
    assertNoViolations(await runStackPolicy(requireOverlayNetworks, happyStack()));
  });

  it("fails when a swarm stack declares a bridge network", async () => {
    const stack = changeIn(happyStack(), "net-backend", (r) => edit(r, (p) => (p.driver = "bridge")));
    assertHasViolation(
      await runStackPolicy(requireOverlayNetworks, stack),
      'network "backend" uses the "bridge" driver',
    );
  });

  it("fails when the driver is unset (the provider creates a bridge)", async () => {
    const stack = changeIn(happyStack(), "net-backend", (r) => edit(r, (p) => delete p.driver));
    assertHasViolation(await runStackPolicy(requireOverlayNetworks, stack), '"bridge" driver (driver unset)');
  });

  it("passes for bridge networks in a stack of plain containers", async () => {
    const bridge = edit(network("local"), (p) => (p.driver = "bridge"));
    assertNoViolations(await runStackPolicy(requireOverlayNetworks, [bridge, container("app", "local")]));
  });
});

describe("restrict-attachable-networks", () => {
  it("passes for a network that is not attachable", async () => {
    assertNoViolations(await runResourcePolicy(restrictAttachableNetworks, network("backend")));
  });

  it("fails when a network is attachable", async () => {
    const r = edit(network("backend"), (p) => (p.attachable = true));
    assertHasViolation(await runResourcePolicy(restrictAttachableNetworks, r), 'network "backend" is attachable');
  });

  it("passes when the attachable network is allowed by config", async () => {
    const r = edit(network("debug"), (p) => (p.attachable = true));
    assertNoViolations(await runResourcePolicy(restrictAttachableNetworks, r, { attachableNetworks: ["debug"] }));
  });
});

describe("enforce-declared-segmentation with generation-suffixed Docker names", () => {
  /** The broker's Docker name gets a generation suffix; `iot.service` keeps its logical name. */
  const suffixed = (stack: ReturnType<typeof happyStack>) =>
    changeIn(stack, "svc-broker", (r) =>
      edit(r, (p) => {
        p.name = "broker-1a2b3c4d";
        p.labels.push({ label: "iot.service", value: "broker" });
      }),
    );

  it("matches the client's iot.flows label against the server's iot.service label", async () => {
    assertNoViolations(await runStackPolicy(enforceDeclaredSegmentation, suffixed(happyStack())));
  });

  it("fails without the label, since the flow names the logical service", async () => {
    const stack = changeIn(happyStack(), "svc-broker", (r) => edit(r, (p) => (p.name = "broker-1a2b3c4d")));
    assertHasViolation(
      await runStackPolicy(enforceDeclaredSegmentation, stack),
      'service "app" and service "broker-1a2b3c4d" can reach each other on "mqtt"',
    );
  });

  it("describes the workload by both names in a violation", async () => {
    const stack = changeIn(suffixed(happyStack()), "svc-broker", (r) =>
      edit(r, (p) => p.taskSpec.networksAdvanceds.push({ id: "edge-id" })),
    );
    assertHasViolation(
      await runStackPolicy(enforceDeclaredSegmentation, stack),
      'service "gateway" and service "broker" (broker-1a2b3c4d) can reach each other on "edge"',
    );
  });

  it("accepts the Docker name in the policy config's allowedFlows", async () => {
    const stack = changeIn(suffixed(happyStack()), "svc-broker", (r) =>
      edit(r, (p) => p.taskSpec.networksAdvanceds.push({ id: "edge-id" })),
    );
    assertNoViolations(
      await runStackPolicy(enforceDeclaredSegmentation, stack, { allowedFlows: ["gateway -> broker-1a2b3c4d:8883"] }),
    );
  });
});

describe("require-admin-source-allowlist", () => {
  const cfg = (change: (text: string) => string = (t) => t) => serviceConfig("gateway-cfg", change(HAPROXY_CFG));

  it("passes when the admin route is refused outside the admin network", async () => {
    assertNoViolations(await runResourcePolicy(requireAdminSourceAllowlist, cfg()));
  });

  it.each(["0.0.0.0/0", "::/0"])("fails when the admin allowlist admits every address (%s)", async (everyone) => {
    const r = cfg((t) => t.replace("acl admin_src src 10.50.0.0/24", `acl admin_src src ${everyone}`));
    assertHasViolation(
      await runResourcePolicy(requireAdminSourceAllowlist, r),
      `service config "gateway-cfg" admits every address in source ACL admin_src (${everyone}, line 6 in frontend https)`,
    );
  });

  it("fails when the admin route has no deny rule", async () => {
    const r = cfg((t) => t.replace("  http-request deny deny_status 403 if host_node_red !admin_src\n", ""));
    assertHasViolation(
      await runResourcePolicy(requireAdminSourceAllowlist, r),
      'routes "host_node_red" to backend node_red_1880 (admin port 1880) in frontend https without a source allowlist (line 10)',
    );
  });

  it("fails when the deny rule guards another host", async () => {
    const r = cfg((t) => t.replace("if host_node_red !admin_src", "if host_grafana !admin_src"));
    assertHasViolation(
      await runResourcePolicy(requireAdminSourceAllowlist, r),
      "backend node_red_1880 (admin port 1880)",
    );
  });

  it("passes when the route itself requires the source ACL, or a frontend-wide deny refuses other sources", async () => {
    const inRoute = cfg((t) =>
      t
        .replace("  http-request deny deny_status 403 if host_node_red !admin_src\n", "")
        .replace("use_backend node_red_1880 if host_node_red", "use_backend node_red_1880 if host_node_red admin_src"),
    );
    assertNoViolations(await runResourcePolicy(requireAdminSourceAllowlist, inRoute));
    const frontendWide = cfg((t) =>
      t.replace("http-request deny deny_status 403 if host_node_red !admin_src", "http-request deny unless admin_src"),
    );
    assertNoViolations(await runResourcePolicy(requireAdminSourceAllowlist, frontendWide));
  });

  it("passes for routes to ports that serve no admin UI", async () => {
    const r = cfg((t) => t.replace("  http-request deny deny_status 403 if host_node_red !admin_src\n", ""));
    assertNoViolations(await runResourcePolicy(requireAdminSourceAllowlist, r, { adminPorts: [8086] }));
  });

  it("does not read configs that are not HAProxy's", async () => {
    assertNoViolations(
      await runResourcePolicy(requireAdminSourceAllowlist, serviceConfig("nats", "port: 4222\nlisten: 0.0.0.0:4222\n")),
    );
  });
});
