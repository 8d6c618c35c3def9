#!/usr/bin/env bash
# Sets up both Node projects (program and policy pack, one npm workspace) from the lockfile, then
# runs every check: type-check, lint, format, unit and policy tests, docs drift (npm run check), a production
# install of the program (npm run check:install), and the end-to-end run on a local swarm (npm run e2e; root).
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run check
# What a user's npm ci --omit=dev && pulumi up compiles (a production install, type-checked as the CLI does).
npm run check:install
npm run e2e
