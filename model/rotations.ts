/**
 * Credential rotation: `rotations.<id>` names a generated password (its id in the file templates) or a
 * certificate (its name in the PKI plan). The ids are checked here, before any resource exists.
 */
import { ConfigProblem, configKey } from "./config";
import { passwordIds } from "./files";
import { planCertificates } from "./pki";
import { Topology } from "./types";

/** Every credential a rotation can name: generated passwords and certificates (key and certificate). */
export function credentialIds(t: Topology): string[] {
  return [...passwordIds(t), ...planCertificates(t).map((leaf) => leaf.name)].sort();
}

export function rotationProblems(t: Topology): ConfigProblem[] {
  const known = new Set(credentialIds(t));
  return Object.keys(t.rotations)
    .filter((id) => !known.has(id))
    .map((id) => ({
      key: configKey(["rotations", id]),
      message: `no credential is named "${id}"; credentials: ${[...known].join(", ")}`,
    }));
}
