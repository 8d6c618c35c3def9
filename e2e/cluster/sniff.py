"""Captures every frame crossing a Linux bridge into a pcap file (what `tcpdump -i BRIDGE -w FILE` does).

Run inside the namespace that holds the bridge (nsenter --net=/run/netns/<hub>). A raw AF_PACKET socket is
bound to the bridge and the bridge is put in promiscuous mode through a packet membership (dropped by the
kernel when the socket closes, so nothing outlives the capture): a bridge passes a frame it forwards from
one port to another up to its own device only when promiscuous, so without it the capture would see
broadcasts alone.

Prints "ready" once the socket listens; stops when stdin closes or after --max-seconds, writes the file,
prints a JSON line {"frames", "bytes", "truncated"}. Frames beyond --max-frames are counted, not written.

Usage: sniff.py IFACE OUT.pcap [--max-seconds S] [--max-frames N]
"""
import json
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
SNAPLEN = 65535


def main() -> None:
    iface, out = sys.argv[1], sys.argv[2]
    opts = dict(zip(sys.argv[3::2], sys.argv[4::2]))
    max_seconds = float(opts.get("--max-seconds", 120))
    max_frames = int(opts.get("--max-frames", 200000))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    ifindex = socket.if_nametoindex(iface)
    s.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, struct.pack("iHH8s", ifindex, PACKET_MR_PROMISC, 0, b""))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
    records = []
    seen = {"frames": 0, "bytes": 0}

    def take(data: bytes) -> None:
        seen["frames"] += 1
        seen["bytes"] += len(data)
        if len(records) < max_frames:
            t = time.time()
            records.append(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(data), len(data)) + data)

    print("ready", flush=True)
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([s, sys.stdin], [], [], 0.2)
        if sys.stdin in ready and not sys.stdin.buffer.read1(4096):
            break
        if s in ready:
            take(s.recv(SNAPLEN))
    # Whatever is still queued on the socket arrived before the stop.
    s.setblocking(False)
    while True:
        try:
            take(s.recv(SNAPLEN))
        except BlockingIOError:
            break
    s.close()
    with open(out, "wb") as f:
        # pcap global header: magic, version 2.4, UTC offset, accuracy, snaplen, linktype 1 (Ethernet).
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, 1))
        for r in records:
            f.write(r)
    print(json.dumps({**seen, "truncated": seen["frames"] > len(records)}), flush=True)


if __name__ == "__main__":
    main()
