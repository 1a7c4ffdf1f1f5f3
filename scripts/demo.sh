#!/usr/bin/env bash
# One command from a fresh clone to a running platform on local defaults: setup (system
# packages as root, npm packages, Postgres+pgvector and Temporal in ./.data), migrations, the
# Fashion-MNIST demo project, then the worker, API and web app. Ctrl-C stops the apps;
# `npm run services -- down` stops the services.
set -euo pipefail
cd "$(dirname "$0")/.."

export NEXT_TELEMETRY_DISABLED=1
step() { printf '\n== %s\n' "$*"; }

# The demo accounts' password: DEMO_PASSWORD, or generated for this data folder on the first
# run and printed that once.
{
  read -r DEMO_PASSWORD
  read -r password_note
} < <(bash scripts/lib/demo-password.sh "${BEANSTALK_DATA_DIR:-.data}")

bash scripts/setup.sh
step "migrations"
npm run --silent db:migrate
step "demo project: Fashion-MNIST (idempotent)"
npm run --silent cli -- import fashion-mnist
npm run --silent cli -- encoder register models/fashion-mnist-ae --project fashion-mnist
step "demo accounts (password $password_note)"
for who in admin manager annotator; do
  npm run --silent cli -- user create --email "$who@beanstalk.local" --name "Demo $who" \
    --password "$DEMO_PASSWORD" --if-missing $([ "$who" = admin ] && echo --admin)
  [ "$who" = admin ] || npm run --silent cli -- user grant --email "$who@beanstalk.local" \
    --project fashion-mnist --role "$who"
done
step "build the web app"
npm run --silent build -w @beanstalk/web >/dev/null

logs=.data/logs
mkdir -p "$logs"
pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping apps (services keep running: npm run services -- down)"
  # Each app runs in its own session (setsid): signal the whole group, npm and node alike.
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

step "apps (logs in $logs)"
start_app() { # name, folder, command...
  local name=$1 dir=$2
  shift 2
  (cd "$dir" && exec setsid "$@" >"../../$logs/$name.log" 2>&1) &
  pids+=($!)
}
start_app worker apps/worker ../../node_modules/.bin/tsx src/main.ts --queue all
step "embed the demo images (backbone features; skips what is done)"
npm run --silent cli -- ingest --project fashion-mnist
step "label budget and a running campaign, so the queue has tasks"
npm run --silent cli -- budget add --project fashion-mnist --amount 600 --if-empty --reason 'demo budget'
npm run --silent cli -- campaign start --project fashion-mnist 2>/dev/null ||
  echo "  (a campaign is already running, or the budget is spent)"
start_app api apps/api ../../node_modules/.bin/tsx src/index.ts
start_app web apps/web ../../node_modules/.bin/tsx server.ts

web_port="${BEANSTALK_WEB_PORT:-3000}"
api_port="${BEANSTALK_API_PORT:-4000}"
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$api_port/graphql?query=%7Bhealth%7Bok%7D%7D" -H 'apollo-require-preflight: 1' >/dev/null 2>&1 &&
    curl -fsS "http://127.0.0.1:$web_port/" >/dev/null 2>&1; then
    echo "web:  http://127.0.0.1:$web_port/"
    echo "api:  http://127.0.0.1:$api_port/graphql"
    echo "sign in as admin@, manager@ or annotator@beanstalk.local (password $password_note)"
    echo "Ctrl-C to stop."
    while kill -0 "${pids[@]}" 2>/dev/null; do sleep 2; done
    echo "an app exited; see $logs" >&2
    exit 1
  fi
  sleep 1
done
echo "apps did not come up within 120 s; see $logs" >&2
exit 1
