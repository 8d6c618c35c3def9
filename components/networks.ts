import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { NetworkPlan } from "../model/networks";
import { LABELS, toLabelList } from "./labels";

/** The overlay driver's option naming a network's VXLAN id. */
export const VXLAN_ID_OPTION = "com.docker.network.driver.overlay.vxlanid_list";

export interface SegmentedNetworksArgs {
  /** Networks and memberships from `planNetworks`. */
  readonly plan: NetworkPlan;
  readonly stack: string;
  readonly environment: string;
}

/** The Pulumi name of a planned network's resource inside the component `component`. */
export const networkResourceName = (component: string, network: string) => `${component}-${network}`;

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
        networkResourceName(name, n.name),
        {
          name: n.name,
          driver: "overlay",
          internal: n.internal,
          attachable: n.attachable,
          // Exactly what the provider reads back from `docker network inspect`: Docker adds the VXLAN id to an
          // overlay's options, so a map without it (or `{}`) would replace the network on every run.
          // `encrypted` turns on IPsec for the data plane.
          options: {
            [VXLAN_ID_OPTION]: String(n.vxlanId),
            ...(n.encrypted ? { encrypted: "true" } : {}),
          },
          // The gateway too: a refresh reads it back, and a set element without it would replace the network.
          ipamConfigs: [{ subnet: n.subnet, gateway: n.gateway }],
          labels: toLabelList({
            [LABELS.stack]: args.stack,
            [LABELS.environment]: args.environment,
            [LABELS.networkKind]: n.kind,
            [LABELS.tiers]: n.kind === "tier" ? n.owner : "",
          }),
        },
        // Said explicitly (the provider's default for a named network): Swarm refuses two networks of one name,
        // so a replacement deletes the original first.
        { parent: this, deleteBeforeReplace: true },
      );
    }
    this.networks = networks;
    this.ids = Object.fromEntries(Object.entries(networks).map(([k, n]) => [k, n.id]));
    this.registerOutputs({ ids: this.ids });
  }
}
