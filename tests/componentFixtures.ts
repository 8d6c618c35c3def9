/**
 * Registering components under Pulumi mocks, for tests/components.test.ts and tests/componentStack.test.ts: each
 * test registers what it builds and reads back the recorded inputs and options.
 */
import * as pulumi from "@pulumi/pulumi";
import { EvaluateOptions, evaluateProgram, Evaluation, RecordedResource } from "../tools/evaluate";
import { MOCK_PRIVATE_KEY_MARKER } from "../tools/mocks";
import { waitForRegistrations } from "../tools/runtimeHooks";

export const CA = "tls:index/selfSignedCert:SelfSignedCert";
export const KEY = "tls:index/privateKey:PrivateKey";
export const CSR = "tls:index/certRequest:CertRequest";
export const CERT = "tls:index/locallySignedCert:LocallySignedCert";
export const PASSWORD = "random:index/randomPassword:RandomPassword";

/**
 * Evaluates under mocks. An evaluation that fails midway leaves registrations in flight; they are let through to
 * their own mock monitor before and after, so the next test's mocks never receive them (an unknown resource there
 * would crash the process, not fail a test).
 */
export async function evaluate(options: EvaluateOptions): Promise<Evaluation> {
  await waitForRegistrations().catch(() => undefined);
  try {
    return await evaluateProgram(options);
  } catch (e) {
    await waitForRegistrations().catch(() => undefined);
    throw e;
  }
}

/** Registers what `build` creates under plan mocks; `build`'s return value is resolved into `outputs`. */
export function register(build: () => Record<string, unknown>, mocks?: pulumi.runtime.Mocks): Promise<Evaluation> {
  return evaluate({ stack: "test", config: {}, mocks, load: async () => build() });
}

export const named = (e: Evaluation, name: string): RecordedResource => {
  const r = e.resources.find((x) => x.name === name && x.custom);
  if (!r) throw new Error(`no resource ${name}; registered: ${e.resources.map((x) => x.name).join(", ")}`);
  return r;
};

/** The types of a resource's ancestors and its own, as its URN lists them. */
export const typeChain = (r: RecordedResource) => r.urn.split("::")[2];

export const labelsOf = (r: RecordedResource): Record<string, string> =>
  Object.fromEntries(r.inputs.labels.map((l: { label: string; value: string }) => [l.label, l.value]));

export const keyPem = (name: string) =>
  `-----BEGIN PRIVATE KEY-----\n${MOCK_PRIVATE_KEY_MARKER}:${name}\n-----END PRIVATE KEY-----\n`;
export const certPem = (name: string) => `-----BEGIN CERTIFICATE-----\nMOCK-CERT:${name}\n-----END CERTIFICATE-----\n`;
