#!/bin/sh
# grafana/grafana:11 /run.sh stand-in: serves :3000 (GF_SERVER_HTTP_PORT) as uid 472.
exec python3 /usr/local/lib/iot-e2e/standin.py grafana "$@"
