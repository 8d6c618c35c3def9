/**
 * Names Docker must accept: every config and secret object is named `<service>-<file>-<hash>` (naming.ts), and
 * Swarm refuses one longer than 64 characters at deploy, after other resources exist. A service (or MQTT
 * client) name that would make one too long is rejected here, under the key that introduced it.
 */
import { StackConfig } from "./config";
import { serviceFiles } from "./files";
import { MAX_SWARM_OBJECT_NAME, OBJECT_HASH_LENGTH, swarmObjectName } from "./naming";
import { Topology } from "./types";
import { Report } from "./validateServices";

export function checkObjectNames(config: StackConfig, t: Topology, report: Report): void {
  const hash = "0".repeat(OBJECT_HASH_LENGTH);
  for (const s of t.services) {
    let files: readonly { readonly name: string }[];
    try {
      files = serviceFiles(t, s).files;
    } catch {
      continue; // a topology the other rules reject; its files are not this rule's to judge
    }
    const longest = files
      .map((f) => ({ file: f.name, name: swarmObjectName(s.name, f.name, hash) }))
      .sort((a, b) => b.name.length - a.name.length)[0];
    if (!longest || longest.name.length <= MAX_SWARM_OBJECT_NAME) continue;
    // The MQTT client files come from the service's entry in tls.mqttClients (wiring/mqttClient.ts).
    const path = longest.file.startsWith("mqtt-client")
      ? ["tls", "mqttClients", config.tls.mqttClients.indexOf(s.name)]
      : ["services", s.name];
    const fits = s.name.length - (longest.name.length - MAX_SWARM_OBJECT_NAME);
    report(
      path,
      `"${s.name}" is too long for the Docker objects named after it: its ${longest.file} would be ` +
        `"${swarmObjectName(s.name, longest.file, "<hash>")}", ${longest.name.length} characters where Docker allows ` +
        `${MAX_SWARM_OBJECT_NAME}; use a name of at most ${fits} characters`,
    );
  }
}
