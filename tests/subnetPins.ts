/** Reading the subnet pins a collision error suggests, as a user would copy them into stack config. */
import { StackConfigError } from "../model/config";
import { NetworkPlan, planNetworks } from "../model/networks";
import { Topology } from "../model/types";

/** Every `subnets: { <network>: <cidr> }` suggestion in one problem's message, in order. */
export function suggestedPins(message: string): [network: string, cidr: string][] {
  return [...message.matchAll(/subnets: \{ ([^:]+): ([0-9./]+) \}/g)].map((m) => [m[1], m[2]]);
}

/**
 * Plans; on subnet collisions pins, for each problem, the suggested subnet of a network `prefer` accepts
 * (default: the first suggestion), then plans again. Returns the plan and the pins used.
 */
export function planWithSuggestedPins(
  t: Topology,
  prefer: (network: string) => boolean = () => true,
): { plan: NetworkPlan; pins: Record<string, string> } {
  try {
    return { plan: planNetworks(t), pins: {} };
  } catch (e) {
    if (!(e instanceof StackConfigError)) throw e;
    const pins: Record<string, string> = { ...t.subnetPins };
    for (const problem of e.problems) {
      const options = suggestedPins(problem.message);
      const chosen = options.find(([network]) => prefer(network)) ?? options[0];
      if (!chosen) throw e;
      pins[chosen[0]] = chosen[1];
    }
    return { plan: planNetworks({ ...t, subnetPins: pins }), pins };
  }
}
