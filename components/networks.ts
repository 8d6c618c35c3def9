import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { NetworkPlan } from "../model/networks";
import { LABELS, toLabelList } from "./labels";

export interface SegmentedNetworksArgs {
  /** Networks and memberships from `planNetworks`. */
  readonly plan: NetworkPlan;
  readonly stack: string;
  readonly environment: string;
}

/** The stack's overlay networks: one per tier, per flow that no tier can carry, and per egress need. */
export class SegmentedNetworks extends pulumi.ComponentResource {
  /** Network resources by Docker network name. */
  public readonly networks: Readonly<Record<string, docker.Network>>;
  /** Network ids by Docker network name; services attach by id (a name would diff on every run). */
  public readonly ids: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: SegmentedNetworksArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("iot-swarm-net:network:SegmentedNetworks", name, {}, opts);
    const networks: Record<string, docker.Network> = {};
    for (const n of args.plan.networks) {
      networks[n.name] = new docker.Network(
        `${name}-${n.name}`,
        {
          name: n.name,
          driver: "overlay",
          internal: n.internal,
          attachable: n.attachable,
          // Docker enables IPsec on the data plane when the option is present.
          options: n.encrypted ? { encrypted: "true" } : {},
          ipamConfigs: [{ subnet: n.subnet, gateway: n.gateway }],
          labels: toLabelList({
            [LABELS.stack]: args.stack,
            [LABELS.environment]: args.environment,
            [LABELS.networkKind]: n.kind,
            [LABELS.tiers]: n.kind === "tier" ? n.owner : "",
          }),
        },
        { parent: this },
      );
    }
    this.networks = networks;
    this.ids = Object.fromEntries(Object.entries(networks).map(([k, n]) => [k, n.id]));
    this.registerOutputs({ ids: this.ids });
  }
}
