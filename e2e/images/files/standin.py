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
stand-in only, for the e2e probes to read back what was written (real InfluxDB answers Flux queries).

It also keeps InfluxDB 2's v1 compatibility identities, as the program's start script reconciles them
(model/render/influxdb.ts), through the same routes InfluxDB 2 serves, all authorised by the setup token:
GET /api/v2/orgs?org=, GET|POST /api/v2/buckets, GET|POST /api/v2/dbrps and DELETE /api/v2/dbrps/<id>,
GET|POST /private/legacy/authorizations (?token=<user>), POST /private/legacy/authorizations/<id>/password
and DELETE /private/legacy/authorizations/<id>. v1 clients write (POST /write?db=&rp=&precision=) and query
(GET|POST /query?db=&q=) with Basic auth, "Authorization: Token user:password" or u=/p= parameters; the
database maps to a bucket through its DBRP mapping (or the bucket of that name, InfluxDB's virtual mapping).
Wrong or missing credentials get 401 {"code":"unauthorized","message":"Unauthorized"}; a write without a write
permission on the bucket 403 {"code":"forbidden","message":"insufficient permissions for write"}, a query
without read permission 403 likewise. A query answers the stored points of the measurement it names (FROM) in
the v1 JSON shape. Organisation, buckets, mappings and users (passwords as SHA-256) are kept in a JSON file on
the data volume, written atomically, so they survive restarts like the points."""
import base64
import datetime
import hashlib
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


class Registry:
    """InfluxDB 2's organisation, buckets, DBRP mappings and v1 authorizations, persisted on the data volume."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, "iot-e2e-registry.json")
        self.lock = threading.Lock()
        self.state: dict = {}

    @staticmethod
    def new_id() -> str:
        return os.urandom(8).hex()

    def open(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as f:
                self.state = json.load(f)
        except (FileNotFoundError, ValueError):
            org = os.environ.get("DOCKER_INFLUXDB_INIT_ORG", "iot")
            self.state = {"org": {"id": self.new_id(), "name": org}, "buckets": [], "dbrps": [], "auths": []}
            bucket = os.environ.get("DOCKER_INFLUXDB_INIT_BUCKET")
            if bucket:
                self.state["buckets"].append(self.bucket_object(bucket))
            self.save()
        print(f"influxdb: {len(self.state['auths'])} v1 users, {len(self.state['buckets'])} buckets from {self.path}",
              flush=True)

    def bucket_object(self, name: str) -> dict:
        return {"id": self.new_id(), "orgID": self.state["org"]["id"], "type": "user", "name": name,
                "retentionRules": []}

    def save(self) -> None:
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    @staticmethod
    def digest(password: str) -> str:
        return hashlib.sha256(password.encode()).hexdigest()

    def public_auth(self, a: dict) -> dict:
        return {k: v for k, v in a.items() if k != "password_sha256"}

    def bucket_for(self, db: str, rp: str):
        """The bucket a v1 database and retention policy map to: a DBRP mapping, else the bucket named db."""
        for m in self.state["dbrps"]:
            if m["database"] == db and (m["retention_policy"] == rp if rp else m["default"]):
                return next((b for b in self.state["buckets"] if b["id"] == m["bucketID"]), None)
        if rp in ("", "autogen"):
            return next((b for b in self.state["buckets"] if b["name"] == db), None)
        return None

    def login(self, user: str, password: str):
        for a in self.state["auths"]:
            if a["token"] == user and a.get("status") == "active" and a.get("password_sha256") == self.digest(password):
                return a
        return None


REGISTRY = Registry(os.environ.get("IOT_E2E_INFLUXDB_DIR", "/var/lib/influxdb2"))
UNAUTHORIZED = {"code": "unauthorized", "message": "Unauthorized"}


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


MANAGEMENT = ("/api/v2/orgs", "/api/v2/buckets", "/api/v2/dbrps", "/private/legacy/authorizations")


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

    def body_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            value = json.loads(raw or b"{}")
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def query_args(self) -> dict:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def management(self, method: str, path: str) -> None:
        """The InfluxDB 2 routes the start script reconciles through; the setup token only."""
        body = self.body_json() if method == "POST" else {}
        if not self.authorised():
            return self.send_json(401, {"code": "unauthorized", "message": "unauthorized access"})
        if body is None:
            return self.send_json(400, {"code": "invalid", "message": "invalid JSON body"})
        args = self.query_args()
        r = REGISTRY
        with r.lock:
            st = r.state
            org = st["org"]
            if path == "/api/v2/orgs" and method == "GET":
                if args.get("org") not in (None, org["name"]):
                    return self.send_json(404, {"code": "not found", "message": f"organization name \"{args['org']}\" not found"})
                return self.send_json(200, {"links": {"self": "/api/v2/orgs"}, "orgs": [org]})
            if path == "/api/v2/buckets" and method == "GET":
                found = [b for b in st["buckets"] if args.get("name") in (None, b["name"])]
                return self.send_json(200, {"links": {"self": "/api/v2/buckets"}, "buckets": found})
            if path == "/api/v2/buckets" and method == "POST":
                name = body.get("name")
                if body.get("orgID") != org["id"] or not isinstance(name, str) or not name:
                    return self.send_json(400, {"code": "invalid", "message": "orgID and name are required"})
                if any(b["name"] == name for b in st["buckets"]):
                    return self.send_json(422, {"code": "conflict", "message": "bucket with name " + name + " already exists"})
                bucket = r.bucket_object(name)
                st["buckets"].append(bucket)
                r.save()
                return self.send_json(201, bucket)
            if path == "/api/v2/dbrps" and method == "GET":
                found = [m for m in st["dbrps"] if args.get("db") in (None, m["database"])
                         and args.get("rp") in (None, m["retention_policy"])]
                return self.send_json(200, {"content": found})
            if path == "/api/v2/dbrps" and method == "POST":
                bucket = next((b for b in st["buckets"] if b["id"] == body.get("bucketID")), None)
                if bucket is None or body.get("orgID") != org["id"] or not body.get("database"):
                    return self.send_json(400, {"code": "invalid", "message": "bucketID, database and orgID are required"})
                rp = body.get("retention_policy") or "autogen"
                if any(m["database"] == body["database"] and m["retention_policy"] == rp for m in st["dbrps"]):
                    return self.send_json(409, {"code": "conflict", "message": "dbrp already exists"})
                mapping = {"id": r.new_id(), "database": body["database"], "retention_policy": rp,
                           "default": bool(body.get("default")), "orgID": org["id"], "bucketID": bucket["id"]}
                st["dbrps"].append(mapping)
                r.save()
                return self.send_json(201, mapping)
            m = re.fullmatch(r"/api/v2/dbrps/([0-9a-f]+)", path)
            if m and method == "DELETE":
                before = len(st["dbrps"])
                st["dbrps"] = [x for x in st["dbrps"] if x["id"] != m.group(1)]
                if len(st["dbrps"]) == before:
                    return self.send_json(404, {"code": "not found", "message": "unable to find DBRP"})
                r.save()
                return self.send_body(204, b"", "text/plain")
            if path == "/private/legacy/authorizations" and method == "GET":
                found = [r.public_auth(a) for a in st["auths"] if args.get("token") in (None, a["token"])]
                if "token" in args and not found:
                    return self.send_json(404, {"code": "not found", "message": "authorization not found"})
                return self.send_json(200, {"links": {"self": "/private/legacy/authorizations"}, "authorizations": found})
            if path == "/private/legacy/authorizations" and method == "POST":
                perms = body.get("permissions")
                ok = (isinstance(body.get("token"), str) and body["token"] and body.get("orgID") == org["id"]
                      and isinstance(perms, list) and perms and all(
                          isinstance(p, dict) and p.get("action") in ("read", "write")
                          and isinstance(p.get("resource"), dict) and p["resource"].get("type") == "buckets"
                          for p in perms))
                if not ok:
                    return self.send_json(400, {"code": "invalid", "message": "token, orgID and bucket permissions are required"})
                if any(a["token"] == body["token"] for a in st["auths"]):
                    return self.send_json(409, {"code": "conflict", "message": "token already exists"})
                auth = {"id": r.new_id(), "token": body["token"], "status": "active",
                        "description": str(body.get("description", "")), "orgID": org["id"], "permissions": perms}
                st["auths"].append(auth)
                r.save()
                return self.send_json(201, r.public_auth(auth))
            m = re.fullmatch(r"/private/legacy/authorizations/([0-9a-f]+)(/password)?", path)
            auth = m and next((a for a in st["auths"] if a["id"] == m.group(1)), None)
            if m and method == "POST" and m.group(2):
                if auth is None:
                    return self.send_json(404, {"code": "not found", "message": "authorization not found"})
                if not isinstance(body.get("password"), str) or not body["password"]:
                    return self.send_json(400, {"code": "invalid", "message": "a password is required"})
                auth["password_sha256"] = r.digest(body["password"])
                r.save()
                return self.send_body(204, b"", "text/plain")
            if m and method == "DELETE" and not m.group(2):
                if auth is None:
                    return self.send_json(404, {"code": "not found", "message": "authorization not found"})
                st["auths"] = [a for a in st["auths"] if a is not auth]
                r.save()
                return self.send_body(204, b"", "text/plain")
        self.send_json(404, {"code": "not found", "message": "path not found", "path": path})

    def v1_permissions(self):
        """A v1 caller's permissions: a set of (action, bucket id), "all" for the setup token, None when refused."""
        args = self.query_args()
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        user = password = None
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
        elif scheme.lower() in ("token", "bearer") and value.strip():
            if ":" in value and scheme.lower() == "token":
                user, _, password = value.strip().partition(":")
            else:
                return "all" if self.authorised() else None
        elif "u" in args or "p" in args:
            user, password = args.get("u", ""), args.get("p", "")
        if not user:
            return None
        with REGISTRY.lock:
            auth = REGISTRY.login(user, password or "")
            if auth is None:
                return None
            return {(p["action"], p["resource"].get("id")) for p in auth["permissions"]}

    def v1_bucket(self, action: str):
        """(bucket, None) or (None, reason sent): authenticates, maps db/rp, checks the permission."""
        perms = self.v1_permissions()
        if perms is None:
            self.send_json(401, UNAUTHORIZED)
            return None
        args = self.query_args()
        with REGISTRY.lock:
            bucket = REGISTRY.bucket_for(args.get("db", ""), args.get("rp", ""))
        if bucket is None:
            self.send_json(404, {"code": "not found", "message": f"database not found: {args.get('db', '')!r}"})
            return None
        if perms != "all" and (action, bucket["id"]) not in perms:
            self.send_json(403, {"code": "forbidden", "message": f"insufficient permissions for {action}"})
            return None
        return bucket

    def v1_write(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        bucket = self.v1_bucket("write")
        if bucket is None:
            return
        v1 = {"n": "ns", "ns": "ns", "u": "us", "us": "us", "ms": "ms", "s": "s"}
        precision = PRECISION_NS.get(v1.get(self.query_args().get("precision", "ns"), ""))
        if precision is None:
            return self.send_json(400, {"code": "invalid", "message": "invalid precision"})
        self.store_lines(bucket["name"], body, precision)

    def v1_query(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        form = {k: v[0] for k, v in parse_qs(raw).items()}
        bucket = self.v1_bucket("read")
        if bucket is None:
            return
        q = self.query_args().get("q") or form.get("q", "")
        m = re.search(r'\bFROM\s+(?:"([^"]+)"|([A-Za-z0-9_.-]+))', q, re.IGNORECASE)
        if not m:
            return self.send_json(400, {"error": "only SELECT ... FROM <measurement> is understood here"})
        measurement = m.group(1) or m.group(2)
        points = sorted((p for p in STORE.read(bucket["name"]) if p["measurement"] == measurement),
                        key=lambda p: p["time"])
        result: dict = {"statement_id": 0}
        if points:
            tags = sorted({k for p in points for k in p["tags"]})
            fields = sorted({k for p in points for k in p["fields"]})
            rfc = lambda ns: datetime.datetime.fromtimestamp(ns // 1_000_000_000, datetime.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%S") + f".{ns % 1_000_000_000:09d}Z"
            result["series"] = [{"name": measurement, "columns": ["time", *tags, *fields],
                                 "values": [[rfc(p["time"]), *(p["tags"].get(t) for t in tags),
                                             *(p["fields"].get(f) for f in fields)] for p in points]}]
        body = json.dumps({"results": [result]}) + "\n"
        self.send_body(200, body.encode(), "application/json")

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
        self.store_lines(bucket, body, precision)

    def store_lines(self, bucket: str, body: str, precision: int) -> None:
        """Parses line protocol into `bucket` (InfluxDB's upsert), answering 204, or 400 naming the bad line."""
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
        if SERVICE == "influxdb":
            if path == "/api/v2/write":
                return self.influx_write()
            if path == "/write":
                return self.v1_write()
            if path == "/query":
                return self.v1_query()
            if path.startswith(MANAGEMENT):
                return self.management("POST", path)
        self.send_json(404, {"message": "Not found", "path": path})

    def do_DELETE(self) -> None:
        path = urlsplit(self.path).path
        COUNTS[path] = COUNTS.get(path, 0) + 1
        if SERVICE == "influxdb" and path.startswith(MANAGEMENT):
            return self.management("DELETE", path)
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
            if path == "/query" and self.command == "GET":
                return self.v1_query()
            if path.startswith(MANAGEMENT) and self.command == "GET":
                return self.management("GET", path)
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
        REGISTRY.open()
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
