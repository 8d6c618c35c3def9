import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { CA_USES, LEAF_USES, LeafPlan } from "../model/pki";

export interface PkiArgs {
  readonly leaves: readonly LeafPlan[];
  readonly organization: string;
  readonly caValidityHours: number;
  /** Bring-your-own CA; when absent the stack generates its own. */
  readonly externalCa?: { readonly certPem: pulumi.Input<string>; readonly keyPem: pulumi.Input<string> };
  /** Re-issue generation: a new value re-issues every leaf certificate (same keys). @default undefined */
  readonly reissue?: string;
  /** Rotation generation by leaf name: a new value gives that leaf a new key and certificate. @default {} */
  readonly rekey?: Readonly<Record<string, string>>;
}

/** The Pulumi names of a leaf's key, request and certificate inside the component `component`. */
export function leafResourceNames(component: string, leaf: string): { key: string; csr: string; cert: string } {
  return { key: `${component}-${leaf}-key`, csr: `${component}-${leaf}-csr`, cert: `${component}-${leaf}-cert` };
}

export interface IssuedCertificate {
  readonly certPem: pulumi.Output<string>;
  /** End of validity, RFC 3339. */
  readonly validityEndTime: pulumi.Output<string>;
  /** Always a Pulumi secret; reaches services only as a Docker secret. */
  readonly privateKeyPem: pulumi.Output<string>;
}

/** A private CA (ECDSA P-256) and the leaf certificates the stack serves and presents. */
export class Pki extends pulumi.ComponentResource {
  public readonly caCertPem: pulumi.Output<string>;
  public readonly certificates: Readonly<Record<string, IssuedCertificate>>;

  constructor(name: string, args: PkiArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("iot-swarm-net:security:Pki", name, {}, opts);
    let caKeyPem: pulumi.Output<string>;
    if (args.externalCa) {
      this.caCertPem = pulumi.output(args.externalCa.certPem);
      caKeyPem = pulumi.secret(args.externalCa.keyPem);
    } else {
      const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
      const caCert = new tls.SelfSignedCert(
        `${name}-ca`,
        {
          privateKeyPem: caKey.privateKeyPem,
          subject: { commonName: `${args.organization} IoT CA`, organization: args.organization },
          isCaCertificate: true,
          validityPeriodHours: args.caValidityHours,
          allowedUses: [...CA_USES],
        },
        { parent: this },
      );
      this.caCertPem = caCert.certPem;
      caKeyPem = pulumi.secret(caKey.privateKeyPem);
    }

    const certificates: Record<string, IssuedCertificate> = {};
    for (const leaf of args.leaves) {
      // replacementTrigger: the engine replaces the resource when the value differs from the last one recorded.
      const rekey = args.rekey?.[leaf.name];
      const key = new tls.PrivateKey(
        leafResourceNames(name, leaf.name).key,
        { algorithm: "ECDSA", ecdsaCurve: "P256" },
        { parent: this, ...(rekey === undefined ? {} : { replacementTrigger: rekey }) },
      );
      const csr = new tls.CertRequest(
        leafResourceNames(name, leaf.name).csr,
        {
          privateKeyPem: key.privateKeyPem,
          subject: { commonName: leaf.commonName, organization: args.organization },
          dnsNames: [...leaf.dnsNames],
        },
        { parent: this },
      );
      const cert = new tls.LocallySignedCert(
        leafResourceNames(name, leaf.name).cert,
        {
          certRequestPem: csr.certRequestPem,
          caPrivateKeyPem: caKeyPem,
          caCertPem: this.caCertPem,
          validityPeriodHours: leaf.validityHours,
          earlyRenewalHours: leaf.earlyRenewalHours,
          allowedUses: [...LEAF_USES[leaf.usage]],
        },
        { parent: this, ...(args.reissue === undefined ? {} : { replacementTrigger: args.reissue }) },
      );
      certificates[leaf.name] = {
        certPem: cert.certPem,
        validityEndTime: cert.validityEndTime,
        privateKeyPem: pulumi.secret(key.privateKeyPem),
      };
    }
    this.certificates = certificates;
    this.registerOutputs({ caCertPem: this.caCertPem });
  }
}
