#!/bin/sh
# As nats' docker-entrypoint.sh: flags alone run nats-server.
set -e
if [ "${1#-}" != "$1" ]; then set -- nats-server "$@"; fi
exec "$@"
