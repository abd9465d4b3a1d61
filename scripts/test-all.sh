#!/usr/bin/env bash
# Every test of the repository, in one command (`npm test`). The correlator's node:test run goes
# last so its summary closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s ===\n' "$*"; }

step "build (api-schema, correlator)"
npm run build --silent

step "correlator: typecheck and lint"
npm run typecheck --silent -w correlator
npm run lint --silent -w correlator

if [ -f plugin-datasource/package.json ]; then
  step "plugin-datasource: typecheck, lint, build, unit and integration tests"
  npm run typecheck --silent -w plugin-datasource
  npm run lint --silent -w plugin-datasource
  npm run build --silent -w plugin-datasource
  npm run test:ci --silent -w plugin-datasource
fi

# The end-to-end test through a real collector needs the collector and the Python SDK apps'
# venv, in the git-ignored .tools/. Both scripts skip what is already installed from the same
# manifest or requirements, so this costs minutes once per machine and about a second after.
step "tools for the collector end-to-end test (OpenTelemetry Collector, Python SDK venv)"
bash scripts/tools/install-collector.sh
bash scripts/tools/install-sense-python.sh

step "correlator: unit, API, end-to-end, bad-input and crash tests"
npm test --silent -w correlator
