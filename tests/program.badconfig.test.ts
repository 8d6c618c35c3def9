import { evaluateProgram } from "../tools/evaluate";

describe("the program with invalid stack config", () => {
  it("fails before registering any resource, naming the config key", async () => {
    let registered = 0;
    const mocks = {
      newResource: (args: { name: string; inputs: Record<string, unknown> }) => {
        registered++;
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args: { token: string }) => {
        throw new Error(`unexpected call ${args.token}`);
      },
    };
    await expect(
      evaluateProgram({
        stack: "dev",
        mocks,
        config: { "iot-swarm-net:environment": "dev", "iot-swarm-net:flows": '["grafana -> nowhere:1"]' },
      }),
    ).rejects.toThrow(/iot-swarm-net:flows\[0\]: unknown service "nowhere"/);
    expect(registered).toBe(0);
  });
});
