"""The two ends of the encryption probe, run in tasks on two nodes (python3 -c, then a mode).

serve PORT   echo server on every address: each UDP datagram and each TCP connection's first bytes
             are sent back as they came, and logged on stdout as a JSON line {"proto", "peer", "data"}.
send JSON    {"targets": [{"name", "ip", "port", "udp", "tcp"}], "patience": s}: for each target in
             turn, sends its UDP marker every 0.5 s until it comes back, then connects over TCP (2 s
             connect timeout) and sends its TCP marker until it comes back, both for at most `patience`
             seconds. Prints {name: {"udp": {"sent", "echoed", "seconds"}, "tcp": {"attempts",
             "connected", "echoed", "error", "seconds"}}}.
"""
import errno
import json
import socket
import sys
import threading
import time


def log(proto: str, peer, data: bytes) -> None:
    print(json.dumps({"proto": proto, "peer": peer[0], "data": data.decode("latin-1")}), flush=True)


def serve(port: int) -> None:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", port))

    def udp_loop() -> None:
        while True:
            data, peer = udp.recvfrom(4096)
            log("udp", peer, data)
            udp.sendto(data, peer)

    def answer(conn: socket.socket, peer) -> None:
        with conn:
            conn.settimeout(10)
            try:
                data = conn.recv(4096)
                log("tcp", peer, data)
                conn.sendall(data)
            except OSError:
                pass

    threading.Thread(target=udp_loop, daemon=True).start()
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("0.0.0.0", port))
    tcp.listen(16)
    print(json.dumps({"listening": port}), flush=True)
    while True:
        conn, peer = tcp.accept()
        threading.Thread(target=answer, args=(conn, peer), daemon=True).start()


def send_udp(ip: str, port: int, marker: bytes, patience: float) -> dict:
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    sent = 0
    with s:
        while time.monotonic() - t0 < patience:
            s.sendto(marker, (ip, port))
            sent += 1
            try:
                if s.recvfrom(4096)[0] == marker:
                    return {"sent": sent, "echoed": True, "seconds": round(time.monotonic() - t0, 2)}
            except OSError:
                pass
    return {"sent": sent, "echoed": False, "seconds": round(time.monotonic() - t0, 2)}


def send_tcp(ip: str, port: int, marker: bytes, patience: float) -> dict:
    t0 = time.monotonic()
    attempts, connected, error = 0, False, None
    while time.monotonic() - t0 < patience:
        attempts += 1
        try:
            with socket.create_connection((ip, port), timeout=2) as c:
                connected = True
                c.settimeout(3)
                c.sendall(marker)
                if c.recv(4096) == marker:
                    return {"attempts": attempts, "connected": True, "echoed": True, "error": None,
                            "seconds": round(time.monotonic() - t0, 2)}
                error = "answer differs"
        except socket.timeout:
            error = "timeout"
        except OSError as e:
            error = errno.errorcode.get(e.errno or 0, str(e))
        time.sleep(0.5)
    return {"attempts": attempts, "connected": connected, "echoed": False, "error": error,
            "seconds": round(time.monotonic() - t0, 2)}


def send(req: dict) -> None:
    out = {}
    for t in req["targets"]:
        out[t["name"]] = {
            "udp": send_udp(t["ip"], t["port"], t["udp"].encode(), req["patience"]),
            "tcp": send_tcp(t["ip"], t["port"], t["tcp"].encode(), req["patience"]),
        }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        send(json.loads(sys.argv[2]))
