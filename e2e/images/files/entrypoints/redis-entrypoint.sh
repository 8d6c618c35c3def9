#!/bin/sh
# As redis' docker-entrypoint.sh: flags or a *.conf alone run redis-server; as root, own /data
# and drop to redis (uid 999).
set -e
case "$1" in -*|*.conf) set -- redis-server "$@" ;; esac
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' + 2>/dev/null || true
  exec setpriv --reuid=999 --regid=999 --init-groups "$@"
fi
exec "$@"
