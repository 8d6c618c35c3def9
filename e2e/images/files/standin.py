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
($SYS/broker/clients/connected -> broker_clients_connected)."""
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
from urllib.parse import urlsplit

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
