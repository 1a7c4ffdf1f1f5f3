#!/usr/bin/env bash
# `npm test`: sets up what is missing (scripts/setup.sh), then runs every test once against the
# real services: the trainer's pytest suite (Debian's torch), then all Vitest projects, whose
# closing line ends the output. Arguments go to Vitest alone (`npm test -- --project db`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [[ $# -eq 0 ]]; then
  printf '\n== trainer tests (pytest)\n'
  (cd apps/trainer && /usr/bin/python3 -m pytest -q -p no:cacheprovider tests)
fi
printf '\n== tests (vitest)\n'
npx vitest run "$@"
