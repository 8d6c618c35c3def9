/**
 * The files each service reads, derived from the model: its application's own files, then the files
 * that follow from its place in the topology (MQTT client certificates, credentials over its declared
 * flows, the users of a server that authenticates them). Nothing here depends on what a service is called. Placeholders and file kinds: fileSpec.ts.
 */
import { APPS } from "./apps";
import { NO_FILES, placeholders, ServiceFiles } from "./fileSpec";
import { ServiceSpec, Topology } from "./types";
import { flowCredentialFiles, flowUserFiles } from "./wiring/credentials";
import { mqttClientFiles } from "./wiring/mqttClient";

export {
  configFile,
  FileKind,
  FileSpec,
  fillPlaceholders,
  Placeholder,
  placeholders,
  requiresSecret,
  secretFile,
  ServiceFiles,
} from "./fileSpec";

/** One source of a service's files; the service gets what every source gives it. */
export type FileSource = (t: Topology, s: ServiceSpec) => ServiceFiles;

const appFiles: FileSource = (t, s) => (s.app ? APPS[s.app].files(t, s) : NO_FILES);

export const FILE_SOURCES: readonly FileSource[] = [appFiles, mqttClientFiles, flowCredentialFiles, flowUserFiles];

export function serviceFiles(t: Topology, s: ServiceSpec): ServiceFiles {
  const files: ServiceFiles["files"][number][] = [];
  const env: Record<string, string> = {};
  for (const source of FILE_SOURCES) {
    const given = source(t, s);
    for (const f of given.files) {
      const clash = files.find((x) => x.name === f.name || x.target === f.target);
      if (clash) throw new Error(`two file sources give service "${s.name}" ${clash.name} (${clash.target})`);
      files.push(f);
    }
    for (const [key, value] of Object.entries(given.env)) {
      if (key in env) throw new Error(`two file sources set ${key} on service "${s.name}"`);
      env[key] = value;
    }
  }
  return { files, env };
}

/** Every generated password the services' files refer to (`{{password.<id>}}`), sorted. */
export function passwordIds(t: Topology): string[] {
  return [
    ...new Set(
      t.services
        .flatMap((s) => serviceFiles(t, s).files.flatMap((f) => placeholders(f.template)))
        .filter((p) => p.kind === "password")
        .map((p) => p.name),
    ),
  ].sort();
}
