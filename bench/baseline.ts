/**
 * The bench's baseline: a plain Pulumi program that declares the same docker, tls and random resources
 * as a recorded evaluation of the real program, directly, in one loop: no components, no model, no
 * config parsing. Inputs are the recorded ones; inputs that came from other resources are wired as
 * Outputs of those resources and secrets stay secrets, so the engine sees the same graph.
 * program time / baseline time is what the project's own code costs on top of the resources themselves.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";

/** What the baseline needs of a recorded resource (a subset of tools/evaluate's RecordedResource). */
export interface BaselineResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly inputs: Record<string, unknown>;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly secretInputs: readonly string[];
}

type Constructor = new (name: string, args: any, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

const CONSTRUCTORS: Readonly<Record<string, Constructor>> = {
  "docker:index/network:Network": docker.Network,
  "docker:index/service:Service": docker.Service,
  "docker:index/secret:Secret": docker.Secret,
  "docker:index/serviceConfig:ServiceConfig": docker.ServiceConfig,
  "tls:index/privateKey:PrivateKey": tls.PrivateKey,
  "tls:index/selfSignedCert:SelfSignedCert": tls.SelfSignedCert,
  "tls:index/certRequest:CertRequest": tls.CertRequest,
  "tls:index/locallySignedCert:LocallySignedCert": tls.LocallySignedCert,
  "random:index/randomPassword:RandomPassword": random.RandomPassword,
};

/** Declares every custom resource of `recording`, dependencies first; returns them by URN in the recording. */
export function declareResources(recording: readonly BaselineResource[]): Map<string, pulumi.CustomResource> {
  const custom = recording.filter((r) => r.custom);
  const byUrn = new Map(custom.map((r) => [r.urn, r]));
  const created = new Map<string, pulumi.CustomResource>();
  const declare = (r: BaselineResource): pulumi.CustomResource => {
    const existing = created.get(r.urn);
    if (existing) return existing;
    const Resource = CONSTRUCTORS[r.type];
    if (!Resource) throw new Error(`the baseline has no constructor for ${r.type} (${r.name})`);
    const upstream = (urns: readonly string[]) => urns.filter((u) => byUrn.has(u)).map((u) => declare(byUrn.get(u)!));
    const secretKeys = new Set(r.secretInputs.map((path) => path.split(/[.[]/)[0]));
    const args: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(r.inputs)) {
      const deps = upstream(r.propertyDependencies[key] ?? []);
      let input: pulumi.Input<unknown> = deps.length > 0 ? pulumi.all(deps.map((d) => d.id)).apply(() => value) : value;
      if (secretKeys.has(key)) input = pulumi.secret(input);
      args[key] = input;
    }
    // Dependencies that no input carries (none in today's program) become explicit.
    const carried = new Set(Object.values(r.propertyDependencies).flat());
    const resource = new Resource(r.name, args, { dependsOn: upstream(r.dependencies.filter((u) => !carried.has(u))) });
    created.set(r.urn, resource);
    return resource;
  };
  custom.forEach(declare);
  return created;
}
