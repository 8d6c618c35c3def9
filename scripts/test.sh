#!/usr/bin/env bash
# Sets up both Node projects (program and policy pack, one npm workspace) from the lockfile, then
# runs every check: type-check, lint, format, unit and policy tests, docs drift (npm run check), a production
# install of the program (npm run check:install), the end-to-end run on a local swarm (npm run e2e; needs
# root), then the same program on a 6-node swarm built on this machine, probed across nodes and through node
# faults (npm run e2e:cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run check
# The property tests again with 500 cases each (the suite runs 200; about 4 minutes alone), on fresh random seeds every run.
npm run test:properties
# What a user's npm ci --omit=dev && pulumi up compiles (a production install, type-checked as the CLI does).
npm run check:install
npm run e2e
npm run e2e:cluster
