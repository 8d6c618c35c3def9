/**
 * Swarm configs (`docker.ServiceConfig`) as files: their Docker name, their text (the provider takes `data` as
 * base64) and whether the data was a Pulumi secret. The rules on broker listeners, gateway allowlists and
 * credentials in config files read them through here.
 */
import * as docker from "@pulumi/docker";
import { ReportViolation, ResourceValidation, ResourceValidationArgs, validateResourceOfType } from "@pulumi/policy";
import { secretAt } from "./secrets";
import { at, decodeBase64, isKnown, Maybe, str, UNKNOWN } from "./values";

export interface ServiceConfigView {
  /** Docker name of the config (the Pulumi name when unset). */
  readonly name: string;
  /** The file's text; `UNKNOWN` when computed or encrypted, `undefined` when there is no data. */
  readonly text: Maybe<string>;
  /** The data was a Pulumi secret (`encrypted`: unreadable in this export). */
  readonly secret?: "encrypted" | "plaintext";
}

export function serviceConfigView(props: unknown, resourceName: string): ServiceConfigView {
  const name = str(at(props, "name"));
  const data = str(at(props, "data"));
  const secret = secretAt(props, ["data"]);
  const text = data === UNKNOWN || data === undefined ? data : (decodeBase64(data) ?? data);
  return { name: isKnown(name) ? name : resourceName, text, ...(secret ? { secret } : {}) };
}

/** `service config "redis-redis-conf-1a2b"` for messages. */
export const describeConfig = (c: ServiceConfigView) => `service config "${c.name}"`;

export type ServiceConfigCheck = (
  config: ServiceConfigView,
  args: ResourceValidationArgs,
  reportViolation: ReportViolation,
) => void;

/** A validation of `docker.ServiceConfig` resources, through `validateResourceOfType`. */
export function forServiceConfigs(check: ServiceConfigCheck): ResourceValidation {
  return validateResourceOfType(docker.ServiceConfig, (props, args, report) =>
    check(serviceConfigView(props, args.name), args, report),
  );
}
