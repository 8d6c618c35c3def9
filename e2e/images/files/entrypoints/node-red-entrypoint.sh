#!/bin/sh
# nodered/node-red:4 entrypoint.sh stand-in: serves :1880 (PORT) as uid 1000.
exec python3 /usr/local/lib/iot-e2e/standin.py node-red "$@"
