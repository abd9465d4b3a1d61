#!/usr/bin/env bash
# Installs the Python OpenTelemetry SDK that the SENSE stand-ins of the end-to-end test run on
# (correlator/test/e2e/sense/) into a virtualenv at .tools/sense-venv (git-ignored), from the
# pinned scripts/tools/sense-requirements.txt. Idempotent: a venv installed from the same
# requirements by the same Python is kept.
set -euo pipefail
cd "$(dirname "$0")/../.."

REQUIREMENTS=scripts/tools/sense-requirements.txt
VENV=$PWD/.tools/sense-venv
STAMP=$VENV/.requirements.sha256
PYTHON=${PYTHON:-python3}
started=$(date +%s)
took() { echo "install-sense-python: $1 in $(($(date +%s) - started)) s"; }

command -v "$PYTHON" >/dev/null || { echo "install-sense-python: $PYTHON is needed" >&2; exit 1; }
# A venv is tied to the interpreter that made it: another Python means a new venv.
want=$( { "$PYTHON" -c 'import sys; print(sys.version)'; cat "$REQUIREMENTS"; } | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
  took "up to date ($VENV)"
  exit 0
fi

rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQUIREMENTS"
# pip resolved the pinned set; check that nothing it pulled in conflicts with a pin.
"$VENV/bin/python" -m pip check --disable-pip-version-check
# The stamp is written last, so an interrupted install is redone next time.
echo "$want" >"$STAMP"
took "installed $VENV"
