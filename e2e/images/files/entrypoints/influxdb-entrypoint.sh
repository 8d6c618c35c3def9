#!/bin/sh
# influxdb:2.7 stand-in: `influxd` (the image's CMD) runs the HTTP stand-in on :8086; as root
# it drops to influxdb (uid 1000) like the upstream entrypoint does.
set -e
if [ "$1" = influxd ]; then
  shift
  if [ "$(id -u)" = 0 ]; then exec setpriv --reuid=1000 --regid=1000 --init-groups python3 /usr/local/lib/iot-e2e/standin.py influxdb "$@"; fi
  exec python3 /usr/local/lib/iot-e2e/standin.py influxdb "$@"
fi
exec "$@"
