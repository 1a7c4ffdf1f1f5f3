#!/usr/bin/env bash
# The training worker's Python: a virtual environment in the data folder over Debian's
# packages (torch, numpy, onnx), plus apps/trainer/requirements-worker.txt, pinned with hashes.
# Quick when it is in place: it reinstalls only when the requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${BEANSTALK_DATA_DIR:-.data}/trainer-venv"
requirements=apps/trainer/requirements-worker.txt
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
  exit 0
fi
printf '\n== training worker Python packages (%s)\n' "$venv"
/usr/bin/python3 -m venv --system-site-packages --without-pip "$venv"
/usr/bin/python3 -m pip --python "$venv/bin/python" install --quiet --no-deps --require-hashes \
  -r "$requirements"
"$venv/bin/python" -c 'import temporalio.worker, torch' # fails here rather than in the worker
echo "$wanted" >"$stamp"
