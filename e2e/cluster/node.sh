#!/usr/bin/env bash
# The machines of the e2e cluster, on this host: one network namespace per node, cabled to a
# bridge in a hub namespace, each with its own dockerd (own containerd, data root, exec root,
# cgroup, mount and UTS namespace). Everything is named iot-cluster*, so `down` finds exactly it.
#
#   node.sh net-up N     hub namespace + bridge, host leg, N node namespaces with their veths
#   node.sh start I      start node I's dockerd; waits until it answers
#   node.sh cut I        unplug node I from the hub (its link down at the bridge)
#   node.sh plug I       plug it back in
#   node.sh kill I       power loss: SIGKILL every process of node I (dockerd, containerd, shims, containers)
#   node.sh reboot I     kill, a fresh network namespace and /run, start again (the data root is its disk)
#   node.sh down         remove every node, namespace, cgroup, data root and exec root (also after a killed run)
#   node.sh status       what exists
#
# Layout (I = 1..N):  namespaces iot-cluster-hub, iot-cluster-nodeI; bridge iot-cluster-br (in the hub);
# host leg iot-cluster-h (this namespace) <-> iot-cluster-hh (hub); node I's cable iot-cluster-nI (hub) <-> eth0;
# data root /var/lib/iot-cluster/nodeI (on a tmpfs, the nodes' disks: it outlives a node's kill and
# reboot, and goes in an instant at `down`); exec root, socket, pid file /run/iot-cluster/nodeI;
# cgroup iot-cluster/nodeI (memory, pids; containers go below it via --cgroup-parent).
# Addresses: $IOT_CLUSTER_NET.1 is this host, $IOT_CLUSTER_NET.(10+I) is node I; no default route
# anywhere in the cluster, so nothing a node or a task sends can leave this machine.
set -euo pipefail

NET=${IOT_CLUSTER_NET:-172.30.77}
PREFIX=iot-cluster
HUB=$PREFIX-hub
BR=$PREFIX-br
STATE=/var/lib/$PREFIX
RUN=/run/$PREFIX
CGROUPS=(memory pids)
WAIT_SECS=${IOT_CLUSTER_DAEMON_WAIT:-60}

log() { echo "[node] $*" >&2; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
die() { log "ERROR: $*"; exit 1; }
ns() { echo "$PREFIX-node$1"; }
addr() { echo "$NET.$((10 + $1))"; }
sock() { echo "$RUN/node$1/docker.sock"; }

# Every pid in node I's cgroup tree (or the whole cluster's, without I).
pids_of() {
  local dir=/sys/fs/cgroup/memory/$PREFIX${1:+/node$1}
  [ -d "$dir" ] || return 0
  find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -un
}

net_up() {
  local n=$1 i
  [ "$n" -ge 1 ] && [ "$n" -le 80 ] || die "node count must be 1..80"
  ip netns list | grep -q "^$HUB\b" && die "$HUB exists: run node.sh down first"
  # The cluster's /24 must clash with nothing this host routes.
  if ip -4 route show | awk '{print $1}' | grep -q "^$NET\."; then die "$NET.0/24 is already routed here; set IOT_CLUSTER_NET"; fi
  if ip -4 addr show | grep -q "inet $NET\."; then die "$NET.0/24 is already on an interface here; set IOT_CLUSTER_NET"; fi
  # The nodes' disks: tens of thousands of image files per node, which a disk-backed rm took a minute to remove.
  mkdir -p "$STATE"
  mountpoint -q "$STATE" || mount -t tmpfs -o "size=${IOT_CLUSTER_DISK:-12g},mode=0755" "$PREFIX" "$STATE"
  ip netns add "$HUB"
  ip -n "$HUB" link add "$BR" type bridge
  ip -n "$HUB" link set "$BR" up
  ip link add "$PREFIX-h" type veth peer name "$PREFIX-hh" netns "$HUB"
  ip -n "$HUB" link set "$PREFIX-hh" master "$BR" up
  ip addr add "$NET.1/24" dev "$PREFIX-h"
  ip link set "$PREFIX-h" up
  for i in $(seq 1 "$n"); do node_net "$i"; done
  log "hub $HUB, bridge $BR, host leg $NET.1, $n nodes at $NET.11-$NET.$((10 + n))"
}

# Node I's namespace and its cable to the hub (also used by reboot: a fresh namespace, same address).
node_net() {
  local i=$1
  ip netns add "$(ns "$i")"
  ip link add "$PREFIX-n$i" netns "$HUB" type veth peer name eth0 netns "$(ns "$i")"
  ip -n "$HUB" link set "$PREFIX-n$i" master "$BR" up
  ip -n "$(ns "$i")" addr add "$(addr "$i")/24" dev eth0
  ip -n "$(ns "$i")" link set eth0 up
  ip -n "$(ns "$i")" link set lo up
}

start() {
  local i=$1 dir=$RUN/node$1 data=$STATE/node$1 h t0
  [ -e "/run/netns/$(ns "$i")" ] || die "no namespace $(ns "$i"): run net-up first"
  # Without --containerd, dockerd starts its own containerd under its exec root only when the
  # system's default socket is absent; with it present, every node would share one containerd.
  [ -S /run/containerd/containerd.sock ] && die "/run/containerd/containerd.sock exists: node daemons would share that containerd"
  if [ -S "$dir/docker.sock" ] && docker -H "unix://$dir/docker.sock" version >/dev/null 2>&1; then
    log "node$i already answering"; return 0
  fi
  mkdir -p "$dir" "$data"
  echo '{}' >"$data/daemon.json"
  for h in "${CGROUPS[@]}"; do mkdir -p "/sys/fs/cgroup/$h/$PREFIX/node$i"; done
  t0=$(date +%s.%N)
  # The shell joins node I's cgroups, then becomes dockerd inside node I's network namespace with
  # its own mount and UTS namespaces. nsenter, not `ip netns exec`: that remounts /sys and hides
  # the cgroup mounts dockerd needs. Slave propagation: nothing dockerd mounts shows out here.
  # shellcheck disable=SC2016
  setsid sh -c '
    for h in '"${CGROUPS[*]}"'; do echo $$ >"/sys/fs/cgroup/$h/'"$PREFIX/node$i"'/cgroup.procs"; done
    exec nsenter --net=/run/netns/'"$(ns "$i")"' -- unshare --mount --uts --propagation slave -- sh -c "
      hostname '"$(ns "$i")"'
      exec env DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 dockerd --config-file '"$data"'/daemon.json \
        --data-root '"$data"'/data --exec-root '"$dir"'/exec --pidfile '"$dir"'/docker.pid \
        -H unix://'"$dir"'/docker.sock --cgroup-parent /'"$PREFIX/node$i"'"
  ' >>"$data/dockerd.log" 2>&1 </dev/null &
  local deadline=$(($(date +%s) + WAIT_SECS))
  until docker -H "unix://$dir/docker.sock" version >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { tail -n 20 "$data/dockerd.log" >&2; die "node$i: dockerd not answering after ${WAIT_SECS}s"; }
    sleep 0.2
  done
  log "node$i: dockerd answering after $(since "$t0") s ($(addr "$i"), unix://$dir/docker.sock)"
}

cut() { ip -n "$HUB" link set "$PREFIX-n$1" down; log "node$1 unplugged"; }
plug() { ip -n "$HUB" link set "$PREFIX-n$1" up; log "node$1 plugged in"; }

# SIGKILL until node I's cgroups are empty; the shims and containers go with dockerd.
kill_node() {
  local i=$1 tries=0 p
  while p=$(pids_of "$i") && [ -n "$p" ]; do
    # shellcheck disable=SC2086
    kill -9 $p 2>/dev/null || true
    tries=$((tries + 1))
    [ "$tries" -le 100 ] || die "node$i: processes survive SIGKILL: $(echo $p)"
    sleep 0.1
  done
  log "node$i: every process killed"
}

reboot_node() {
  local i=$1
  kill_node "$i"
  # What a reboot loses: network state (interfaces, iptables, overlay namespaces) and /run.
  ip netns del "$(ns "$i")" 2>/dev/null || true
  ip -n "$HUB" link del "$PREFIX-n$i" 2>/dev/null || true
  rm -rf "${RUN:?}/node$i"
  node_net "$i"
  start "$i"
}

down() {
  local p tries=0 n d t0
  t0=$(date +%s.%N)
  while p=$(pids_of) && [ -n "$p" ]; do
    # shellcheck disable=SC2086
    kill -9 $p 2>/dev/null || true
    tries=$((tries + 1))
    [ "$tries" -le 100 ] || { log "processes survive SIGKILL: $(echo $p)"; break; }
    sleep 0.1
  done
  # A daemon that never joined its cgroup (killed between fork and exec) is still known by its pid file.
  for f in "$RUN"/node*/docker.pid; do
    [ -f "$f" ] || continue
    p=$(cat "$f")
    if [ -n "$p" ] && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "--exec-root $RUN/"; then kill -9 "$p" || true; fi
  done
  log "down: processes gone after $(since "$t0") s"
  for n in $(ip netns list | awk '{print $1}' | grep "^$PREFIX-" || true); do ip netns del "$n"; done
  ip link del "$PREFIX-h" 2>/dev/null || true
  # Cgroups: deepest first; a directory goes once its processes have.
  for d in $(find /sys/fs/cgroup/*/$PREFIX* -depth -type d 2>/dev/null || true); do rmdir "$d" 2>/dev/null || sleep 0.2; done
  for d in $(find /sys/fs/cgroup/*/$PREFIX* -depth -type d 2>/dev/null || true); do rmdir "$d" 2>/dev/null || log "cgroup $d still in use"; done
  # Mount namespaces died with their processes; a mount left in this namespace would make rm fail.
  awk -v s="$STATE" -v r="$RUN" '$5 ~ "^(" s "|" r ")" {print $5}' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
  log "down: namespaces and cgroups gone after $(since "$t0") s"
  rm -rf "${STATE:?}" "${RUN:?}"
  log "down: after $(since "$t0") s: no iot-cluster namespace, daemon, cgroup, data root or exec root left"
}

status() {
  echo "namespaces: $(ip netns list | awk '{print $1}' | grep "^$PREFIX-" | tr '\n' ' ')"
  echo "host leg:   $(ip -br addr show "$PREFIX-h" 2>/dev/null || echo none)"
  echo "processes:  $(pids_of | wc -l)"
  echo "cgroups:    $(find /sys/fs/cgroup/*/$PREFIX* -maxdepth 0 -type d 2>/dev/null | tr '\n' ' ')"
  echo "dirs:       $(ls -d "$STATE" "$RUN" 2>/dev/null | tr '\n' ' ')"
}

case "${1:-}" in
  net-up) net_up "${2:?node count}" ;;
  start) start "${2:?node index}" ;;
  cut) cut "${2:?node index}" ;;
  plug) plug "${2:?node index}" ;;
  kill) kill_node "${2:?node index}" ;;
  reboot) reboot_node "${2:?node index}" ;;
  down) down ;;
  status) status ;;
  pids) pids_of "${2:-}" ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
