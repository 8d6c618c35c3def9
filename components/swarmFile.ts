import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { FileSpec, fillPlaceholders, Placeholder, placeholders, requiresSecret } from "../model/files";
import { OBJECT_HASH_LENGTH, swarmObjectName } from "../model/naming";
import { LABELS, toLabelList } from "./labels";

export type PlaceholderResolver = (p: Placeholder) => pulumi.Output<string>;

/** Fills `{{placeholders}}` in a file template with deploy-time values. */
export function renderTemplate(template: string, resolve: PlaceholderResolver): pulumi.Output<string> {
  const refs = placeholders(template);
  if (refs.length === 0) return pulumi.output(template);
  return pulumi.all(refs.map(resolve)).apply((values) => fillPlaceholders(template, (i) => values[i]));
}

/** Short content hash for Swarm object names: configs and secrets are immutable, so new content means a new name. */
export function contentHash(content: string): string {
  return createHash("sha256").update(content).digest("hex").slice(0, OBJECT_HASH_LENGTH);
}

/** The Pulumi name of a service's file resource: `<service resource>-<file name, sanitised>`. */
export function fileResourceName(serviceResource: string, file: string): string {
  return `${serviceResource}-${file.replace(/[^a-zA-Z0-9-]/g, "-")}`;
}

export interface SwarmFile {
  readonly spec: FileSpec;
  readonly id: pulumi.Output<string>;
  readonly objectName: pulumi.Output<string>;
}

/** A rendered file as a Swarm secret (keys, passwords) or config (everything else). */
export function createSwarmFile(
  prefix: string,
  service: string,
  spec: FileSpec,
  resolve: PlaceholderResolver,
  parent: pulumi.Resource,
): SwarmFile {
  const content = renderTemplate(spec.template, resolve);
  const isSecret = spec.kind === "secret" || requiresSecret(spec.template);
  // The name carries only a truncated hash, so it need not stay a Pulumi secret.
  const objectName = pulumi.unsecret(content.apply((c) => swarmObjectName(service, spec.name, contentHash(c))));
  const data = content.apply((c) => Buffer.from(c, "utf8").toString("base64"));
  const labels = toLabelList({ [LABELS.file]: `${service}/${spec.name}` });
  const resourceName = fileResourceName(prefix, spec.name);
  // New content means a new object (the name carries its hash) that exists before the service moves to it;
  // the original goes once no service mounts it. The provider would delete a named object first, and Docker
  // refuses to delete a config or secret a service still mounts.
  const opts = { parent, deleteBeforeReplace: false };
  const resource = isSecret
    ? new docker.Secret(resourceName, { name: objectName, data: pulumi.secret(data), labels }, opts)
    : new docker.ServiceConfig(resourceName, { name: objectName, data }, opts);
  return { spec, id: resource.id, objectName };
}
