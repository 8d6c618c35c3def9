#!/bin/bash
# nodered/node-red:4.0.8's entrypoint.sh: Node-RED from /usr/src/node-red with its user directory
# on the /data volume; the trap passes SIGTERM/SIGINT on, so a stop lets Node-RED close its flows.
trap stop SIGINT SIGTERM

function stop() {
  kill "$CHILD_PID"
  wait "$CHILD_PID"
}

# shellcheck disable=SC2086
/usr/local/bin/node $NODE_OPTIONS node_modules/node-red/red.js --userDir /data $FLOWS "${@}" &

CHILD_PID="$!"

wait "${CHILD_PID}"
