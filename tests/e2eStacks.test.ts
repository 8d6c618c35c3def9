/**
 * The e2e stacks (`npm run e2e`, `npm run e2e:cluster`) run on images built on the test machine and on
 * the e2e harness, whose `call` throws on every provider function (e2e/harness/mocks.ts). A stack config
 * that makes the program call one (the registry look-up that pins an image digest, say) fails its run
 * at deploy: this evaluates each e2e stack as the harness would see it, before any engine is started.
 */
import * as pulumi from "@pulumi/pulumi";
import { evaluateProgram } from "../tools/evaluate";
import { PlanMocks } from "../tools/mocks";
import { freshProgram, ofType, SERVICE } from "./helpers";

class NoCallMocks extends PlanMocks {
  readonly calls: string[] = [];
  override call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    this.calls.push(args.token);
    throw new Error(`the e2e harness answers no provider function; the program called ${args.token}`);
  }
}

describe.each(["e2e", "cluster"])("the %s stack, as the e2e harness applies it", (stack) => {
  it("calls no provider function and runs only the images the e2e run builds", async () => {
    const mocks = new NoCallMocks();
    const { resources } = await evaluateProgram({ stack, mocks, load: freshProgram });
    expect(mocks.calls).toEqual([]);
    const images = ofType(resources, SERVICE).map((s) => String(s.inputs.taskSpec.containerSpec.image));
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image).toMatch(/^iot-e2e\/[a-z-]+:e2e$/);
  });
});
