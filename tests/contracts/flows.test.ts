/**
 * Contract: the flow grammar. The program accepts flows in stack config (`"client -> server:port"`,
 * model/resolve.ts) and writes each service's declared flows into its `iot.flows` label (`server:port,...`,
 * components/swarmService.ts); the pack reads both (policies/lib/flows.ts, through the workload view the rules
 * use). For random valid service names and ports, every flow the program resolves and every label it writes must
 * read back, in the pack, as the same (client, server, port).
 */
import fc from "fast-check";
import { IotStack } from "../../components/iotStack";
import { planNetworks } from "../../model/networks";
import { parseFlow } from "../../policies/lib/flows";
import { serviceView } from "../../policies/lib/workloads";
import { evaluateProgram } from "../../tools/evaluate";
import { PlanMocks } from "../../tools/mocks";
import { SERVICE, topologyFrom } from "../helpers";

const REFERENCE_NAMES = [
  "gateway",
  "mosquitto",
  "influxdb",
  "grafana",
  "node-red",
  "redis",
  "nats",
  "prometheus",
  "mqtt-exporter",
];
// The reference services' aliases, which a new service may not take as its name.
const TAKEN = new Set([...REFERENCE_NAMES, "gateway-internal", "mqtt", "broker", "tsdb", "dashboards"]);

/** A service name the config schema accepts (a lower-case DNS label, no trailing hyphen), not already used by the stack. */
const serviceName = fc
  .stringMatching(/^[a-z](?:[a-z0-9-]{0,13}[a-z0-9])?$/)
  .filter((n) => !TAKEN.has(n) && !n.startsWith("iot-"));

interface Generated {
  readonly services: readonly { readonly name: string; readonly port: number }[];
  /** Flows as written in stack config, with the spacing the grammar allows. */
  readonly flows: readonly string[];
}

const generated: fc.Arbitrary<Generated> = fc
  .uniqueArray(fc.record({ name: serviceName, port: fc.integer({ min: 1024, max: 65535 }) }), {
    minLength: 2,
    maxLength: 5,
    selector: (s) => s.name,
  })
  .chain((services) => {
    const servers = [...services, { name: "influxdb", port: 8086 }];
    const flow = fc
      .record({
        from: fc.constantFrom(...services.map((s) => s.name)),
        to: fc.constantFrom(...servers),
        a: fc.constantFrom("", " ", "  "),
        b: fc.constantFrom("", " "),
      })
      .filter(({ from, to }) => from !== to.name)
      .map(({ from, to, a, b }) => `${a}${from}${a}->${a}${to.name}${b}:${b}${to.port}${a}`);
    return fc.record({ services: fc.constant(services), flows: fc.uniqueArray(flow, { minLength: 1, maxLength: 5 }) });
  });

function stackConfig({ services, flows }: Generated): Record<string, unknown> {
  return {
    environment: "dev",
    // One link network per pair: a pool wide enough that subnet collisions (a config error) stay rare.
    subnetPool: "10.64.0.0/12",
    tiers: [{ name: "contract", description: "Generated services" }],
    services: Object.fromEntries(
      services.map((s) => [
        s.name,
        {
          image: "ghcr.io/acme/contract:1.0.0",
          tiers: ["contract"],
          role: "contract",
          ports: [{ name: "api", port: s.port, appProtocol: "http", purpose: "Generated" }],
          health: { test: ["CMD", "true"], portName: "api" },
        },
      ]),
    ),
    flows,
  };
}

const plans = (topology: Parameters<typeof planNetworks>[0]) => {
  try {
    planNetworks(topology);
    return true;
  } catch {
    return false;
  }
};

const triple = (client: string, server: string, port: number | undefined) => `${client} -> ${server}:${port}`;

describe("the flow grammar, between the program and the pack", () => {
  it("reads every flow the program accepts in stack config as the program resolves it", () => {
    fc.assert(
      fc.property(generated, (g) => {
        const topology = topologyFrom(stackConfig(g));
        const resolved = new Set(topology.flows.map((f) => triple(f.from, f.to, f.port)));
        for (const text of g.flows) {
          const flow = parseFlow(text);
          expect(flow).toBeDefined();
          expect(resolved).toContain(triple(flow!.from, flow!.to, flow!.port));
        }
      }),
      { numRuns: 200 },
    );
  });

  it("reads every service's iot.flows label as the flows the program resolved for it", async () => {
    await fc.assert(
      fc.asyncProperty(generated, async (g) => {
        const topology = topologyFrom(stackConfig(g));
        // A config whose planned subnets collide is rejected before any resource exists; not this test's subject.
        fc.pre(plans(topology));
        const evaluation = await evaluateProgram({
          stack: "contract",
          config: {},
          mocks: new PlanMocks(),
          load: async () => {
            new IotStack("iot", { topology, stack: "contract" });
            return {};
          },
        });
        const fromLabels = evaluation.resources
          .filter((r) => r.type === SERVICE)
          .map((r) => serviceView(r.inputs, r.name))
          .flatMap((w) => w.flows.map((f) => triple(w.name, f.server, f.port)));
        expect(fromLabels.sort()).toEqual(topology.flows.map((f) => triple(f.from, f.to, f.port)).sort());
      }),
      { numRuns: 5 },
    );
  });
});
