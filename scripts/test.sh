#!/usr/bin/env bash
# `npm test`: sets up what is missing (scripts/setup.sh), then runs every test once against the
# real services: the trainer's pytest suite (Debian's torch), then all Vitest projects, whose
# closing line (pytest included) ends the output. Arguments go to Vitest alone
# (`npm test -- --project db`), and then pytest is not run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
pytest_status=0
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
if [[ $# -eq 0 ]]; then
  printf '\n== trainer tests (pytest)\n'
  (cd apps/trainer && /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    --junitxml="$results/pytest.xml" tests) || pytest_status=$?
  export BEANSTALK_JUNIT_RESULTS="$results/pytest.xml"
fi
printf '\n== tests (vitest)\n'
vitest_status=0
npx vitest run "$@" || vitest_status=$?
if ((pytest_status != 0 || vitest_status != 0)); then
  exit 1
fi
