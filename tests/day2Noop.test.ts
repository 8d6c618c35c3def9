/**
 * The program applied twice through the e2e harness's engine stand-in, with the real tls and random stand-ins
 * and a docker provider that writes back its inputs: the second run takes no step, and changing nothing but
 * the config a day-2 change touches takes only that change's steps. (The docker provider's own read-back is
 * proven on a live swarm by npm run e2e's day-2 phase.)
 */
import * as pulumi from "@pulumi/pulumi";
import { DeployEngine, ProviderPort } from "../e2e/harness/engine";
import { unwrapSecrets } from "../e2e/harness/mocks";
import { randomProvider, tlsProvider } from "../e2e/harness/providers";
import { resolveValue } from "../tools/evaluate";
import { PlanMocks } from "../tools/mocks";
import { MockedRuntime, setMocksWithRegistrations, waitForRegistrations } from "../tools/runtimeHooks";
import { readStackConfig } from "../tools/stackFile";
import { freshProgram } from "./helpers";

const echo: ProviderPort = {
  create: async (_type, name, inputs) => ({ id: `${name}-id`, state: structuredClone(inputs) }),
  update: async (_entry, inputs) => structuredClone(inputs),
  delete: async () => undefined,
};

async function apply(engine: DeployEngine, stack: string, config: Record<string, string>): Promise<void> {
  const plan = new PlanMocks();
  await engine.begin();
  pulumi.runtime.setAllConfig(config);
  // The mocks read registrations from the runtime they are installed into.
  const runtime: MockedRuntime = await setMocksWithRegistrations(
    {
      newResource: async (args) => {
        const { id, state } = await engine.register(
          runtime.registration(args.type, args.name)!,
          unwrapSecrets(args.inputs),
        );
        return { id: id ?? "", state };
      },
      call: (args) => plan.call(args),
    },
    "iot-swarm-net",
    stack,
  );
  // jest keeps its own module registry: a fresh one per run registers every resource again.
  const program = await freshProgram();
  for (const value of Object.values(program)) await resolveValue(value);
  await waitForRegistrations();
  await engine.finish();
}

describe.each(["dev", "prod", "e2e"])("the %s stack applied twice", (stack) => {
  it("takes no step the second time", async () => {
    const [tls, random] = [tlsProvider(), randomProvider()];
    const engine = new DeployEngine((type) =>
      type.startsWith("tls:") ? tls : type.startsWith("random:") ? random : echo,
    );
    const { config } = readStackConfig(stack);
    await apply(engine, stack, config);
    expect(engine.counts().create).toBeGreaterThan(60);
    await apply(engine, stack, config);
    expect(
      engine.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name} ${s.changes?.join(",") ?? ""}`),
    ).toEqual([]);
  });
});
