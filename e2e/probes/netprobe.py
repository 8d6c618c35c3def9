"""Network probe run inside a service's task (python3 -c, argument: JSON request).

Asks Docker's embedded DNS directly (one UDP query per name, the nameserver from
/etc/resolv.conf), so each answer says NOERROR/NXDOMAIN/SERVFAIL or that none came within
the timeout; opens TCP connections and names the errno when they fail; asks the kernel for
the route to each address. Lookups and connects run in a few threads, so a matrix of
unreachable peers costs one timeout per batch, and one small process stays within the
memory limits of the services it runs in.

Request:  {"dns": [name, ...], "tcp": [[host, port], ...], "routes": [ip, ...], "timeout": s}
Response: {"dns": {name: {"status", "addrs", "ms"}}, "tcp": {"host:port": {"result", "ms"}},
           "routes": {ip: "..."}}
"""
import errno
import json
import os
import random
import socket
import struct
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

REQ = json.loads(sys.argv[1])
TIMEOUT = float(REQ.get("timeout", 3))
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def nameserver() -> str:
    try:
        with open("/etc/resolv.conf") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver":
                    return parts[1]
    except OSError:
        pass
    return "127.0.0.11"


NS = nameserver()


def skip_name(msg: bytes, off: int) -> int:
    while True:
        length = msg[off]
        if length == 0:
            return off + 1
        if length & 0xC0 == 0xC0:
            return off + 2
        off += 1 + length


def dns(name: str) -> dict:
    qid = random.randint(0, 0xFFFF)
    query = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        query += bytes([len(label)]) + label.encode()
    query += b"\0" + struct.pack(">HH", 1, 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(TIMEOUT)
    t0 = time.monotonic()
    try:
        sock.sendto(query, (NS, 53))
        while True:
            msg, _ = sock.recvfrom(4096)
            if len(msg) >= 12 and struct.unpack(">H", msg[:2])[0] == qid:
                break
    except socket.timeout:
        return {"status": "timeout", "addrs": [], "ms": round((time.monotonic() - t0) * 1000)}
    except OSError as e:
        return {"status": errno.errorcode.get(e.errno, str(e)), "addrs": [], "ms": round((time.monotonic() - t0) * 1000)}
    finally:
        sock.close()
    ms = round((time.monotonic() - t0) * 1000)
    flags, qd, an = struct.unpack(">HHH", msg[2:8])
    off = 12
    for _ in range(qd):
        off = skip_name(msg, off) + 4
    addrs = []
    for _ in range(an):
        off = skip_name(msg, off)
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            addrs.append(socket.inet_ntoa(msg[off:off + 4]))
        off += rdlen
    return {"status": RCODES.get(flags & 0xF, str(flags & 0xF)), "addrs": sorted(addrs), "ms": ms}


def tcp(host: str, port: int) -> dict:
    t0 = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT):
            result = "open"
    except socket.timeout:
        result = "timeout"
    except socket.gaierror as e:
        result = f"unresolved ({e.strerror})"
    except OSError as e:
        result = errno.errorcode.get(e.errno, str(e))
    return {"result": result, "ms": round((time.monotonic() - t0) * 1000)}


def route(ip: str) -> str:
    try:
        out = subprocess.run(["ip", "route", "get", ip], capture_output=True, text=True, timeout=TIMEOUT)
        text = (out.stdout or out.stderr).strip().splitlines()
        return text[0].strip() if text else f"exit {out.returncode}"
    except Exception as e:  # noqa: BLE001 - report whatever stopped the lookup
        return f"error: {e}"


def main() -> None:
    workers = int(REQ.get("parallel", 8))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        dns_jobs = {n: pool.submit(dns, n) for n in REQ.get("dns", [])}
        tcp_jobs = {f"{h}:{p}": pool.submit(tcp, h, int(p)) for h, p in REQ.get("tcp", [])}
        route_jobs = {ip: pool.submit(route, ip) for ip in REQ.get("routes", [])}
        out = {
            "dns": {k: f.result() for k, f in dns_jobs.items()},
            "tcp": {k: f.result() for k, f in tcp_jobs.items()},
            "routes": {k: f.result() for k, f in route_jobs.items()},
            "uid": os.getuid(),
        }
    print(json.dumps(out))


main()
