#!/usr/bin/env bash
# Shared by `npm run demo` and `npm test`: everything a fresh clone needs before it can run.
# Idempotent and quick when all is in place: system packages (root only), npm packages, the
# training worker's Python packages, generated code, and the services (Postgres+pgvector, Temporal) in ./.data.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

if [[ ! -f /usr/share/postgresql/15/extension/vector.control || ! -d /usr/share/datasets/fashion-mnist ]] ||
  ! /usr/bin/python3 -c 'import ensurepip, torch' 2>/dev/null; then
  if [[ $EUID -eq 0 ]]; then
    step "system packages"
    bash scripts/install-system-deps.sh
  else
    echo "System packages are missing (Postgres 15 server, pgvector, Fashion-MNIST, torch). Run once:" >&2
    echo "  sudo bash scripts/install-system-deps.sh" >&2
    exit 1
  fi
fi
if [[ ! -d node_modules ]]; then
  step "npm ci"
  npm ci
fi
bash scripts/lib/trainer-venv.sh
step "generated code (Prisma client, GraphQL types)"
npx turbo run generate --output-logs=errors-only
step "services"
npm run --silent services -- up
