#!/usr/bin/env bash
# Mutation testing of model/ and components/ in groups, each against the unit tests that exercise it (MUTATION_TESTS, see
# jest.mutation.config.js): seconds per mutant instead of minutes. Each group keeps its own incremental file,
# so a rerun retests only the mutants of changed code. Reports: .stryker/reports/<group>.json.
#   bash scripts/mutation-groups.sh            # every group
#   bash scripts/mutation-groups.sh merge cidr  # the named groups
#   MUTATION_FORCE=1 bash scripts/mutation-groups.sh cidr   # retest every mutant (incremental mode reuses
#     the results of static mutants even when new tests would kill them)
# Summary of the last reports: node scripts/mutation-summary.js
set -uo pipefail
cd "$(dirname "$0")/.."

declare -A MUTATE TESTS
MUTATE[cidr]="model/cidr.ts,model/addressRanges.ts"
TESTS[cidr]="cidr,networks,addressRanges"
MUTATE[networks]="model/networks.ts"
TESTS[networks]="networks,networkPlanShapes,reachabilityIds,cidr"
MUTATE[merge]="model/merge.ts,model/catalog.ts"
TESTS[merge]="merge,catalog"
MUTATE[validate]="model/validate.ts,model/validateServices.ts,model/validateNames.ts,model/validateRoutes.ts,model/duplicates.ts,model/naming.ts,model/lookup.ts,model/constraint.ts,model/reserved.ts"
TESTS[validate]="validate,contracts/certificateLimits"
MUTATE[config]="model/config.ts,model/resolve.ts,model/salvage.ts,model/imageRef.ts,model/topicFilter.ts,model/flows.ts,model/warnings.ts,model/types.ts"
TESTS[config]="configSchema,configSyntax,resolve"
MUTATE[files]="model/files.ts,model/fileSpec.ts,model/pki.ts,model/wiring/*.ts,model/apps/*.ts"
TESTS[files]="files,pki,influxdbStart"
MUTATE[day2]="model/resilience.ts,model/rollout.ts,model/rotations.ts,model/placement.ts"
TESTS[day2]="resilience,day2Inputs,contracts/labels,placement,rollout,rotations"
MUTATE[discovery]="model/discovery.ts"
TESTS[discovery]="discovery"
MUTATE[identity]="model/identity.ts,model/validateIdentity.ts"
TESTS[identity]="identity,identityPlan,flowPermissions,undeclaredCallers,influxdbStart"
MUTATE[render]="model/render/*.ts"
TESTS[render]="renderedConfigs,alerts,gateway,mosquittoSessions,nodeRed,influxdbStart"
# components/ in two groups: the components against the tests that register each alone (about 0.1 s a test), and
# the stack and program files against the tests that register a whole stack (about a second a test), which would
# otherwise run for every mutant of every component they reach.
MUTATE[components]="components/swarmService.ts,components/swarmFile.ts,components/networks.ts,components/pki.ts,components/labels.ts,components/providerFormat.ts"
TESTS[components]="providerFormat,components"
MUTATE[componentStack]="components/iotStack.ts,components/program.ts,components/stackConfig.ts"
TESTS[componentStack]="components,componentStack"
ORDER=(cidr merge validate config networks files day2 discovery identity render components componentStack)

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=("${ORDER[@]}")
mkdir -p .stryker/reports
for g in "${groups[@]}"; do
  [ -n "${MUTATE[$g]:-}" ] || { echo "unknown group $g (known: ${ORDER[*]})" >&2; exit 2; }
  echo "== $g: ${MUTATE[$g]} against tests matching ${TESTS[$g]}"
  start=$(date +%s)
  MUTATION_TESTS="${TESTS[$g]}" nice -n 15 npx stryker run --concurrency 1 --mutate "${MUTATE[$g]}" \
    --incrementalFile ".stryker/incremental-$g.json" ${MUTATION_FORCE:+--force} --reporters clear-text,json \
    && cp .stryker/mutation.json ".stryker/reports/$g.json"
  echo "== $g took $(( $(date +%s) - start )) s"
done
