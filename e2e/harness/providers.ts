/**
 * The three providers the program uses, as the engine stand-in drives them: docker through the Engine API
 * (docker.ts), tls with real keys and X.509 (tls.ts), random from the CSPRNG (random.ts). Each answers create,
 * update and delete with the provider's semantics; the diff comes from the contract (contract/).
 */
import { FieldChange } from "./contract/diff";
import { DockerRealiser } from "./docker";
import { ProviderPort, StateEntry } from "./engine";
import { realiseRandom } from "./random";
import { realiseTls } from "./tls";

type Dict = Record<string, any>;

export function dockerProvider(realiser: DockerRealiser): ProviderPort {
  return {
    create: (type, name, inputs) => realiser.create(type, name, inputs),
    update: (entry, inputs) => realiser.update(entry.type, entry.id!, entry.name, inputs),
    delete: (entry) => realiser.delete(entry.type, entry.id!, entry.outputs),
    read: async (entry) => {
      const live = await realiser.read(entry.type, entry.id!);
      // A refresh reads everything back, sets included; what Read never writes stays.
      return live === undefined ? undefined : { ...entry.outputs, ...live };
    },
  };
}

const CERTIFICATES = new Set([
  "tls:index/locallySignedCert:LocallySignedCert",
  "tls:index/selfSignedCert:SelfSignedCert",
]);

/**
 * A certificate whose renewal window has begun (now >= validity end - early renewal hours, with the hours the
 * program gives now) is replaced: terraform-provider-tls internal/provider/common_cert.go
 * modifyPlanIfCertificateReadyForRenewal marks ready_for_renewal RequiresReplace.
 */
export function renewalDue(entry: StateEntry, inputs: Dict, now: number = Date.now()): FieldChange[] {
  if (!CERTIFICATES.has(entry.type)) return [];
  const end = Date.parse(String(entry.outputs.validityEndTime));
  const early = Number(inputs.earlyRenewalHours ?? 0) * 3600_000;
  return Number.isFinite(end) && now >= end - early
    ? [{ path: "readyForRenewal", onChange: "replace", from: false, to: true }]
    : [];
}

export function tlsProvider(): ProviderPort {
  return {
    create: async (type, name, inputs) => ({
      id: `${name}-${Date.now().toString(36)}`,
      state: await realiseTls(type, inputs),
    }),
    // Only early_renewal_hours updates in place; the certificate stays (updatedUsingPlan).
    update: async (entry, inputs) => ({ ...entry.outputs, earlyRenewalHours: inputs.earlyRenewalHours }),
    delete: async () => undefined,
    extraChanges: (entry, inputs) => renewalDue(entry, inputs),
  };
}

export function randomProvider(): ProviderPort {
  return {
    create: async (type, name, inputs) => ({
      id: `${name}-${Date.now().toString(36)}`,
      state: await realiseRandom(type, inputs),
    }),
    update: async () => {
      throw new Error("e2e harness: random_password has no update in place");
    },
    delete: async () => undefined,
  };
}
