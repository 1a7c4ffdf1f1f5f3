#!/usr/bin/env bash
# Prints the Debian archive this machine's apt already uses (the first deb URI of the main
# archive in its sources, security archives aside), or $DEBIAN_MIRROR when set; exits 1 when
# there is none. The apt folder is $1 (default /etc/apt), so tests can point it elsewhere.
set -euo pipefail
apt="${1:-/etc/apt}"
if [[ -n "${DEBIAN_MIRROR:-}" ]]; then
  echo "$DEBIAN_MIRROR"
  exit 0
fi
mirror="$(
  {
    grep -hs '^URIs:' "$apt"/sources.list.d/*.sources | awk '{for (i = 2; i <= NF; i++) print $i}'
    grep -hsE '^deb\s' "$apt"/sources.list "$apt"/sources.list.d/*.list |
      awk '{for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}'
  } | grep -v -- '-security' | grep -E '/debian/?$' | head -n1 || true
)"
[[ -n "$mirror" ]] || exit 1
echo "${mirror%/}"
