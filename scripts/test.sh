#!/usr/bin/env bash
# Sets up both Node projects (program and policy pack) from their lockfiles, then runs every check.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
if [ -f policies/package-lock.json ]; then npm ci --prefix policies --no-audit --no-fund; fi
npm run build
npm test
npm run e2e
