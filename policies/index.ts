/**
 * The CrossGuard entry point: `pulumi preview --policy-pack policies [--policy-pack-config policies/config/<stack>.json]`.
 * Rules live in network.ts, ports.ts, tls.ts, hardening.ts and secrets.ts; this file only builds the pack.
 */
import { PolicyPack } from "@pulumi/policy";
import { allPolicies, DEFAULT_ENFORCEMENT, PACK_DESCRIPTION, PACK_NAME } from "./pack";

new PolicyPack(PACK_NAME, {
  description: PACK_DESCRIPTION,
  enforcementLevel: DEFAULT_ENFORCEMENT,
  policies: allPolicies,
  tags: ["docker", "swarm", "iot", "tls"],
});
