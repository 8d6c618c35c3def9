/**
 * Credentials over declared flows, from the model: a service with a flow to a server whose application
 * issues client credentials gets each of them as a secret file, when its own application presents them
 * (Grafana presents InfluxDB's token). A credential per flow for every client is one more rule here.
 */
import { APPS } from "../apps";
import { NO_FILES, secretFile, ServiceFiles } from "../fileSpec";
import { ServiceSpec, Topology } from "../types";
import { flowCredentialPath } from "./paths";

export function flowCredentialFiles(t: Topology, s: ServiceSpec): ServiceFiles {
  const presents = (s.app && APPS[s.app].presents) || [];
  if (presents.length === 0) return NO_FILES;
  const servers = new Set(t.flows.filter((f) => f.from === s.name).map((f) => f.to));
  const files = t.services
    .filter((server) => servers.has(server.name) && server.app && presents.includes(server.app))
    .flatMap((server) =>
      Object.entries(APPS[server.app!].clientCredentials?.(server) ?? {}).map(([credential, template]) =>
        secretFile(`${server.name}-${credential}`, flowCredentialPath(s.name, server.name, credential), template),
      ),
    );
  return { files, env: {} };
}
