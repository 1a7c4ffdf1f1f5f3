#!/usr/bin/env bash
# Root-only steps: Debian packages and the pgvector extension build.
# Everything else (the project-local Postgres cluster, Temporal, npm packages) runs
# unprivileged from `npm run services`. Safe to run again: each step checks first.
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-15}"
PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config"
PGVECTOR_VERSION="0.8.0"

if [[ $EUID -ne 0 ]]; then
  echo "install-system-deps: needs root (apt-get, make install into Postgres' directories)." >&2
  echo "Run: sudo bash scripts/install-system-deps.sh" >&2
  exit 1
fi

say() { printf '\n== %s\n' "$*"; }

packages=(
  "postgresql-${PG_MAJOR}" "postgresql-server-dev-${PG_MAJOR}" build-essential
  dataset-fashion-mnist # real Fashion-MNIST IDX files in /usr/share/datasets/fashion-mnist
  python3-torch python3-torchvision python3-numpy python3-onnx python3-pytest python3-venv # trainer (Debian's CPU torch)
  chromium fonts-liberation # browser tests with playwright-core
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  say "Debian packages already installed"
fi

ext_dir="$("$PG_CONFIG" --sharedir)/extension"
if [[ -f "$ext_dir/vector--${PGVECTOR_VERSION}.sql" ]]; then
  say "pgvector ${PGVECTOR_VERSION} already installed"
else
  # pgvector is not packaged for Debian 12; Debian 13 (trixie) ships its source package.
  say "building pgvector ${PGVECTOR_VERSION} from Debian trixie's source package"
  # From the Debian archive this machine already uses (its mirror, not a host named here).
  if ! mirror="$(bash "$(dirname "$0")/lib/debian-mirror.sh")"; then
    echo "install-system-deps: no Debian archive in /etc/apt/sources.list*; set DEBIAN_MIRROR" >&2
    exit 1
  fi
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial"
  echo "deb-src ${mirror} trixie main" >"$work/trixie-src.list"
  apt_opts=(-o "Dir::Etc::SourceList=$work/trixie-src.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists")
  apt-get "${apt_opts[@]}" update -qq
  (cd "$work" && apt-get "${apt_opts[@]}" source --download-only pgvector)
  tar -xzf "$work"/pgvector_"${PGVECTOR_VERSION}".orig.tar.gz -C "$work"
  src="$(find "$work" -maxdepth 1 -type d -name 'pgvector-*' | head -n1)"
  make -C "$src" -s PG_CONFIG="$PG_CONFIG" OPTFLAGS=""
  make -C "$src" -s PG_CONFIG="$PG_CONFIG" install
fi
say "system dependencies ready"
