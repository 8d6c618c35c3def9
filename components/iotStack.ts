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
import { planNetworks, ReachabilityMatrix } from "../model/networks";
import { planCertificates } from "../model/pki";
import { Topology } from "../model/types";
import { SegmentedNetworks } from "./networks";
import { Pki } from "./pki";
import { SwarmService } from "./swarmService";

export interface IotStackArgs {
  /** The resolved topology (see `loadStackConfig`). */
  readonly topology: Topology;
  /** Stack name, used in labels and volume names. */
  readonly stack: string;
  readonly externalCa?: { readonly certPem: pulumi.Input<string>; readonly keyPem: pulumi.Input<string> };
}

/** The whole IoT stack: segmented networks, PKI, credentials and one hardened service per component. */
export class IotStack extends pulumi.ComponentResource {
  public readonly networks: SegmentedNetworks;
  public readonly pki: Pki;
  public readonly services: Readonly<Record<string, SwarmService>>;
  /** service -> peers sharing a network; equals `intent` by construction and by test. */
  public readonly reachability: ReachabilityMatrix;
  public readonly intent: ReachabilityMatrix;
  public readonly discovery: readonly DiscoveryEntry[];
  public readonly publishedPorts: readonly PublishedPort[];
  /** Per service: health URL, in-swarm addresses and external URLs. */
  public readonly endpoints: Readonly<Record<string, ServiceEndpoints>>;
  public readonly caCertPem: pulumi.Output<string>;

  constructor(name: string, args: IotStackArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("iot-swarm-net:stack:IotStack", name, {}, opts);
    const t = args.topology;
    const plan = planNetworks(t);

    this.networks = new SegmentedNetworks(
      `${name}-net`,
      { plan, stack: args.stack, environment: t.environment },
      { parent: this },
    );
    this.pki = new Pki(
      `${name}-pki`,
      {
        leaves: planCertificates(t),
        organization: t.tls.organization,
        caValidityHours: t.tls.caValidityDays * 24,
        externalCa: args.externalCa,
      },
      { parent: this },
    );
    const passwords = Object.fromEntries(
      passwordIds(t).map((id) => [
        id,
        new random.RandomPassword(`${name}-${id}`, { length: 32, special: false }, { parent: this }).result,
      ]),
    );
    const resolve = (p: Placeholder): pulumi.Output<string> => {
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
    };
    this.caCertPem = this.pki.caCertPem;

    const services: Record<string, SwarmService> = {};
    for (const spec of t.services) {
      services[spec.name] = new SwarmService(
        `${name}-${spec.name}`,
        {
          spec,
          topology: t,
          files: serviceFiles(t, spec),
          resolve,
          networkIds: plan.attachments[spec.name].map((n) => this.networks.ids[n]),
          stack: args.stack,
        },
        { parent: this },
      );
    }
    this.services = services;
    this.reachability = plan.reachability;
    this.intent = plan.intent;
    this.discovery = discoveryTable(t, plan);
    this.publishedPorts = publishedPorts(t);
    this.endpoints = endpoints(t);
    this.registerOutputs({ reachability: this.reachability, discovery: this.discovery, caCertPem: this.caCertPem });
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
