/**
 * The public catalogs each rule maps to: CIS Docker Benchmark 1.6.0 (numbered as docker-bench-security
 * checks them) and the KICS docker-compose queries (by query id). A rule with no catalog entry says why
 * in `beyond` and is tagged `beyond-catalogs`.
 */
import { PolicyComplianceFramework } from "@pulumi/policy";

export const CIS_VERSION = "1.6.0";

export const CIS: Readonly<Record<string, string>> = {
  "2.2": "Ensure network traffic is restricted between containers on the default bridge",
  "4.1": "Ensure that a user for the container has been created",
  "5.4": "Ensure that Linux kernel capabilities are restricted within containers",
  "5.5": "Ensure that privileged containers are not used",
  "5.6": "Ensure sensitive host system directories are not mounted on containers",
  "5.8": "Ensure privileged ports are not mapped within containers",
  "5.9": "Ensure that only needed ports are open on the container",
  "5.10": "Ensure that the host's network namespace is not shared",
  "5.11": "Ensure that the memory usage for containers is limited",
  "5.13": "Ensure that the container's root filesystem is mounted as read only",
  "5.14": "Ensure that incoming container traffic is bound to a specific host interface",
  "5.15": "Ensure that the 'on-failure' container restart policy is set to '5'",
  "5.16": "Ensure that the host's process namespace is not shared",
  "5.17": "Ensure that the host's IPC namespace is not shared",
  "5.22": "Ensure the default seccomp profile is not Disabled",
  "5.26": "Ensure that the container is restricted from acquiring additional privileges",
  "5.27": "Ensure that container health is checked at runtime",
  "5.30": "Ensure that Docker's default bridge 'docker0' is not used",
  "5.31": "Ensure that the host's user namespaces are not shared",
  "5.32": "Ensure that the Docker socket is not mounted inside any containers",
  "7.3": "Ensure that all Docker swarm overlay networks are encrypted",
  "7.4": "Ensure that Docker's secret management commands are used for managing secrets in a swarm cluster",
  "7.9": "Ensure that management plane traffic is separated from data plane traffic",
};

/** KICS docker-compose queries by id. */
export const KICS: Readonly<Record<string, string>> = {
  "ce76b7d0-9e77-464d-b86f-c5c48e03e22d": "Container Capabilities Unrestricted",
  "451d79dc-0588-476a-ad03-3c7f0320abb3": "Container Traffic Not Bound To Host Interface",
  "d6355c88-1e8d-49e9-b2f2-f8a1ca12c75b": "Docker Socket Mounted In Container",
  "698ed579-b239-4f8f-a388-baa4bcb13ef8": "Healthcheck Not Set",
  "4f31dd9f-2cc3-4751-9b53-67e4af83dac0": "Host Namespace is Shared",
  "bb9ac4f7-e13b-423d-a010-c74a1bfbe492": "Memory Not Limited",
  "ce14a68b-1668-41a0-ab7d-facd9f784742": "Networks Not Set",
  "ae5b6871-7f45-42e0-bb4c-ab300c4d2026": "Privileged Containers Enabled",
  "bc2908f3-f73c-40a9-8793-c1b7d5544f79": "Privileged Ports Mapped In Container",
  "2fc99041-ddad-49d5-853f-e35e70a48391": "Restart Policy On Failure Not Set To 5",
  "baa3890f-bed7-46f5-ab8f-1da8fc91c729": "Shared Host IPC Namespace",
  "071a71ff-f868-47a4-ac0b-3c59e4ab5443": "Shared Host Network Namespace",
  "8af7162d-6c98-482f-868e-0d33fb675ca8": "Shared Host User Namespace",
  "1c1325ff-831d-43a1-973e-839ae57dfcc0": "Volume Has Sensitive Host Directory",
  "8c978947-0ff6-485c-b0c2-0bfca6026466": "Shared Volumes Between Containers",
  "27fcc7d6-c49b-46e0-98f1-6c082a6a2750": "No New Privileges Not Set",
  "404fde2c-bc4b-4371-9747-7054132ac953": "Default Seccomp Profile Disabled",
};

export interface CatalogMapping {
  /** CIS Docker Benchmark recommendation numbers. */
  readonly cis?: readonly string[];
  /** KICS docker-compose query ids. */
  readonly kics?: readonly string[];
  /** Why no catalog covers the rule (what it adds beyond them). */
  readonly beyond?: string;
}

/** Fields a policy carries for its mapping: the first CIS entry as its framework, every id as a tag. */
export function mapsTo(
  domain: string,
  mapping: CatalogMapping,
): { framework?: PolicyComplianceFramework; tags: string[] } {
  for (const id of mapping.cis ?? []) if (!(id in CIS)) throw new Error(`unknown CIS recommendation ${id}`);
  for (const id of mapping.kics ?? []) if (!(id in KICS)) throw new Error(`unknown KICS query ${id}`);
  const [first] = mapping.cis ?? [];
  const tags = [
    domain,
    ...(mapping.cis ?? []).map((id) => `cis-docker-${id}`),
    ...(mapping.kics ?? []).map((id) => `kics-${id}`),
    ...(mapping.beyond ? ["beyond-catalogs"] : []),
  ];
  return {
    framework: first
      ? { name: "CIS Docker Benchmark", version: CIS_VERSION, reference: first, specification: CIS[first] }
      : undefined,
    tags,
  };
}
