/**
 * The e2e cluster's encryption probe, its pure parts (e2e/cluster/pcap.ts, encryptionReport.ts): reading
 * the hub bridge's capture, counting a marker in the clear, the networks it creates, and its verdict.
 * The probe itself needs root and the cluster (npm run e2e:cluster).
 */
import { SegmentedNetworks } from "../components/networks";
import { networkCreateBody } from "../e2e/harness/spec";
import {
  countCapture,
  crossNodeOutcome,
  encryptionVerdict,
  markersFor,
  probeNetworks,
} from "../e2e/cluster/encryptionReport";
import { Frame, framesWith, readPcap, wireOf } from "../e2e/cluster/pcap";
import { parseCidr, overlaps } from "../model/cidr";
import { planNetworks } from "../model/networks";
import { evaluateProgram } from "../tools/evaluate";
import { readStackConfig } from "../tools/stackFile";
import { echoedDelivery, nothingDelivered, passingEncryption } from "./encryptionFixture";
import { NETWORK, topologyFrom } from "./helpers";

const mac = Buffer.from([2, 0, 0, 0, 0, 1]);
const ipBytes = (a: string) => Buffer.from(a.split(".").map(Number));

function ipv4(src: string, dst: string, protocol: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h[8] = 64;
  h[9] = protocol;
  ipBytes(src).copy(h, 12);
  ipBytes(dst).copy(h, 16);
  return Buffer.concat([h, payload]);
}

function udp(sport: number, dport: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

const ethernet = (payload: Buffer, type = 0x0800) => {
  const t = Buffer.alloc(2);
  t.writeUInt16BE(type);
  return Buffer.concat([mac, mac, t, payload]);
};

function vxlan(vni: number, inner: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 0x08;
  h.writeUIntBE(vni, 4, 3);
  return Buffer.concat([h, inner]);
}

/** A task's datagram on an overlay, as it crosses the hub: node -> node VXLAN around the task's frame. */
const overlayFrame = (from: string, to: string, vni: number, text: string) =>
  ethernet(
    ipv4(
      from,
      to,
      17,
      udp(
        40000,
        4789,
        vxlan(vni, ethernet(ipv4("10.231.76.3", "10.231.76.2", 17, udp(5000, 9123, Buffer.from(text))))),
      ),
    ),
  );
const espFrame = (from: string, to: string) => ethernet(ipv4(from, to, 50, Buffer.alloc(64, 0xab)));
const arpFrame = () => ethernet(Buffer.alloc(28), 0x0806);

function pcap(frames: Buffer[], bigEndian = false): Buffer {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    if (bigEndian) b.writeUInt32BE(n);
    else b.writeUInt32LE(n);
    return b;
  };
  const u16 = (n: number) => {
    const b = Buffer.alloc(2);
    if (bigEndian) b.writeUInt16BE(n);
    else b.writeUInt16LE(n);
    return b;
  };
  const header = Buffer.concat([u32(0xa1b2c3d4), u16(2), u16(4), u32(0), u32(0), u32(65535), u32(1)]);
  const records = frames.map((f, i) =>
    Buffer.concat([u32(1_800_000_000 + i), u32(250_000), u32(f.length), u32(f.length), f]),
  );
  return Buffer.concat([header, ...records]);
}

const A = "172.30.77.14";
const B = "172.30.77.15";
const markers = markersFor("ABC123DEF456");
const VNI = { encrypted: 11433152, control: 11433744 };

describe("reading the hub bridge's capture", () => {
  it("reads every frame of a pcap file in either byte order, with its time", () => {
    const frames = [overlayFrame(A, B, 1, "x"), arpFrame(), espFrame(A, B)];
    for (const bigEndian of [false, true]) {
      const read = readPcap(pcap(frames, bigEndian));
      expect(read.map((f) => f.data)).toEqual(frames);
      expect(read[1].time).toBeCloseTo(1_800_000_001.25, 5);
    }
  });

  it("refuses a file that is no Ethernet pcap, or is cut short", () => {
    expect(() => readPcap(Buffer.alloc(10))).toThrow(/shorter than the 24-byte file header/);
    const file = pcap([arpFrame()]);
    expect(() => readPcap(Buffer.concat([Buffer.alloc(4), file.subarray(4)]))).toThrow(/magic/);
    const raw = Buffer.from(file);
    raw.writeUInt32LE(101, 20);
    expect(() => readPcap(raw)).toThrow(/link type 101/);
    expect(() => readPcap(file.subarray(0, file.length - 3))).toThrow(/frame 1 is cut short/);
  });

  it("names a frame's outer addresses, its VXLAN id and ESP", () => {
    expect(wireOf(overlayFrame(A, B, VNI.control, "x"))).toEqual({
      src: A,
      dst: B,
      protocol: 17,
      esp: false,
      vni: VNI.control,
    });
    expect(wireOf(espFrame(B, A))).toEqual({ src: B, dst: A, protocol: 50, esp: true });
    expect(wireOf(arpFrame())).toEqual({ esp: false });
    // Behind an 802.1Q tag.
    const tagged = overlayFrame(A, B, 7, "x");
    const withTag = Buffer.concat([tagged.subarray(0, 12), Buffer.from([0x81, 0, 0, 5]), tagged.subarray(12)]);
    expect(wireOf(withTag).vni).toBe(7);
    // UDP to another port is no VXLAN, whatever its bytes.
    expect(wireOf(ethernet(ipv4(A, B, 17, udp(1, 4790, vxlan(7, Buffer.alloc(20)))))).vni).toBeUndefined();
  });

  it("counts the frames holding a marker's bytes, and only the whole marker", () => {
    const frames: Frame[] = [
      overlayFrame(A, B, 1, `payload ${markers.control.udp} end`),
      overlayFrame(B, A, 1, markers.control.udp),
      overlayFrame(A, B, 1, markers.control.udp.slice(0, -1)),
      espFrame(A, B),
    ].map((data) => ({ time: 0, data }));
    expect(framesWith(frames, markers.control.udp)).toBe(2);
    expect(framesWith(frames, markers.control.tcp)).toBe(0);
    expect(() => framesWith(frames, "")).toThrow(/empty marker/);
  });
});

describe("the probe's markers", () => {
  it("are four, none inside another, and another run's never match", () => {
    const all = [markers.encrypted.udp, markers.encrypted.tcp, markers.control.udp, markers.control.tcp];
    expect(new Set(all).size).toBe(4);
    for (const a of all) for (const b of all) if (a !== b) expect(a.includes(b)).toBe(false);
    const other = markersFor("ABC123DEF457");
    expect(all).not.toContain(other.encrypted.udp);
    expect(() => markersFor("ab")).toThrow(/6\+ letters or digits/);
    expect(() => markersFor("abc-123-def")).toThrow(/letters or digits/);
  });
});

describe("counting a capture", () => {
  it("counts markers in the clear per network, and VXLAN and ESP between the two nodes only", () => {
    const frames = [
      overlayFrame(A, B, VNI.control, markers.control.udp),
      overlayFrame(B, A, VNI.control, markers.control.udp),
      overlayFrame(A, B, VNI.control, markers.control.tcp),
      overlayFrame(A, B, VNI.encrypted, markers.encrypted.tcp),
      overlayFrame(A, "172.30.77.16", VNI.encrypted, "gossip"),
      espFrame(A, B),
      espFrame(B, A),
      espFrame("172.30.77.11", B),
      arpFrame(),
    ].map((data) => ({ time: 0, data }));
    expect(countCapture(frames, markers, VNI, [A, B])).toEqual({
      frames: 9,
      plaintextSeen: 1,
      controlPlaintextSeen: 3,
      vxlanFrames: { encrypted: 1, control: 3 },
      espFrames: 2,
    });
  });

  it("counts a frame holding both of a network's markers once", () => {
    const frames = [overlayFrame(A, B, VNI.control, markers.control.udp + markers.control.tcp)].map((data) => ({
      time: 0,
      data,
    }));
    expect(countCapture(frames, markers, VNI, [A, B]).controlPlaintextSeen).toBe(1);
  });
});

const nothing = nothingDelivered;
const echoed = echoedDelivery;
const report = passingEncryption;

describe("the cross-node outcome", () => {
  it("is fails-closed when nothing arrived, encrypted when it did, plaintext when a marker was readable", () => {
    expect(crossNodeOutcome(0, nothing)).toBe("fails-closed");
    expect(crossNodeOutcome(0, echoed)).toBe("encrypted");
    expect(crossNodeOutcome(0, { ...nothing, received: ["udp"] })).toBe("encrypted");
    expect(crossNodeOutcome(2, nothing)).toBe("plaintext");
    expect(crossNodeOutcome(2, echoed)).toBe("plaintext");
  });
});

describe("the encryption verdict", () => {
  it("passes a network that fails closed, or works, with no plaintext and a control that was seen", () => {
    expect(encryptionVerdict(report())).toEqual([]);
    expect(
      encryptionVerdict(report({ crossNode: "encrypted", delivered: { encrypted: echoed, control: echoed } })),
    ).toEqual([]);
  });

  it("fails plaintext on the encrypted network", () => {
    expect(encryptionVerdict(report({ plaintextSeen: 3, crossNode: "plaintext" }))).toEqual([
      "encryption: 3 frame(s) on the hub bridge carried the probe's payload in plaintext on the encrypted network iot-encryption-probe-network",
    ]);
  });

  it("fails when the control shows the capture did not see overlay payloads, or nothing crossed", () => {
    expect(encryptionVerdict(report({ controlPlaintextSeen: 0 }))).toEqual([
      "encryption: the capture saw no payload of the unencrypted control network iot-encryption-control-network, so it proves nothing",
    ]);
    expect(
      encryptionVerdict(report({ controlPlaintextSeen: 0, delivered: { encrypted: nothing, control: nothing } })),
    ).toHaveLength(2);
  });

  it("fails when the network under test is not encrypted on the cluster, or the control is", () => {
    const plain = report({ network: { ...report().network, options: {} } });
    expect(encryptionVerdict(plain)).toEqual([
      'encryption: network iot-encryption-probe-network on the cluster has no "encrypted" driver option',
    ]);
    const both = report({ control: { ...report().control, options: { encrypted: "true" } } });
    expect(encryptionVerdict(both)).toEqual([
      "encryption: the control network iot-encryption-control-network is encrypted too",
    ]);
  });

  it("fails what the cleanup left, and a run that did not probe", () => {
    expect(encryptionVerdict(report({ cleanup: { removed: [], errors: ["network x: in use"] } }))).toEqual([
      "encryption: cleanup: network x: in use",
    ]);
    expect(encryptionVerdict(undefined)).toEqual(["encryption: not probed"]);
  });
});

describe("the probe's networks", () => {
  const { config } = readStackConfig("cluster");
  const topology = topologyFrom(config, { namespaced: true });

  it("are internal tier overlays the program plans, one encrypted, clear of every network of the stack", () => {
    expect(topology.encryptOverlays).toBe(false);
    const { encrypted, control } = probeNetworks(topology);
    expect(encrypted).toMatchObject({ kind: "tier", internal: true, encrypted: true, services: [] });
    expect(control).toMatchObject({ kind: "tier", internal: true, encrypted: false, services: [] });
    const stack = planNetworks(topology).networks;
    for (const probe of [encrypted, control]) {
      expect(stack.map((n) => n.name)).not.toContain(probe.name);
      for (const n of [...stack, ...[encrypted, control].filter((x) => x !== probe)]) {
        expect(overlaps(parseCidr(n.subnet), parseCidr(probe.subnet))).toBe(false);
        expect(n.vxlanId).not.toBe(probe.vxlanId);
      }
    }
  });

  it("carry the driver options the program's component registers, mapped as the harness creates them", async () => {
    const planned = probeNetworks(topology);
    const { resources } = await evaluateProgram({
      stack: "cluster",
      config,
      load: async () => {
        new SegmentedNetworks("encryption-probe", {
          plan: { networks: [planned.encrypted, planned.control], attachments: {}, reachability: {}, intent: {} },
          stack: "cluster",
          environment: topology.environment,
        });
        return {};
      },
    });
    const body = (name: string) => {
      const r = resources.find((x) => x.type === NETWORK && x.inputs.name === name);
      return networkCreateBody(name, r!.inputs, {});
    };
    expect(body(planned.encrypted.name)).toMatchObject({
      Driver: "overlay",
      Internal: true,
      Options: {
        encrypted: "true",
        "com.docker.network.driver.overlay.vxlanid_list": String(planned.encrypted.vxlanId),
      },
    });
    expect(body(planned.control.name).Options).toEqual({
      "com.docker.network.driver.overlay.vxlanid_list": String(planned.control.vxlanId),
    });
  });
});
