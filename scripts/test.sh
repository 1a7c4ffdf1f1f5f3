#!/usr/bin/env bash
# `npm test`: sets up what is missing (scripts/setup.sh), then runs every test once, against
# the real services. Extra arguments go to Vitest (e.g. `npm test -- --project db`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
printf '\n== tests\n'
npx vitest run "$@"
