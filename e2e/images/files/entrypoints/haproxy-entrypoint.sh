#!/bin/sh
# As the haproxy image's docker-entrypoint.sh: flags alone run haproxy; haproxy gets
# master-worker (-W) and foreground/no-daemon (-db).
set -e
if [ "${1#-}" != "$1" ]; then set -- haproxy "$@"; fi
if [ "$1" = haproxy ]; then shift; set -- haproxy -W -db "$@"; fi
exec "$@"
