/**
 * Pulumi mocks for reviewing a stack without the CLI or providers: every resource echoes its inputs,
 * and the tls and random resources get recognisable placeholder outputs. `call` answers the one provider
 * function the program calls (the registry digest of an image) and throws on any other, so an unexpected
 * call cannot pass silently.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

export const MOCK_PRIVATE_KEY_MARKER = "MOCK-PRIVATE-KEY";
/** The docker provider's registry look-up (the program pins images to the digest it returns). */
export const REGISTRY_IMAGE_TOKEN = "docker:index/getRegistryImage:getRegistryImage";

/** A stable stand-in for the digest a registry would serve for `ref`. */
export function mockDigest(ref: string): string {
  return `sha256:${createHash("sha256").update(ref).digest("hex")}`;
}
export const MOCK_EPOCH = new Date("2026-01-01T00:00:00Z");

export function placeholderOutputs(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): Record<string, unknown> {
  switch (type) {
    case "tls:index/privateKey:PrivateKey":
      return {
        privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${MOCK_PRIVATE_KEY_MARKER}:${name}\n-----END PRIVATE KEY-----\n`,
        publicKeyPem: `-----BEGIN PUBLIC KEY-----\nMOCK-PUBLIC-KEY:${name}\n-----END PUBLIC KEY-----\n`,
      };
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      return {
        certPem: `-----BEGIN CERTIFICATE-----\nMOCK-CERT:${name}\n-----END CERTIFICATE-----\n`,
        // A fixed start keeps plans reproducible.
        validityStartTime: MOCK_EPOCH.toISOString(),
        validityEndTime: new Date(
          MOCK_EPOCH.getTime() + Number(inputs.validityPeriodHours ?? 0) * 3600_000,
        ).toISOString(),
      };
    case "tls:index/certRequest:CertRequest":
      return {
        certRequestPem: `-----BEGIN CERTIFICATE REQUEST-----\nMOCK-CSR:${name}\n-----END CERTIFICATE REQUEST-----\n`,
      };
    case "random:index/randomPassword:RandomPassword":
      return { result: `mock-password-${name}`.padEnd(Number(inputs.length ?? 16), "x") };
    default:
      return {};
  }
}

export class PlanMocks implements pulumi.runtime.Mocks {
  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    return {
      id: `${args.name}-id`,
      state: { ...args.inputs, ...placeholderOutputs(args.type, args.name, args.inputs) },
    };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    if (args.token === REGISTRY_IMAGE_TOKEN) {
      const name = String(args.inputs.name);
      return { id: name, name, sha256Digest: mockDigest(name), insecureSkipVerify: false };
    }
    throw new Error(`unexpected provider call ${args.token}`);
  }
}
