#!/usr/bin/env bash
# Removes everything of the e2e cluster after a killed run (a normal run removes it itself):
# every process in the iot-cluster cgroups (dockerds, containerds, shims, containers), the
# iot-cluster-* network namespaces and host leg, the cgroups, data roots and exec roots.
# Touches nothing else: the main Docker engine and its images stay as they are.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
bash "$HERE/node.sh" down
bash "$HERE/node.sh" status
