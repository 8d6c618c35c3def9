import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  DiscoveryEntry,
  discoveryTable,
  endpoints,
  PublishedPort,
  publishedPorts,
  ServiceEndpoints,
} from "../model/discovery";
import { passwordIds, Placeholder, serviceFiles } from "../model/files";
import { credentialLabel, planIdentities } from "../model/identity";
import { NetworkPlan, planNetworks, ReachabilityMatrix, reachabilityFromNetworkIds } from "../model/networks";
import { planCertificates } from "../model/pki";
import { Topology } from "../model/types";
import { ConfigProblem } from "../model/config";
import { productionWarnings } from "../model/warnings";
import { SegmentedNetworks } from "./networks";
import { Pki } from "./pki";
import { LABELS } from "./labels";
import { SwarmService } from "./swarmService";

/** The Pulumi name of the stack component `index.ts` creates. */
export const STACK_COMPONENT = "iot";

/** The Pulumi names of an IotStack's children (components, passwords, services). */
export function stackChildNames(name: string) {
  return {
    networks: `${name}-net`,
    pki: `${name}-pki`,
    password: (id: string) => `${name}-${id}`,
    service: (service: string) => `${name}-${service}`,
  };
}

export interface IotStackArgs {
  /** The resolved topology (see `loadStackConfig`). */
  readonly topology: Topology;
  /** Its network plan. @default planNetworks(topology) */
  readonly plan?: NetworkPlan;
  /** Stack name, used in labels and volume names. */
  readonly stack: string;
  readonly externalCa?: { readonly certPem: pulumi.Input<string>; readonly keyPem: pulumi.Input<string> };
}

/** The whole IoT stack: segmented networks, PKI, credentials and one hardened service per component. */
export class IotStack extends pulumi.ComponentResource {
  public readonly networks: SegmentedNetworks;
  public readonly pki: Pki;
  public readonly services: Readonly<Record<string, SwarmService>>;
  /**
   * service -> peers sharing a network, computed from the ids of the network resources each service is attached
   * to (not from planned names), so it shows any pair two merged networks would let through. Equals `intent`.
   */
  public readonly reachability: pulumi.Output<ReachabilityMatrix>;
  public readonly intent: ReachabilityMatrix;
  public readonly discovery: readonly DiscoveryEntry[];
  public readonly publishedPorts: readonly PublishedPort[];
  /** Per service: health URL, in-swarm addresses and external URLs. */
  public readonly endpoints: Readonly<Record<string, ServiceEndpoints>>;
  public readonly caCertPem: pulumi.Output<string>;
  /** Accepted settings that are dangerous in prod (world-open admin allowlist, broker without client certs). */
  public readonly warnings: readonly ConfigProblem[];

  constructor(name: string, args: IotStackArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("iot-swarm-net:stack:IotStack", name, {}, opts);
    const t = args.topology;
    const plan = args.plan ?? planNetworks(t);

    this.networks = new SegmentedNetworks(
      stackChildNames(name).networks,
      { plan, stack: args.stack, environment: t.environment },
      { parent: this },
    );
    this.pki = new Pki(
      stackChildNames(name).pki,
      {
        leaves: planCertificates(t),
        organization: t.tls.organization,
        caValidityHours: t.tls.caValidityDays * 24,
        externalCa: args.externalCa,
        reissue: t.tls.reissue,
        rekey: t.rotations,
      },
      { parent: this },
    );
    const passwords = this.createPasswords(name, t);
    const resolve = (p: Placeholder) => this.resolvePlaceholder(p, passwords);
    this.caCertPem = this.pki.caCertPem;

    const stackLabels = { [LABELS.stack]: args.stack, [LABELS.environment]: t.environment };
    const images = new Map<string, pulumi.Input<string>>();
    const image = (ref: string) => {
      if (!images.has(ref)) images.set(ref, t.pinImageDigests ? pinnedImage(ref, this) : ref);
      return images.get(ref)!;
    };
    const identities = planIdentities(t);
    const held = (client: string) => identities.filter((i) => i.client === client);
    const services: Record<string, SwarmService> = {};
    const attached: Record<string, pulumi.Output<string[]>> = {};
    for (const spec of t.services) {
      const networks = plan.attachments[spec.name].map((n) => ({ name: n, id: this.networks.ids[n] }));
      attached[spec.name] = pulumi.all(networks.map((n) => n.id));
      services[spec.name] = new SwarmService(
        stackChildNames(name).service(spec.name),
        {
          spec,
          files: serviceFiles(t, spec),
          resolve,
          networks,
          stackLabels,
          volumePrefix: args.stack,
          image: image(spec.image),
          flows: t.flows.filter((f) => f.from === spec.name).map((f) => `${f.to}:${f.port}`),
          credentials: credentialLabel(held(spec.name)),
          publishMode: t.publishMode,
          platforms: t.platforms,
        },
        { parent: this },
      );
    }
    this.services = services;
    this.reachability = pulumi.all(attached).apply(reachabilityFromNetworkIds);
    this.intent = plan.intent;
    this.discovery = discoveryTable(t, plan);
    this.publishedPorts = publishedPorts(t);
    this.endpoints = endpoints(t);
    this.warnings = productionWarnings(t);
    this.registerOutputs({ reachability: this.reachability, discovery: this.discovery, caCertPem: this.caCertPem });
  }

  /** One generated password per credential the model needs, redrawn when its rotation generation changes. */
  private createPasswords(name: string, t: Topology): Record<string, pulumi.Output<string>> {
    return Object.fromEntries(
      passwordIds(t).map((id) => [
        id,
        new random.RandomPassword(
          stackChildNames(name).password(id),
          // keepers are ForceNew: a new rotation generation draws a new password.
          {
            length: 32,
            special: false,
            keepers: t.rotations[id] === undefined ? undefined : { rotation: t.rotations[id] },
          },
          { parent: this },
        ).result,
      ]),
    );
  }

  /** The value a file template's placeholder stands for: the CA, a certificate, its key or expiry, a password. */
  private resolvePlaceholder(p: Placeholder, passwords: Record<string, pulumi.Output<string>>): pulumi.Output<string> {
    switch (p.kind) {
      case "ca":
        return this.caCertPem;
      case "cert":
        return this.certificate(p.name).certPem;
      case "key":
        return this.certificate(p.name).privateKeyPem;
      case "password":
        return pulumi.secret(passwords[p.name]);
      case "expiry":
        return this.certificate(p.name).validityEndTime.apply((t) => String(Math.floor(Date.parse(t) / 1000)));
    }
  }

  private certificate(name: string) {
    const cert = this.pki.certificates[name];
    if (!cert)
      throw new Error(
        `no certificate named "${name}" is planned; planned: ${Object.keys(this.pki.certificates).join(", ")}`,
      );
    return cert;
  }
}

/**
 * `ref` pinned to the digest its registry serves now. The Docker client pins a tag-only image when the provider
 * creates a service, so state would hold `ref@sha256:...` and the next run would show every such service as
 * changed; sending the pinned reference makes what is sent equal what is read back (and the policy pack's
 * digest rule holds). A reference that already carries a digest is used as it is.
 */
function pinnedImage(ref: string, parent: pulumi.Resource): pulumi.Input<string> {
  if (ref.includes("@")) return ref;
  return docker.getRegistryImageOutput({ name: ref }, { parent }).sha256Digest.apply((digest) => `${ref}@${digest}`);
}
