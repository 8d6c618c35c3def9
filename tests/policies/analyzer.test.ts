/**
 * The pack as `pulumi preview --policy-pack policies` runs it: policies/index.ts is started as its own
 * process through @pulumi/pulumi's run-policy-pack, which type-checks it (`new PolicyPack` serves the analyzer
 * over gRPC) and driven with the engine's requests:
 * GetAnalyzerInfo, Configure with policies/config/prod.json, Analyze per resource and AnalyzeStack with
 * the prod stack in the shape of a first preview (network ids unknown).
 */
import { ChildProcessWithoutNullStreams, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { createRequire } from "module";
import { resolvePackConfig } from "../../policies/offline/config";
import { readPolicyConfigFile } from "../../policies/offline/check";
import { StackResource } from "../../policies/offline/resources";
import { unwrapSecrets } from "../../policies/lib/secrets";
import { allPolicies, DEFAULT_ENFORCEMENT } from "../../policies/pack";
import { SECRET_SIG, SECRET_SIG_KEY } from "../../policies/lib/secrets";
import { UNKNOWN_STRING_SENTINEL } from "../../policies/lib/values";
import { evaluateProgram } from "../../tools/evaluate";
import { fromEvaluation } from "../../tools/policyCheck";

const ROOT = path.resolve(__dirname, "../..");
const POLICIES = path.join(ROOT, "policies");
// The engine's wire types, from the pack's own dependencies.
const fromPack = createRequire(path.join(POLICIES, "package.json"));
const grpc = fromPack("@grpc/grpc-js");
const services = fromPack("@pulumi/pulumi/proto/analyzer_grpc_pb");
const messages = fromPack("@pulumi/pulumi/proto/analyzer_pb");
const { Struct } = fromPack("google-protobuf/google/protobuf/struct_pb");
const { Empty } = fromPack("google-protobuf/google/protobuf/empty_pb");

const LEVELS: Record<string, number> = { advisory: 0, mandatory: 1, disabled: 2, remediate: 3 };
const LEVEL_NAMES = ["advisory", "mandatory", "disabled", "remediate"];

let pack: ChildProcessWithoutNullStreams;
let client: any;
let prod: StackResource[];

const call = <T>(method: string, request: unknown): Promise<T> =>
  new Promise((resolve, reject) =>
    client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))),
  );

/**
 * Starts a policy pack as `pulumi preview --policy-pack <dir>` does: @pulumi/pulumi's run-policy-pack, which
 * type-checks the pack with ts-node and the pack's tsconfig.json before running it, and resolves with the
 * port the pack's analyzer prints.
 */
function startPack(dir: string): { process: ChildProcessWithoutNullStreams; port: Promise<number> } {
  const runner = path.join(ROOT, "node_modules/@pulumi/pulumi/cmd/run-policy-pack");
  // The first argument is the engine's address; the pack serves the analyzer and does not call the engine.
  const child = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: dir });
  const port = new Promise<number>((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
      const match = /^(\d+)\s*$/m.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => reject(new Error(`the pack exited with ${code}: ${err}`)));
  });
  return { process: child, port };
}

beforeAll(async () => {
  const started = startPack(POLICIES);
  pack = started.process;
  client = new services.AnalyzerClient(`127.0.0.1:${await started.port}`, grpc.credentials.createInsecure());
  const evaluation = await evaluateProgram({ stack: "prod" });
  prod = fromEvaluation(evaluation.resources);
}, 240_000);

afterAll(() => {
  client?.close();
  pack?.kill();
});

function options(r: StackResource) {
  const opts = new messages.AnalyzerResourceOptions();
  if (r.parent) opts.setParent(r.parent);
  return opts;
}

/** What the engine sends in a first preview: network ids and the services' network references unknown. */
function firstPreviewProps(r: StackResource, kind: "inputs" | "outputs"): Record<string, unknown> {
  const props = structuredClone(
    unwrapSecrets(kind === "inputs" ? r.inputs : { ...r.inputs, ...r.outputs }) as Record<string, any>,
  );
  if (r.type === "docker:index/service:Service")
    for (const n of props.taskSpec.networksAdvanceds) n.id = UNKNOWN_STRING_SENTINEL;
  delete props.id;
  return props;
}

function stackRequest(resources: readonly StackResource[]) {
  const request = new messages.AnalyzeStackRequest();
  request.setResourcesList(
    resources.map((r) => {
      const resource = new messages.AnalyzerResource();
      resource.setType(r.type);
      resource.setUrn(r.urn);
      resource.setName(r.urn.split("::").pop());
      resource.setProperties(Struct.fromJavaScript(firstPreviewProps(r, "outputs")));
      resource.setOptions(options(r));
      if (r.parent) resource.setParent(r.parent);
      resource.setDependenciesList([...(r.dependencies ?? [])]);
      const deps = resource.getPropertydependenciesMap();
      for (const [key, urns] of Object.entries(r.propertyDependencies ?? {})) {
        const d = new messages.AnalyzerPropertyDependencies();
        d.setUrnsList([...urns]);
        deps.set(key, d);
      }
      return resource;
    }),
  );
  return request;
}

const diagnostics = (response: any) =>
  response.getDiagnosticsList().map((d: any) => ({
    policy: d.getPolicyname(),
    level: LEVEL_NAMES[d.getEnforcementlevel()],
    message: d.getMessage(),
    urn: d.getUrn(),
  }));

describe("the pack under the CrossGuard analyzer", () => {
  it("serves every policy with its config schema", async () => {
    const info = await call<any>("getAnalyzerInfo", new Empty());
    expect(info.getName()).toBe("iot-swarm-net-policies");
    const served = info.getPoliciesList().map((p: any) => p.getName());
    expect(served).toEqual(allPolicies.map((p) => p.name));
    const segmentation = info.getPoliciesList().find((p: any) => p.getName() === "enforce-declared-segmentation");
    expect(Object.keys(segmentation.getConfigschema().getProperties().toJavaScript()).sort()).toEqual([
      "allowedFlows",
      "externalNetworks",
      "tiers",
      "useLabels",
    ]);
  });

  it("finds no mandatory violation in a first preview of prod, per resource and for the stack", async () => {
    const resolved = resolvePackConfig(
      readPolicyConfigFile(path.join(POLICIES, "config/prod.json")),
      allPolicies,
      DEFAULT_ENFORCEMENT,
      "prod.json",
    );
    const configure = new messages.ConfigureAnalyzerRequest();
    for (const [name, { enforcementLevel, properties }] of resolved) {
      const config = new messages.PolicyConfig();
      config.setEnforcementlevel(LEVELS[enforcementLevel]);
      config.setProperties(Struct.fromJavaScript(properties));
      configure.getPolicyconfigMap().set(name, config);
    }
    await call("configure", configure);

    const found: { policy: string; level: string; message: string }[] = [];
    for (const r of prod) {
      const request = new messages.AnalyzeRequest();
      request.setType(r.type);
      request.setUrn(r.urn);
      request.setName(r.urn.split("::").pop());
      request.setProperties(Struct.fromJavaScript(firstPreviewProps(r, "inputs")));
      request.setOptions(options(r));
      found.push(...diagnostics(await call("analyze", request)));
    }
    found.push(...diagnostics(await call("analyzeStack", stackRequest(prod))));
    expect(found.filter((d) => d.level !== "advisory")).toEqual([]);
    // Only what prod.json makes advisory, and no rule gave up on an unknown value ("can't run policy ... during preview").
    const advised = ["require-image-digest", "require-pinned-stateful-services"];
    expect(found.filter((d) => !advised.includes(d.policy))).toEqual([]);
    expect(found.filter((d) => d.message.includes("can't run policy"))).toEqual([]);
  });

  it("reports an undeclared pair in a first preview through the engine's property dependencies", async () => {
    const mutated = structuredClone(prod);
    const redis = mutated.find((r) => r.type === "docker:index/service:Service" && r.urn.endsWith("::iot-redis"))!;
    const frontend = mutated.find(
      (r) => r.type === "docker:index/network:Network" && r.outputs?.name === "iot-frontend-network",
    )!;
    for (const props of [redis.inputs, redis.outputs] as any[])
      props.taskSpec.networksAdvanceds.push({ id: frontend.id, aliases: [] });
    (redis.propertyDependencies as Record<string, string[]>).taskSpec.push(frontend.urn);
    const found = diagnostics(await call("analyzeStack", stackRequest(mutated)));
    expect(found).toContainEqual({
      policy: "enforce-declared-segmentation",
      level: "mandatory",
      // The engine puts the policy's description on the first line.
      message: expect.stringMatching(
        /\nservice "redis" and service "grafana" can reach each other on "iot-frontend-network"/,
      ),
      urn: redis.urn,
    });
  });

  it("sees secrets as plain values: judged by name and content, no longer marked secret", async () => {
    // The engine sends secrets wrapped (`{ <sig>: <secret sig>, value }`); @pulumi/policy unwraps them before rules run.
    const secret = (value: unknown) => ({ [SECRET_SIG_KEY]: SECRET_SIG, value });
    const nodeRed = prod.find((r) => r.type === "docker:index/service:Service" && r.urn.endsWith("::iot-node-red"))!;
    const props = firstPreviewProps(nodeRed, "inputs") as any;
    Object.assign(props.taskSpec.containerSpec.env, {
      DB_PASSWORD: secret("changeme"),
      TLS_MATERIAL: secret("-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n"),
      GREETING: secret("hello"),
      COMPUTED: UNKNOWN_STRING_SENTINEL,
    });
    const request = new messages.AnalyzeRequest();
    request.setType(nodeRed.type);
    request.setUrn(nodeRed.urn);
    request.setName(nodeRed.urn.split("::").pop());
    request.setProperties(Struct.fromJavaScript(props));
    request.setOptions(options(nodeRed));
    const found = diagnostics(await call("analyze", request)).filter(
      (d: any) => d.policy === "disallow-secrets-in-env",
    );
    const text = found.map((d: any) => d.message).join("\n");
    expect(text).toContain("sets DB_PASSWORD inline (its name contains PASSWORD)");
    expect(text).toContain("sets TLS_MATERIAL inline (its value is a private key)");
    // What only the wrapper said is gone; a computed value is neither judged nor a reason to give up.
    expect(text).not.toContain("GREETING");
    expect(text).not.toContain("COMPUTED");
    expect(found).toHaveLength(2);
  });
});

describe("starting the pack the way pulumi preview does", () => {
  it("refuses a pack that does not type-check, naming the error (tsx would have run it)", async () => {
    // A copy of the pack inside the repository, so its imports resolve to the same node_modules.
    const copy = fs.mkdtempSync(path.join(ROOT, ".tmp-pack-"));
    try {
      fs.cpSync(POLICIES, copy, { recursive: true, filter: (src) => !src.includes("node_modules") });
      fs.appendFileSync(path.join(copy, "pack.ts"), '\nexport const notANumber: number = "a string";\n');
      const started = startPack(copy);
      await expect(started.port).rejects.toThrow(/TS2322|Type 'string' is not assignable to type 'number'/);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  }, 240_000);
});
