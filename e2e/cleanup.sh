#!/usr/bin/env bash
# Removes every Docker object the e2e harness labelled (iot-swarm-net.e2e), from any run:
# services first, then their containers, networks, secrets, configs and volumes.
# For leftovers of a killed run; a normal run cleans up after itself (harness teardown()).
set -euo pipefail
LABEL=${1:-iot-swarm-net.e2e}
TIMEOUT=${IOT_E2E_CLEANUP_TIMEOUT:-90}
log() { echo "[cleanup] $*" >&2; }

docker info >/dev/null 2>&1 || { log "docker engine not answering; nothing to clean"; exit 0; }
swarm=$(docker info --format '{{.Swarm.LocalNodeState}}')

ids() { "$@" -q --filter "label=$LABEL" 2>/dev/null || true; }

# Objects in use cannot be removed until the tasks using them are gone: retry until the deadline.
remove_all() {
  local kind=$1; shift
  local deadline=$(( $(date +%s) + TIMEOUT )) left
  while :; do
    left=$(ids docker "$kind" ls)
    [ -z "$left" ] && return 0
    # shellcheck disable=SC2086
    docker "$kind" rm $left >/dev/null 2>&1 || true
    left=$(ids docker "$kind" ls)
    [ -z "$left" ] && { log "removed ${kind}s"; return 0; }
    if [ "$(date +%s)" -ge "$deadline" ]; then log "ERROR: ${kind}s still present: $left"; return 1; fi
    sleep 1
  done
}

rc=0
if [ "$swarm" = active ]; then
  svcs=$(ids docker service ls)
  # shellcheck disable=SC2086
  [ -z "$svcs" ] || { docker service rm $svcs >/dev/null; log "removed services: $(echo $svcs | wc -w)"; }
fi
deadline=$(( $(date +%s) + TIMEOUT ))
while [ -n "$(docker ps -q --filter "label=$LABEL")" ] && [ "$(date +%s)" -lt "$deadline" ]; do
  # Probe containers are not Swarm tasks: nothing else will stop them.
  probes=$(docker ps -aq --filter "label=$LABEL" --filter "label=iot-swarm-net.e2e.resource=probe")
  # shellcheck disable=SC2086
  [ -z "$probes" ] || docker rm -f $probes >/dev/null 2>&1 || true
  sleep 1
done
containers=$(docker ps -aq --filter "label=$LABEL")
# shellcheck disable=SC2086
[ -z "$containers" ] || { docker rm -f -v $containers >/dev/null 2>&1 || true; log "removed containers"; }
remove_all network || rc=1
if [ "$swarm" = active ]; then
  remove_all secret || rc=1
  remove_all config || rc=1
fi
remove_all volume || rc=1
# The e2e run's containment firewall rule (e2e/lib/containment.ts), if a killed run left it installed.
if command -v iptables >/dev/null 2>&1; then
  while iptables -D DOCKER-USER -i docker_gwbridge -m conntrack --ctstate NEW \
      -m comment --comment "iot-swarm-net e2e containment" -j REJECT 2>/dev/null; do
    log "removed the containment firewall rule"
  done
fi
[ "$rc" -eq 0 ] && log "nothing labelled $LABEL left"
exit "$rc"
