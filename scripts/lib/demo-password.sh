#!/usr/bin/env bash
# The demo accounts' password for a data folder, on two lines: the password, then how to
# describe it. DEMO_PASSWORD wins; otherwise one is generated on the first call, kept in
# <data dir>/demo-password (readable by its owner only) and shown that once; later calls read
# it back and only say where it is.
set -euo pipefail
data_dir="${1:?usage: demo-password.sh DATA_DIR}"
file="$data_dir/demo-password"
if [ -n "${DEMO_PASSWORD:-}" ]; then
  printf '%s\n%s\n' "$DEMO_PASSWORD" "from DEMO_PASSWORD"
elif [ -s "$file" ]; then
  printf '%s\n%s\n' "$(cat "$file")" "in $file"
else
  mkdir -p "$data_dir"
  password="$(node -e 'process.stdout.write(require("node:crypto").randomBytes(15).toString("base64url"))')"
  (umask 077 && printf '%s\n' "$password" >"$file")
  printf '%s\n%s\n' "$password" "$password (generated now, kept in $file)"
fi
