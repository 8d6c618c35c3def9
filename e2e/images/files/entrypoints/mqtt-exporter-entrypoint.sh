#!/bin/sh
# sapcc/mosquitto-exporter stand-in (/mosquitto_exporter): $SYS statistics from the broker
# over TLS (BROKER_ENDPOINT, MQTT_CERT, MQTT_KEY, SSL_CERT_FILE) on :9234/metrics.
exec python3 /usr/local/lib/iot-e2e/standin.py mqtt-exporter "$@"
