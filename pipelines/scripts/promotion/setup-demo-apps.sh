#!/usr/bin/env bash
# Creates the demo apps of seed 001 once: my-app-development with a release, and empty
# my-app-staging and my-app-production. Run from pipelines/: scripts/promotion/setup-demo-apps.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"
dev="$APPS_ROOT/my-app-development"
if [ ! -L "$dev/current" ]; then
  release="r$(date -u +%Y%m%d%H%M%S)"
  mkdir -p "$dev/releases/$release/app"
  printf 'web: ./bin/server\n' > "$dev/releases/$release/Procfile"
  printf '#!/bin/sh\necho "hello from %s"\n' "$release" > "$dev/releases/$release/app/server"
  printf '{"id": "%s", "app": "my-app-development", "source": null, "created_at": "%s"}\n' \
    "$release" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$dev/releases/$release/release.json"
  switch_current "$dev" "$release"
  echo "created my-app-development with release $release"
fi
mkdir -p "$APPS_ROOT/my-app-staging/releases" "$APPS_ROOT/my-app-production/releases"
echo "apps under $APPS_ROOT: $(ls "$APPS_ROOT" | tr '\n' ' ')"
