/**
 * The pack's contents and defaults, importable without starting the analyzer: index.ts builds the
 * PolicyPack from these, the offline checker and the tests run them directly.
 */
import { EnforcementLevel, Policies } from "@pulumi/policy";
import { credentialPolicies } from "./credentials";
import { hardeningPolicies } from "./hardening";
import { networkPolicies } from "./network";
import { portPolicies } from "./ports";
import { secretPolicies } from "./secrets";
import { tlsPolicies } from "./tls";

export const PACK_NAME = "iot-swarm-net-policies";

/** Advisory unless a stack's policy config says otherwise (policies/config/prod.json makes prod mandatory). */
export const DEFAULT_ENFORCEMENT: EnforcementLevel = "advisory";

export const PACK_DESCRIPTION =
  "Segmentation, published ports, TLS, hardening, secrets and credentials of the IoT stack on Docker Swarm, checked on the resources a stack declares.";

export const allPolicies: Policies = [
  ...networkPolicies,
  ...portPolicies,
  ...tlsPolicies,
  ...hardeningPolicies,
  ...secretPolicies,
  ...credentialPolicies,
];
