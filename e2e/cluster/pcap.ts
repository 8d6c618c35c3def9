/**
 * Reading a capture of the cluster's hub bridge (e2e/cluster/sniff.py writes classic pcap, Ethernet
 * frames): what each frame is on the wire between two nodes (IPv4, VXLAN and its network id, ESP) and
 * whether a marker's bytes appear in it in the clear. Pure, so the encryption probe's counting is
 * unit-tested (tests/clusterEncryption.test.ts).
 */

export interface Frame {
  /** Seconds since the epoch, microsecond precision. */
  readonly time: number;
  readonly data: Buffer;
}

const PCAP_MAGIC = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;

/** The frames of a classic pcap file (either byte order, microsecond timestamps, Ethernet link type). */
export function readPcap(file: Buffer): Frame[] {
  if (file.length < 24) throw new Error(`pcap: ${file.length} bytes, shorter than the 24-byte file header`);
  const le = file.readUInt32LE(0) === PCAP_MAGIC;
  if (!le && file.readUInt32BE(0) !== PCAP_MAGIC) throw new Error("pcap: not a microsecond pcap file (magic)");
  const u32 = (at: number) => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linktype = u32(20);
  if (linktype !== LINKTYPE_ETHERNET) throw new Error(`pcap: link type ${linktype}, expected Ethernet (1)`);
  const frames: Frame[] = [];
  let at = 24;
  while (at + 16 <= file.length) {
    const captured = u32(at + 8);
    const end = at + 16 + captured;
    if (end > file.length) throw new Error(`pcap: frame ${frames.length + 1} is cut short (${captured} bytes)`);
    frames.push({ time: u32(at) + u32(at + 4) / 1e6, data: file.subarray(at + 16, end) });
    at = end;
  }
  return frames;
}

export interface Wire {
  /** IPv4 source and destination, when the frame carries IPv4 (past one 802.1Q tag at most). */
  readonly src?: string;
  readonly dst?: string;
  /** IP protocol number (17 UDP, 6 TCP, 50 ESP). */
  readonly protocol?: number;
  /** VXLAN network id, for UDP to port 4789 (Docker's overlay data plane). */
  readonly vni?: number;
  readonly esp: boolean;
}

export const VXLAN_PORT = 4789;
const ESP = 50;
const UDP = 17;

const ip = (b: Buffer, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

/** What a frame is on the wire: the outer IPv4 header and, for VXLAN, the network id it carries. */
export function wireOf(frame: Buffer): Wire {
  let at = 12;
  if (frame.length >= 18 && frame.readUInt16BE(at) === 0x8100) at += 4;
  if (frame.length < at + 2 + 20 || frame.readUInt16BE(at) !== 0x0800) return { esp: false };
  const ipAt = at + 2;
  if (frame[ipAt] >> 4 !== 4) return { esp: false };
  const headerLength = (frame[ipAt] & 0x0f) * 4;
  const protocol = frame[ipAt + 9];
  const wire = { src: ip(frame, ipAt + 12), dst: ip(frame, ipAt + 16), protocol, esp: protocol === ESP };
  const l4 = ipAt + headerLength;
  if (protocol === UDP && frame.length >= l4 + 8 + 8 && frame.readUInt16BE(l4 + 2) === VXLAN_PORT) {
    // VXLAN header: flags (the I bit says the id is valid), 3 reserved bytes, 24-bit id, 1 reserved byte.
    const vx = l4 + 8;
    if (frame[vx] & 0x08) return { ...wire, vni: frame.readUIntBE(vx + 4, 3) };
  }
  return wire;
}

/** Frames whose bytes contain `marker` anywhere (headers included: a marker is never a header's bytes). */
export function framesWith(frames: readonly Frame[], marker: string): number {
  if (!marker) throw new Error("an empty marker matches every frame");
  const needle = Buffer.from(marker);
  return frames.filter((f) => f.data.includes(needle)).length;
}
