/**
 * The encryption probe's report field and verdict (`encryption` in .e2e/cluster-report.json), and the
 * pure parts of the probe: which networks it creates (the program's own plan, with encryption on for
 * one of them), its markers, and how a capture of the hub bridge is counted. Unit-tested in
 * tests/clusterEncryption.test.ts; the probe itself is e2e/cluster/encryption.ts.
 */
import { StackConfigError } from "../../model/config";
import { tierNetworkName } from "../../model/naming";
import { PlannedNetwork, planNetworks } from "../../model/networks";
import { Topology } from "../../model/types";
import { Frame, framesWith, wireOf } from "./pcap";

/**
 * How cross-node traffic on the encrypted network behaved: delivered with nothing readable on the wire
 * ("encrypted"), not delivered and nothing readable ("fails-closed"), or a marker crossed the bridge in
 * the clear ("plaintext", whether or not it was delivered).
 */
export type CrossNode = "encrypted" | "fails-closed" | "plaintext";

/** What the sender saw come back, and what the receiver logged, for one network. */
export interface Delivery {
  readonly udp: { readonly sent: number; readonly echoed: boolean; readonly seconds: number };
  readonly tcp: {
    readonly attempts: number;
    readonly connected: boolean;
    readonly echoed: boolean;
    readonly error: string | null;
    readonly seconds: number;
  };
  /** Protocols whose marker the receiving task logged ("udp", "tcp"). */
  readonly received: readonly string[];
}

export interface ProbeNetwork {
  readonly name: string;
  /** The driver options as `docker network inspect` shows them on the cluster. */
  readonly options: Readonly<Record<string, string>>;
  readonly subnet: string;
  readonly vxlanId: number;
}

export interface CaptureCounts {
  /** Frames that crossed the bridge while the probe ran. */
  readonly frames: number;
  /** Frames with an encrypted-network marker in the clear. */
  readonly plaintextSeen: number;
  /** Frames with a control-network marker in the clear. */
  readonly controlPlaintextSeen: number;
  /** VXLAN frames of each probe network's id between the two nodes. */
  readonly vxlanFrames: { readonly encrypted: number; readonly control: number };
  /** ESP frames between the two nodes. */
  readonly espFrames: number;
}

export interface EncryptionReport {
  readonly plaintextSeen: number;
  readonly crossNode: CrossNode;
  readonly controlPlaintextSeen: number;
  readonly network: ProbeNetwork;
  readonly control: ProbeNetwork;
  /** Nodes of the sending and the receiving task. */
  readonly sender: string;
  readonly receiver: string;
  readonly delivered: { readonly encrypted: Delivery; readonly control: Delivery };
  readonly capture: Omit<CaptureCounts, "plaintextSeen" | "controlPlaintextSeen"> & {
    readonly bridge: string;
    readonly seconds: number;
    readonly truncated: boolean;
    /** The capture, for Wireshark. */
    readonly file: string;
  };
  /** The daemons' log lines about encryption while the probe ran, and the kernel's IPsec facts. */
  readonly evidence: readonly string[];
  readonly cleanup: { readonly removed: readonly string[]; readonly errors: readonly string[] };
}

export interface Markers {
  readonly encrypted: { readonly udp: string; readonly tcp: string };
  readonly control: { readonly udp: string; readonly tcp: string };
}

/** Four distinct markers of one probe run; none is a prefix of another, so a count never mixes two. */
export function markersFor(id: string): Markers {
  if (!/^[A-Za-z0-9]{6,}$/.test(id)) throw new Error(`marker id must be 6+ letters or digits, got "${id}"`);
  const m = (net: string, proto: string) => `IOT-PROBE-${id}-${net}-${proto}-END`;
  return {
    encrypted: { udp: m("ENCRYPTED", "UDP"), tcp: m("ENCRYPTED", "TCP") },
    control: { udp: m("CONTROL", "UDP"), tcp: m("CONTROL", "TCP") },
  };
}

/** Counts a capture: markers in the clear, and what the two nodes exchanged on the wire. */
export function countCapture(
  frames: readonly Frame[],
  markers: Markers,
  vxlanIds: { readonly encrypted: number; readonly control: number },
  nodes: readonly [string, string],
): CaptureCounts {
  const both = (m: { udp: string; tcp: string }) =>
    frames.filter((f) => [m.udp, m.tcp].some((x) => framesWith([f], x) > 0)).length;
  const between = frames
    .map((f) => wireOf(f.data))
    .filter((w) => w.src !== undefined && nodes.includes(w.src) && nodes.includes(w.dst ?? "") && w.src !== w.dst);
  return {
    frames: frames.length,
    plaintextSeen: both(markers.encrypted),
    controlPlaintextSeen: both(markers.control),
    vxlanFrames: {
      encrypted: between.filter((w) => w.vni === vxlanIds.encrypted).length,
      control: between.filter((w) => w.vni === vxlanIds.control).length,
    },
    espFrames: between.filter((w) => w.esp).length,
  };
}

export const wasDelivered = (d: Delivery): boolean => d.udp.echoed || d.tcp.echoed || d.received.length > 0;

export function crossNodeOutcome(plaintextSeen: number, encrypted: Delivery): CrossNode {
  if (plaintextSeen > 0) return "plaintext";
  return wasDelivered(encrypted) ? "encrypted" : "fails-closed";
}

/** Required: no marker of the encrypted network in the clear, and a control that shows the capture works. */
export function encryptionVerdict(r: EncryptionReport | undefined): string[] {
  if (!r) return ["encryption: not probed"];
  const failed: string[] = [];
  if (r.plaintextSeen > 0)
    failed.push(
      `encryption: ${r.plaintextSeen} frame(s) on the hub bridge carried the probe's payload in plaintext on the encrypted network ${r.network.name}`,
    );
  if (r.controlPlaintextSeen === 0)
    failed.push(
      `encryption: the capture saw no payload of the unencrypted control network ${r.control.name}, so it proves nothing`,
    );
  if (!wasDelivered(r.delivered.control))
    failed.push(
      `encryption: the probe crossed no traffic between ${r.sender} and ${r.receiver} on the control network`,
    );
  if (r.network.options.encrypted === undefined)
    failed.push(`encryption: network ${r.network.name} on the cluster has no "encrypted" driver option`);
  if (r.control.options.encrypted !== undefined)
    failed.push(`encryption: the control network ${r.control.name} is encrypted too`);
  for (const e of r.cleanup.errors) failed.push(`encryption: cleanup: ${e}`);
  return failed;
}

/** Tier names of the probe's two networks; a suffix is added when one would take a deployed network's subnet. */
export const PROBE_TIERS = { encrypted: "encryption-probe", control: "encryption-control" } as const;

/**
 * The probe's two networks, planned by the program's own planner from the deployed topology with one
 * tier added each: the encrypted one with `encryptOverlays: true` (prod's setting), the control with
 * `false`. So each is an internal tier overlay exactly as the program would declare it, on a subnet and
 * VXLAN id clear of every network the stack has.
 */
export function probeNetworks(topology: Topology): { encrypted: PlannedNetwork; control: PlannedNetwork } {
  let last: unknown;
  for (let attempt = 0; attempt < 8; attempt++) {
    const suffix = attempt === 0 ? "" : `-${attempt}`;
    const tiers = { encrypted: `${PROBE_TIERS.encrypted}${suffix}`, control: `${PROBE_TIERS.control}${suffix}` };
    const plan = (encryptOverlays: boolean) =>
      planNetworks({
        ...topology,
        encryptOverlays,
        tiers: [
          ...topology.tiers,
          ...Object.values(tiers).map((name) => ({
            name,
            network: tierNetworkName(name),
            description: "Encryption probe of the e2e cluster run",
            attachable: false,
          })),
        ],
      }).networks;
    try {
      const encrypted = plan(true).find((n) => n.kind === "tier" && n.owner === tiers.encrypted);
      const control = plan(false).find((n) => n.kind === "tier" && n.owner === tiers.control);
      if (!encrypted || !control) throw new Error("the planner dropped a probe tier");
      return { encrypted, control };
    } catch (e) {
      // A probe tier hashed onto a deployed network's subnet slot: try other names.
      if (!(e instanceof StackConfigError)) throw e;
      last = e;
    }
  }
  throw last;
}
