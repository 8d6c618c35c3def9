#!/bin/bash
# Runs once inside the imported base rootfs (no network): gives it the official images'
# users, uids and paths so the Pulumi program's file uids/modes mean the same here.
set -euo pipefail
SRC=/tmp/iot-e2e-files

# user:uid:home -- a package may already have made the user with another uid; renumber it
# and re-own its files so the official uid is the one that owns them.
ensure_user() {
  local name=$1 uid=$2 home=$3 old oldgid
  if getent passwd "$name" >/dev/null; then
    old=$(id -u "$name"); oldgid=$(id -g "$name")
    if [ "$old" != "$uid" ]; then
      usermod -o -u "$uid" "$name"
      find / -xdev -uid "$old" -exec chown -h "$uid" {} +
    fi
    if getent group "$name" >/dev/null && [ "$(getent group "$name" | cut -d: -f3)" != "$uid" ]; then
      groupmod -o -g "$uid" "$name"
      find / -xdev -gid "$oldgid" -exec chgrp -h "$uid" {} +
    fi
    [ "$(id -g "$name")" = "$uid" ] || usermod -g "$uid" "$name"
  else
    getent group "$name" >/dev/null || groupadd -o -g "$uid" "$name"
    useradd -K UID_MIN=1 -K UID_MAX=65000 -o -u "$uid" -g "$uid" -d "$home" -M -s /usr/sbin/nologin "$name"
  fi
}
ensure_user haproxy   99   /var/lib/haproxy
ensure_user mosquitto 1883 /var/empty
ensure_user redis     999  /data
ensure_user grafana   472  /usr/share/grafana
ensure_user node-red  1000 /usr/src/node-red
ensure_user influxdb  1000 /var/lib/influxdb2

install -d -m 0755 /usr/local/lib/iot-e2e /usr/local/etc/haproxy /etc/nats
install -m 0755 "$SRC/standin.py" /usr/local/lib/iot-e2e/standin.py
install -m 0755 "$SRC"/entrypoints/*.sh /usr/local/bin/

# gateway (haproxy:2.8-alpine): config dir, state dir owned by haproxy.
install -d -o haproxy -g haproxy /var/lib/haproxy
ln -sf /usr/sbin/haproxy /usr/local/sbin/haproxy

# mosquitto (eclipse-mosquitto:2.0.20): /mosquitto tree owned by 1883; the default config
# is empty like upstream's (mosquitto 2 then listens on loopback only).
install -d -o mosquitto -g mosquitto /mosquitto/config /mosquitto/data /mosquitto/log
printf '# Default: no listener, so loopback only (as the upstream image).\n' >/mosquitto/config/mosquitto.conf
chown mosquitto:mosquitto /mosquitto/config/mosquitto.conf

# influxdb (influxdb:2.7) stand-in.
install -d -o influxdb -g influxdb /var/lib/influxdb2 /etc/influxdb2
ln -sf /usr/local/bin/influxdb-entrypoint.sh /entrypoint.sh

# grafana (grafana/grafana:11) stand-in.
install -d -o grafana -g grafana /usr/share/grafana /var/lib/grafana /var/log/grafana /etc/grafana
install -m 0755 "$SRC/entrypoints/grafana-run.sh" /run.sh

# node-red (nodered/node-red:4.0.8): the real Node-RED, installed by build.sh from the npm registry
# into /usr/src/node-red (package.json, lock, node_modules), owned like upstream's; node at
# upstream's path.
install -m 0755 "$SRC/entrypoints/node-red-entrypoint.sh" /usr/src/node-red/entrypoint.sh
chown -R node-red:root /usr/src/node-red
ln -sf /usr/bin/node /usr/local/bin/node

# redis (redis:7.4-alpine) and node-red both use /data: redis owns it here, the node-red
# image re-owns it in its own layer (build.sh).
install -d -o redis -g redis /data /usr/local/etc/redis

# nats (nats:2.10-alpine): a default config with client and monitoring ports, like upstream's.
cat >/etc/nats/nats.conf <<'CONF'
port: 4222
http_port: 8222
CONF
cp /etc/nats/nats.conf /etc/nats/nats-server.conf

# prometheus (prom/prometheus:v2): runs as nobody with /prometheus as its data dir.
install -d -o nobody -g nogroup /prometheus
ln -sf /usr/bin/prometheus /bin/prometheus 2>/dev/null || true

# mqtt-exporter (sapcc/mosquitto-exporter) stand-in: the upstream binary's path, run as nobody.
ln -sf /usr/local/bin/mqtt-exporter-entrypoint.sh /mosquitto_exporter

# Debian's postinsts leave pid/log files and generated keys nothing here uses.
rm -rf /var/log/*.log /var/log/apt /var/cache/debconf/*-old /tmp/iot-e2e-files
echo "customised: $(id haproxy) $(id mosquitto) $(id redis) $(id grafana) $(id node-red) $(id nobody)"
