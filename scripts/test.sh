#!/usr/bin/env bash
# Sets up both Node projects (program and policy pack, one npm workspace) from the lockfile, then
# runs every check: type-check, lint, format, unit and policy tests, docs drift (npm run check),
# and the end-to-end run on a local swarm (npm run e2e; needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run check
npm run e2e
