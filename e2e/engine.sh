#!/usr/bin/env bash
# Brings up a local Docker engine in single-node Swarm mode for the e2e tests.
#   e2e/engine.sh        install (if needed), start dockerd, swarm init; idempotent
#   e2e/engine.sh stop   leave the swarm and stop the dockerd this script started
#   e2e/engine.sh install  only install what is missing (the e2e cluster starts its own daemons)
set -euo pipefail

LOG=/tmp/iot-e2e-dockerd.log
PIDFILE=/tmp/iot-e2e-dockerd.pid
WAIT_SECS=${IOT_E2E_ENGINE_WAIT:-60}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "[engine] $*" >&2; }

engine_up() { docker info >/dev/null 2>&1; }

install_engine() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  # The e2e run reads the host's sockets (ss) and routes (ip) before and after the deploy.
  { command -v ss && command -v ip; } >/dev/null 2>&1 || missing+=(iproute2)
  if [ "${#missing[@]}" -eq 0 ]; then
    log "dockerd, debootstrap and iproute2 already installed"
    return 0
  fi
  local t0; t0=$(now)
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # No recommends: keeps the install small; dockerd needs only containerd, runc, iptables.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" iptables >/dev/null
  log "cold install of ${missing[*]} took $(elapsed "$t0")s"
}

start_engine() {
  if engine_up; then
    log "docker engine already answering"
    local pid; pid=$(pgrep -x dockerd | head -n1 || true)
    if [ -n "$pid" ] && ! tr '\0' '\n' </proc/"$pid"/environ 2>/dev/null | grep -qx DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1; then
      log "WARNING: dockerd $pid runs without DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1: Swarm tasks will try registry pulls; restart it via e2e/engine.sh stop && e2e/engine.sh"
    fi
    return 0
  fi
  local t0; t0=$(now)
  # A stale pid/socket from a killed daemon would make dockerd refuse to start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  log "starting dockerd (log: $LOG)"
  # setsid: the daemon must outlive this shell and not get its signals.
  # PREFER_OFFLINE: a Swarm task otherwise tries to pull its image from a registry first,
  # even when the image is local; here that would be traffic to a host we may not reach.
  # The daemon keeps no descriptor it inherited: a caller's `flock /tmp/iot-e2e.lock` would otherwise
  # stay held for as long as the daemon runs, and every later e2e run would wait for it forever.
  # shellcheck disable=SC2016
  DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid bash -c \
    'for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec dockerd' \
    >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local deadline=$(( $(date +%s) + WAIT_SECS ))
  until engine_up; do
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      log "ERROR: dockerd exited; last log lines:"; tail -n 20 "$LOG" >&2; exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "ERROR: docker info did not answer within ${WAIT_SECS}s; see $LOG"; tail -n 20 "$LOG" >&2; exit 1
    fi
    sleep 0.5
  done
  log "dockerd answering after $(elapsed "$t0")s"
}

swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }

init_swarm() {
  local state; state=$(swarm_state)
  if [ "$state" = active ]; then
    log "swarm already active"
    return 0
  fi
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  log "swarm initialised ($(swarm_state))"
}

# As an operator labels the one node that keeps the stack's volumes (model/placement.ts): services with
# state are pinned to it.
label_state_node() {
  docker node update --label-add iot.state=true "$(docker info --format '{{.Swarm.NodeID}}')" >/dev/null
  log "node labelled iot.state=true (the stack's stateful services are pinned to it)"
}

report_kernel() {
  # Facts the tests depend on: no IPVS means no VIP/ingress mesh (use dnsrr + host-mode ports).
  if [ -d /proc/sys/net/ipv4/vs ]; then log "kernel: IPVS present"; else log "kernel: IPVS absent (VIP and ingress mesh unusable; use dnsrr and host-mode publishing)"; fi
}

stop_engine() {
  if engine_up && [ "$(swarm_state)" != inactive ]; then
    docker swarm leave --force >/dev/null && log "left swarm"
  fi
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    local pid; pid=$(cat "$PIDFILE")
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then log "dockerd $pid still running after 30s"; exit 1; fi
    rm -f "$PIDFILE"
    log "stopped dockerd $pid"
  else
    log "no dockerd started by this script is running"
  fi
}

case "${1:-up}" in
  up|start)
    t0=$(now)
    install_engine
    start_engine
    init_swarm
    label_state_node
    report_kernel
    log "engine ready in $(elapsed "$t0")s (server $(docker version --format '{{.Server.Version}}'))"
    ;;
  stop) stop_engine ;;
  install) install_engine ;;
  *) echo "usage: $0 [up|stop|install]" >&2; exit 2 ;;
esac
