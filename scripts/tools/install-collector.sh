#!/usr/bin/env bash
# Builds the OpenTelemetry Collector that the end-to-end test sends through, from the committed
# manifest (scripts/tools/otelcol-builder.yaml), with the Collector's official builder fetched from
# the Go module proxy. Idempotent: a binary built from the same manifest and builder is kept, so
# `npm test` pays for the build (a few minutes, most of it compiling) once per machine.
# Output: .tools/otelcol/otelcol-correlation (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/../.."

BUILDER_VERSION=v0.165.0
MANIFEST=scripts/tools/otelcol-builder.yaml
TOOLS=$PWD/.tools
BINARY=$TOOLS/otelcol/otelcol-correlation
STAMP=$TOOLS/otelcol/.manifest.sha256
started=$(date +%s)
took() { echo "install-collector: $1 in $(($(date +%s) - started)) s"; }

# Go may be installed but not on PATH (the official tarball goes to /usr/local/go).
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then PATH=/usr/local/go/bin:$PATH; fi
command -v go >/dev/null || { echo "install-collector: Go is needed (https://go.dev/dl)" >&2; exit 1; }

# The builder version is part of the stamp: a new builder may generate a different collector.
want=$( { echo "builder $BUILDER_VERSION"; cat "$MANIFEST"; } | sha256sum | cut -d' ' -f1)
if [ -x "$BINARY" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
  took "up to date ($BINARY)"
  exit 0
fi

mkdir -p "$TOOLS/bin"
if [ "$("$TOOLS/bin/builder" version 2>/dev/null | grep -oE 'v[0-9]+[.][0-9.]+' || true)" != "$BUILDER_VERSION" ]; then
  GOBIN=$TOOLS/bin go install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION"
fi
rm -f "$STAMP"
"$TOOLS/bin/builder" --config="$MANIFEST"
# The stamp is written last, so an interrupted build is redone next time.
echo "$want" >"$STAMP"
took "built $BINARY"
