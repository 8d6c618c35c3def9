/**
 * Lists in the stack config hold each entry once. A repeated entry is at best dead config and at worst
 * hides which of two differing entries wins, so the second occurrence is rejected under its own key. Flows are
 * the exception: a flow repeated in config, or repeating a reference flow, declares the same thing twice and
 * is merged once (merge.ts).
 */
import { StackConfig } from "./config";
import { Report } from "./validateServices";

/** Reports each entry whose identity an earlier entry of the list already has. */
export function reportDuplicates<T>(
  entries: readonly T[],
  identity: (entry: T) => string,
  path: (index: number) => readonly PropertyKey[],
  describe: (id: string, first: number) => string,
  report: Report,
): void {
  const seen = new Map<string, number>();
  entries.forEach((entry, i) => {
    const id = identity(entry);
    const first = seen.get(id);
    if (first === undefined) seen.set(id, i);
    else report(path(i), describe(id, first));
  });
}

export function checkDuplicates(config: StackConfig, report: Report): void {
  reportDuplicates(
    config.tiers,
    (t) => t.name,
    (i) => ["tiers", i, "name"],
    (id, j) => `duplicate tier "${id}": tiers[${j}] already defines it`,
    report,
  );
  reportDuplicates(
    config.tls.mqttClients,
    (c) => c,
    (i) => ["tls", "mqttClients", i],
    (id, j) => `duplicate MQTT client "${id}": mqttClients[${j}] already names it`,
    report,
  );
  reportDuplicates(
    config.routes,
    (r) => r.subdomain,
    (i) => ["routes", i, "subdomain"],
    (id, j) => `duplicate subdomain "${id}": routes[${j}] already serves it`,
    report,
  );
  reportDuplicates(
    config.mqtt.acl,
    (a) => `${a.user} ${a.access} ${a.topic}`,
    (i) => ["mqtt", "acl", i],
    (_id, j) => `duplicate ACL entry: acl[${j}] already grants it`,
    report,
  );
  for (const key of ["adminCidrs", "lanSubnets"] as const) {
    reportDuplicates(
      config[key],
      (c) => c,
      (i) => [key, i],
      (id, j) => `duplicate ${id}: ${key}[${j}] already lists it`,
      report,
    );
  }
}
