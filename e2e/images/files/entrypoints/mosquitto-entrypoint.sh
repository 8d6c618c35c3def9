#!/bin/sh
# As eclipse-mosquitto's docker-entrypoint.sh: as root, make the data/log dirs mosquitto's;
# mosquitto itself drops to user mosquitto (uid 1883) after binding.
set -e
if [ "$(id -u)" = 0 ]; then
  chown -R mosquitto:mosquitto /mosquitto/data /mosquitto/log 2>/dev/null || true
fi
exec "$@"
