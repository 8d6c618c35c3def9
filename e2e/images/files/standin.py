#!/usr/bin/env python3
"""HTTP stand-in for services whose real image cannot be built here (influxdb, grafana,
mqtt-exporter). Serves the real port and health path; every answer names the
container's hostname (header X-Served-By, JSON field "hostname") so probes can count replicas
behind a load balancer. Environment the upstream images read is honoured where it changes what
a client sees: the port, Grafana's sub-path, and *_FILE secrets (unreadable => exit 1, as the
real service would fail to start).

mqtt-exporter (sapcc/mosquitto-exporter) subscribes to the broker's $SYS topics with the real
mosquitto_sub over TLS (BROKER_ENDPOINT ssl://host:port, client certificate MQTT_CERT and key
MQTT_KEY, trust roots SSL_CERT_FILE) and serves them as gauges on :9234/metrics
($SYS/broker/clients/connected -> broker_clients_connected).

influxdb takes writes as InfluxDB 2 does: POST /api/v2/write?org=&bucket=&precision= with line
protocol, authorised by the setup token (DOCKER_INFLUXDB_INIT_ADMIN_TOKEN_FILE) as
"Authorization: Token <t>" or "Bearer <t>" (401 otherwise), 204 when written. A point is keyed by
bucket, measurement, tag set and timestamp, so writing it again overwrites it (InfluxDB's upsert).
Each accepted write is appended to a log on the data volume (/var/lib/influxdb2) and fsynced before
the answer, and the log is replayed at start: losing the node and coming back keeps the data.
GET /api/v2/e2e/points?bucket= (same token) returns every stored point as JSON; it exists in the
stand-in only, for the e2e probes to read back what was written (real InfluxDB answers Flux queries)."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SERVICE = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("IOT_E2E_SERVICE", "standin")
HOSTNAME = socket.gethostname()
COUNTS: dict[str, int] = {}


def port_for(service: str) -> int:
    if service == "influxdb":
        # influxd's http-bind-address, e.g. ":8086".
        bind = os.environ.get("INFLUXD_HTTP_BIND_ADDRESS", ":8086")
        return int(bind.rsplit(":", 1)[1])
    if service == "grafana":
        return int(os.environ.get("GF_SERVER_HTTP_PORT", "3000"))
    if service == "mqtt-exporter":
        # The exporter's --bind-address (env BIND_ADDRESS), default 0.0.0.0:9234.
        return int(os.environ.get("BIND_ADDRESS", "0.0.0.0:9234").rsplit(":", 1)[1])
    return int(os.environ.get("PORT", "8080"))


def grafana_prefix() -> str:
    # Grafana serves under the root_url path only when serve_from_sub_path is on; otherwise
    # it expects the proxy to strip the prefix.
    if os.environ.get("GF_SERVER_SERVE_FROM_SUB_PATH", "").lower() != "true":
        return ""
    return urlsplit(os.environ.get("GF_SERVER_ROOT_URL", "")).path.rstrip("/")


def require_readable(key: str, path: str) -> None:
    """Exits as the real service would when a file it reads at start is missing or unreadable."""
    try:
        with open(path, "rb"):
            pass
    except OSError as err:
        print(f"{SERVICE}: cannot read {key}={path}: {err}", file=sys.stderr, flush=True)
        sys.exit(1)


def check_secret_files() -> None:
    for key, path in sorted(os.environ.items()):
        if key.endswith("_FILE") and path.startswith("/"):
            require_readable(key, path)


PRECISION_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


def split_unescaped(text: str, sep: str, quotes: bool = False) -> list[str]:
    """Splits at `sep` not escaped by a backslash (nor, with quotes, inside a double-quoted string)."""
    parts, cur, i, quoted = [], [], 0, False
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if quotes and c == '"':
            quoted = not quoted
        if c == sep and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def field_value(raw: str):
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if raw in ("t", "T", "true", "True", "TRUE"):
        return True
    if raw in ("f", "F", "false", "False", "FALSE"):
        return False
    if re.fullmatch(r"-?\d+[iu]", raw):
        return int(raw[:-1])
    return float(raw)


def parse_line(line: str, precision: int, now_ns: int) -> dict:
    """One line of line protocol -> {measurement, tags, fields, time (ns)}; ValueError when malformed."""
    parts = [p for p in split_unescaped(line, " ", quotes=True) if p != ""]
    if len(parts) not in (2, 3):
        raise ValueError(f"expected 'measurement[,tags] fields [time]': {line[:120]}")
    key = split_unescaped(parts[0], ",")
    tags = {}
    for pair in key[1:]:
        k, eq, v = pair.partition("=")
        if not eq or not k or not v:
            raise ValueError(f"bad tag {pair!r}")
        tags[unescape(k)] = unescape(v)
    fields = {}
    for pair in split_unescaped(parts[1], ",", quotes=True):
        k, eq, v = pair.partition("=")
        if not eq or not k or not v:
            raise ValueError(f"bad field {pair!r}")
        fields[unescape(k)] = field_value(v)
    ts = int(parts[2]) * precision if len(parts) == 3 else now_ns
    return {"measurement": unescape(key[0]), "tags": dict(sorted(tags.items())), "fields": fields, "time": ts}


class PointStore:
    """Points by (bucket, measurement, tags, time): a later write of the same key replaces the fields it names."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, "iot-e2e-points.log")
        self.points: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.log = None

    @staticmethod
    def key(bucket: str, p: dict) -> str:
        return json.dumps([bucket, p["measurement"], p["tags"], p["time"]])

    def apply(self, bucket: str, p: dict) -> None:
        k = self.key(bucket, p)
        old = self.points.get(k)
        self.points[k] = {**p, "bucket": bucket, "fields": {**(old["fields"] if old else {}), **p["fields"]}}

    def open(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue  # a write cut short by a crash was never answered 204
                    for p in entry["points"]:
                        self.apply(entry["bucket"], p)
        except FileNotFoundError:
            pass
        self.log = open(self.path, "a", encoding="utf-8")
        print(f"influxdb: {len(self.points)} points replayed from {self.path}", flush=True)

    def write(self, bucket: str, points: list[dict]) -> None:
        with self.lock:
            self.log.write(json.dumps({"bucket": bucket, "points": points}) + "\n")
            self.log.flush()
            os.fsync(self.log.fileno())
            for p in points:
                self.apply(bucket, p)

    def read(self, bucket: str) -> list[dict]:
        with self.lock:
            return [p for p in self.points.values() if p["bucket"] == bucket]


STORE = PointStore(os.environ.get("IOT_E2E_INFLUXDB_DIR", "/var/lib/influxdb2"))


def admin_token() -> str:
    path = os.environ.get("DOCKER_INFLUXDB_INIT_ADMIN_TOKEN_FILE")
    if not path:
        return ""
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


class BrokerStats:
    """$SYS values from one long-lived mosquitto_sub; restarted with a back-off when it exits."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}
        self.connected = False
        self.last_error = ""
        self.lock = threading.Lock()

    @staticmethod
    def command() -> list[str]:
        endpoint = os.environ.get("BROKER_ENDPOINT", "tcp://127.0.0.1:1883")
        m = re.match(r"^(ssl|tls|tcp|mqtts?)://([^:/]+)(?::(\d+))?$", endpoint)
        if not m:
            print(f"mqtt-exporter: cannot parse BROKER_ENDPOINT={endpoint}", file=sys.stderr, flush=True)
            sys.exit(1)
        scheme, host, port = m.group(1), m.group(2), m.group(3)
        secure = scheme in ("ssl", "tls", "mqtts")
        cmd = ["mosquitto_sub", "-h", host, "-p", port or ("8883" if secure else "1883"),
               "-t", "$SYS/#", "-v", "-i", f"mqtt-exporter-{HOSTNAME}"]
        if secure:
            cmd += ["--cafile", os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")]
            if os.environ.get("MQTT_CERT"):
                cmd += ["--cert", os.environ["MQTT_CERT"], "--key", os.environ.get("MQTT_KEY", "")]
        return cmd

    def run(self) -> None:
        cmd = self.command()
        while True:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for line in proc.stdout:
                topic, _, value = line.strip().partition(" ")
                number = re.match(r"^-?\d+(\.\d+)?", value)
                if not topic.startswith("$SYS/") or not number:
                    continue
                name = re.sub(r"[^a-zA-Z0-9_]", "_", topic[len("$SYS/"):])
                with self.lock:
                    self.values[name] = float(number.group(0))
                    self.connected = True
            err = proc.stderr.read().strip()
            proc.wait()
            with self.lock:
                self.connected = False
                self.last_error = err or f"mosquitto_sub exited {proc.returncode}"
            print(f"mqtt-exporter: broker subscription ended: {self.last_error}", file=sys.stderr, flush=True)
            time.sleep(2)

    def exposition(self) -> str:
        with self.lock:
            lines = [f"# TYPE {k} gauge\n{k} {v:g}" for k, v in sorted(self.values.items())]
            lines.append(f"# TYPE iot_e2e_broker_subscribed gauge\niot_e2e_broker_subscribed {int(self.connected)}")
        return "\n".join(lines) + "\n"


BROKER = BrokerStats()


class Handler(BaseHTTPRequestHandler):
    server_version = f"iot-e2e-{SERVICE}"
    protocol_version = "HTTP/1.1"
    # An idle keep-alive connection ends after 5 s. Stopping joins every request thread, and one waiting
    # on an idle connection would otherwise hold the stop until Swarm's SIGKILL; Go's http.Server.Shutdown
    # closes idle connections at once.
    timeout = 5

    def send_body(self, status: int, body: bytes, ctype: str, extra=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By", HOSTNAME)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, obj: dict, extra=None) -> None:
        obj = {**obj, "service": SERVICE, "hostname": HOSTNAME}
        self.send_body(status, (json.dumps(obj) + "\n").encode(), "application/json", extra)

    def metrics(self) -> None:
        lines = [f'iot_e2e_requests_total{{service="{SERVICE}",hostname="{HOSTNAME}",path="{p}"}} {n}'
                 for p, n in sorted(COUNTS.items())]
        body = "# TYPE iot_e2e_requests_total counter\n" + "\n".join(lines) + "\n"
        self.send_body(200, body.encode(), "text/plain; version=0.0.4")

    def authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        expected = admin_token()
        return bool(expected) and scheme.lower() in ("token", "bearer") and token.strip() == expected

    def influx_write(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        if not self.authorised():
            return self.send_json(401, {"code": "unauthorized", "message": "unauthorized access"})
        query = parse_qs(urlsplit(self.path).query)
        bucket = (query.get("bucket") or [""])[0]
        precision = PRECISION_NS.get((query.get("precision") or ["ns"])[0])
        if not bucket or precision is None:
            return self.send_json(400, {"code": "invalid", "message": "bucket and a valid precision are required"})
        now_ns = time.time_ns()
        try:
            points = [parse_line(line, precision, now_ns) for line in body.splitlines() if line.strip()
                      and not line.lstrip().startswith("#")]
        except ValueError as err:
            return self.send_json(400, {"code": "invalid", "message": f"unable to parse: {err}"})
        STORE.write(bucket, points)
        self.send_body(204, b"", "text/plain")

    def influx_points(self) -> None:
        if not self.authorised():
            return self.send_json(401, {"code": "unauthorized", "message": "unauthorized access"})
        bucket = (parse_qs(urlsplit(self.path).query).get("bucket") or [""])[0]
        points = STORE.read(bucket)
        self.send_json(200, {"bucket": bucket, "count": len(points), "points": points})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        COUNTS[path] = COUNTS.get(path, 0) + 1
        if SERVICE == "influxdb" and path == "/api/v2/write":
            return self.influx_write()
        self.send_json(404, {"message": "Not found", "path": path})

    def route(self) -> None:
        path = urlsplit(self.path).path
        COUNTS[path] = COUNTS.get(path, 0) + 1
        if SERVICE == "influxdb":
            if path == "/health":
                return self.send_json(200, {"name": "influxdb", "message": "ready for queries and writes",
                                            "status": "pass", "checks": [], "version": "v2.7-e2e"})
            if path == "/ping":
                return self.send_body(204, b"", "text/plain")
            if path == "/ready":
                return self.send_json(200, {"status": "ready"})
            if path == "/metrics":
                return self.metrics()
            if path == "/api/v2/e2e/points" and self.command == "GET":
                return self.influx_points()
        elif SERVICE == "grafana":
            prefix = grafana_prefix()
            if prefix and not (path == prefix or path.startswith(prefix + "/")):
                return self.send_json(404, {"message": "Not found"})
            sub = path[len(prefix):] or "/"
            if sub == "/api/health":
                return self.send_json(200, {"database": "ok", "version": "11-e2e"})
            if sub == "/metrics":
                return self.metrics()
            if sub == "/":
                return self.send_body(302, b"", "text/html", {"Location": prefix + "/login"})
            if sub == "/login":
                return self.send_body(200, f"<html><title>Grafana</title><body>{HOSTNAME}</body></html>\n".encode(),
                                      "text/html")
        elif SERVICE == "mqtt-exporter":
            if path == "/metrics":
                return self.send_body(200, BROKER.exposition().encode(), "text/plain; version=0.0.4")
        self.send_json(404, {"message": "Not found", "path": path})

    def do_GET(self) -> None:
        self.route()

    def do_HEAD(self) -> None:
        self.route()

    def log_message(self, fmt: str, *args) -> None:
        print(f"{self.address_string()} {fmt % args}", flush=True)


def check_exporter_files() -> None:
    # The exporter loads its client certificate, key and trust roots at start.
    for key in ("MQTT_CERT", "MQTT_KEY", "SSL_CERT_FILE"):
        path = os.environ.get(key)
        if path:
            require_readable(key, path)


def main() -> None:
    check_secret_files()
    if SERVICE == "mqtt-exporter":
        check_exporter_files()
        threading.Thread(target=BROKER.run, daemon=True).start()
    if SERVICE == "influxdb":
        STORE.open()
    port = port_for(SERVICE)
    httpd = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    # Request threads are joined on close: a stop finishes the requests in flight.
    httpd.daemon_threads = False
    # PID 1 ignores SIGTERM without a handler. Stop as Go's http.Server.Shutdown does (Grafana, InfluxDB):
    # no new connections, the requests in flight answered, then exit. shutdown() waits for serve_forever,
    # so it runs in a thread of its own.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=httpd.shutdown, daemon=True).start())
    print(f"{SERVICE} stand-in on :{port} as uid {os.getuid()} ({HOSTNAME})", flush=True)
    httpd.serve_forever()
    httpd.server_close()


if __name__ == "__main__":
    main()
