#!/usr/bin/env bash
# Builds the e2e images (iot-e2e/<service>:e2e) without any image registry:
#   1. debootstrap a minimal Debian rootfs with Debian's packages, cached as a tarball
#      keyed by the package list (a rerun skips this step);
#   2. docker import it once as the base image;
#   3. run files/customise.sh in it (users with the official images' uids, directories,
#      stand-ins, entrypoints) with Node-RED (npm ci from node-red/package-lock.json on this
#      host, cached by the lock's hash) copied in, and commit;
#   4. commit one image per service with --change for ENTRYPOINT/CMD/USER/ENV/...,
#      so every service image shares the one base layer.
# The table in README.md is the contract; keep it and SERVICES below in step.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${IOT_E2E_CACHE:-/var/cache/iot-swarm-net}
SUITE=bookworm
VARIANT=minbase
LABEL=iot-swarm-net.e2e-image

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "[images] $*" >&2; }

WANTED=(
  mosquitto mosquitto-clients haproxy redis-server redis-tools nats-server prometheus
  curl wget openssl ca-certificates python3 iproute2 netcat-openbsd dnsutils procps nodejs
)

T_ALL=$(now)
docker info >/dev/null 2>&1 || { log "docker engine not answering: run e2e/engine.sh first"; exit 1; }
command -v debootstrap >/dev/null || { log "debootstrap missing: run e2e/engine.sh first"; exit 1; }
command -v npm >/dev/null || { log "npm missing: Node-RED is installed from the npm registry with it"; exit 1; }

# The mirror is the one this machine's apt already uses (no host names baked into the repo).
mirror() {
  if [ -n "${IOT_E2E_MIRROR:-}" ]; then echo "$IOT_E2E_MIRROR"; return; fi
  local m=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    m=$(awk '/^URIs:/ {u=$2} /^Suites:/ && / '"$SUITE"'( |$)/ && u!="" {print u; exit}' /etc/apt/sources.list.d/*.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1=="deb" && $3=="'"$SUITE"'" {print $2; exit}' /etc/apt/sources.list)
  fi
  [ -n "$m" ] || { log "no apt source for $SUITE found; set IOT_E2E_MIRROR"; exit 1; }
  echo "$m"
}

# Keep only packages the archive has, so a renamed package fails loudly here, not in debootstrap.
# One apt-cache call: each call costs ~0.6 s, which dominated a cached rebuild.
AVAILABLE=$(apt-cache policy "${WANTED[@]}" 2>/dev/null | awk '/^[^ ].*:$/ {p=substr($1, 1, length($1)-1)} /Candidate:/ && $2 != "(none)" {print p}')
PKGS=()
for p in "${WANTED[@]}"; do
  if grep -qx "$p" <<<"$AVAILABLE"; then PKGS+=("$p"); else log "WARNING: package $p not in apt lists; skipped"; fi
done
[ "${#PKGS[@]}" -gt 0 ] || { log "apt lists empty: run apt-get update"; exit 1; }

KEY=$(printf '%s\n' "$SUITE" "$VARIANT" "$(printf '%s\n' "${PKGS[@]}" | sort)" | sha256sum | cut -c1-12)
TARBALL="$CACHE/rootfs-$KEY.tar"
mkdir -p "$CACHE/debs"

# --- 1. rootfs --------------------------------------------------------------
if [ -s "$TARBALL" ]; then
  log "rootfs cached: $TARBALL"
else
  T=$(now)
  ROOT=$(mktemp -d "$CACHE/rootfs-$KEY.XXXX")
  trap 'rm -rf "$ROOT"' EXIT
  include=$(IFS=,; echo "${PKGS[*]}")
  log "debootstrap $SUITE/$VARIANT with: $include"
  # --cache-dir keeps the .debs so a changed package list downloads only what is new.
  if ! debootstrap --variant="$VARIANT" --include="$include" --cache-dir="$CACHE/debs" \
      "$SUITE" "$ROOT" "$(mirror)" >"$CACHE/debootstrap-$KEY.log" 2>&1; then
    log "debootstrap failed; tail of $CACHE/debootstrap-$KEY.log:"; tail -n 30 "$CACHE/debootstrap-$KEY.log" >&2; exit 1
  fi
  # Trim what no container needs: apt lists/caches, docs, man pages.
  rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb \
         "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/*
  tar --numeric-owner --xattrs -C "$ROOT" -cf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
  rm -rf "$ROOT"; trap - EXIT
  log "rootfs built in $(elapsed "$T")s ($(du -h "$TARBALL" | cut -f1))"
fi

# --- 2. base image ------------------------------------------------------------
BASE=iot-e2e/base:$KEY
if docker image inspect "$BASE" >/dev/null 2>&1; then
  log "base image $BASE present"
else
  T=$(now)
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    --change "LABEL $LABEL=$KEY" \
    "$TARBALL" "$BASE" >/dev/null
  log "imported $BASE in $(elapsed "$T")s"
fi

# --- 3. Node-RED from the npm registry ------------------------------------------
# nodered/node-red:4.0.8 is Node-RED installed with npm into /usr/src/node-red; the same lockfile
# installs here once per lock (Debian's nodejs runs it; no native module needs building).
NR_KEY=$(cat "$HERE/node-red/package.json" "$HERE/node-red/package-lock.json" | sha256sum | cut -c1-12)
NR_DIR="$CACHE/node-red-$NR_KEY"
if [ -d "$NR_DIR/node_modules" ]; then
  log "Node-RED modules cached: $NR_DIR"
else
  T=$(now)
  NR_TMP=$(mktemp -d "$CACHE/node-red-$NR_KEY.XXXX")
  trap 'rm -rf "$NR_TMP"' EXIT
  cp "$HERE/node-red/package.json" "$HERE/node-red/package-lock.json" "$NR_TMP/"
  (cd "$NR_TMP" && npm ci --omit=dev --no-audit --no-fund --no-update-notifier >"$CACHE/npm-node-red-$NR_KEY.log" 2>&1) ||
    { log "npm ci for Node-RED failed; tail of $CACHE/npm-node-red-$NR_KEY.log:"; tail -n 30 "$CACHE/npm-node-red-$NR_KEY.log" >&2; exit 1; }
  mv "$NR_TMP" "$NR_DIR"; trap - EXIT
  log "Node-RED $(node -p "require('$NR_DIR/node_modules/node-red/package.json').version") installed in $(elapsed "$T")s ($(du -sh "$NR_DIR" | cut -f1))"
fi
# Older installs are no longer referenced.
find "$CACHE" -maxdepth 1 -name 'node-red-*' -type d ! -name "node-red-$NR_KEY" -exec rm -rf {} + 2>/dev/null || true

# --- 4. customised base ---------------------------------------------------------
T=$(now)
FILES_KEY=$( ( (cd "$HERE/files" && find . -type f -print0 | sort -z | xargs -0 sha256sum); echo "$NR_KEY") | sha256sum | cut -c1-12)
CUSTOM=iot-e2e/base-custom:$KEY-$FILES_KEY
if docker image inspect "$CUSTOM" >/dev/null 2>&1; then
  log "customised base $CUSTOM present"
else
  # Files are copied in rather than bind-mounted: the committed layer must contain them.
  cid=$(docker create --network none "$BASE" /bin/bash /tmp/iot-e2e-files/customise.sh)
  docker cp "$HERE/files" "$cid:/tmp/iot-e2e-files" >/dev/null
  docker cp "$NR_DIR/." "$cid:/usr/src/node-red" >/dev/null
  if ! docker start -a "$cid" >&2; then docker rm -f "$cid" >/dev/null; log "customise.sh failed"; exit 1; fi
  docker commit --change 'CMD ["/bin/bash"]' --change "LABEL $LABEL=$KEY-$FILES_KEY" "$cid" "$CUSTOM" >/dev/null
  docker rm "$cid" >/dev/null
  log "customised base $CUSTOM in $(elapsed "$T")s"
fi

# --- 5. one image per service ---------------------------------------------------
# name | USER | WORKDIR | ENTRYPOINT (JSON) | CMD (JSON) | VOLUME (JSON or -) | STOPSIGNAL | root fix-up in its own layer | ENV (space-separated, or -)
# (commit --change has no STOPSIGNAL: it comes from the container's config via create --stop-signal)
SERVICES=(
  'gateway|haproxy|/var/lib/haproxy|["/usr/local/bin/haproxy-entrypoint.sh"]|["haproxy","-f","/usr/local/etc/haproxy/haproxy.cfg"]|-|SIGUSR1|-|-'
  'mosquitto|root|/|["/usr/local/bin/mosquitto-entrypoint.sh"]|["/usr/sbin/mosquitto","-c","/mosquitto/config/mosquitto.conf"]|["/mosquitto/data","/mosquitto/log"]|SIGTERM|-|-'
  'influxdb|root|/|["/usr/local/bin/influxdb-entrypoint.sh"]|["influxd"]|["/var/lib/influxdb2","/etc/influxdb2"]|SIGTERM|-|-'
  'grafana|grafana|/usr/share/grafana|["/run.sh"]|[]|-|SIGTERM|-|-'
  'node-red|node-red|/usr/src/node-red|["./entrypoint.sh"]|[]|["/data"]|SIGTERM|chown node-red:node-red /data|NODE_RED_VERSION=v4.0.8 NODE_PATH=/usr/src/node-red/node_modules:/data/node_modules FLOWS=flows.json PATH=/usr/src/node-red/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  'redis|root|/data|["/usr/local/bin/redis-entrypoint.sh"]|["redis-server"]|["/data"]|SIGTERM|-|-'
  'nats|root|/|["/usr/local/bin/nats-entrypoint.sh"]|["nats-server","-c","/etc/nats/nats.conf"]|-|SIGTERM|-|-'
  'prometheus|nobody|/prometheus|["/bin/prometheus"]|["--config.file=/etc/prometheus/prometheus.yml","--storage.tsdb.path=/prometheus"]|["/prometheus"]|SIGTERM|-|-'
  'mqtt-exporter|nobody|/|["/mosquitto_exporter"]|[]|-|SIGTERM|-|-'
  'probe|root|/|[]|["sleep","infinity"]|-|SIGTERM|-|-'
)

# Images whose process is files/standin.py, and the upstream image each stands for: labelled so the
# e2e report names them from the images it ran.
declare -A STAND_IN=(
  [influxdb]=influxdb:2.7 [grafana]=grafana/grafana:11 [mqtt-exporter]=sapcc/mosquitto-exporter:0.8.0
)

T=$(now)
cid=""
trap '[ -z "$cid" ] || docker rm -f "$cid" >/dev/null 2>&1 || true' EXIT
for row in "${SERVICES[@]}"; do
  IFS='|' read -r name user workdir entrypoint cmd volumes stopsignal fixup env <<<"$row"
  changes=(
    --change "USER $user" --change "WORKDIR $workdir"
    --change "ENTRYPOINT $entrypoint" --change "CMD $cmd"
    --change "ENV IOT_E2E_SERVICE=$name"
    --change "LABEL $LABEL=$KEY-$FILES_KEY"
  )
  [ "$volumes" = - ] || changes+=(--change "VOLUME $volumes")
  [ "$env" = - ] || for e in $env; do changes+=(--change "ENV $e"); done
  [ -z "${STAND_IN[$name]:-}" ] || changes+=(--change "LABEL $LABEL.stand-in=${STAND_IN[$name]}")
  if [ "$fixup" = - ]; then
    cid=$(docker create --network none --stop-signal "$stopsignal" "$CUSTOM" /bin/true)
  else
    cid=$(docker create --network none --stop-signal "$stopsignal" --user 0 --entrypoint /bin/sh "$CUSTOM" -c "$fixup")
    docker start -a "$cid" >&2
  fi
  docker commit "${changes[@]}" "$cid" "iot-e2e/$name:e2e" >/dev/null
  docker rm "$cid" >/dev/null; cid=""
  echo "iot-e2e/$name:e2e"
done
trap - EXIT
log "tagged ${#SERVICES[@]} service images in $(elapsed "$T")s"

# Old base/customised images from earlier package lists or files are no longer referenced.
docker image ls --filter "label=$LABEL" --format '{{.Repository}}:{{.Tag}}' \
  | grep -E '^iot-e2e/base(-custom)?:' | grep -v -e "^$BASE\$" -e "^$CUSTOM\$" \
  | xargs -r docker image rm >/dev/null 2>&1 || true
log "all images ready in $(elapsed "$T_ALL")s"
