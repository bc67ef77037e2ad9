#!/usr/bin/env bash
# resolve_source: the release currently running on the source app (what will be promoted).
set -euo pipefail
. "$(dirname "$0")/common.sh"
inject_failure "cannot read the source app"
app=${PARAM_SOURCE_APP:-}
valid_app "$app"
[ -d "$APPS_ROOT/$app" ] || die "source app '$app' does not exist (run scripts/promotion/setup-demo-apps.sh for the demo apps)"
[ -L "$APPS_ROOT/$app/current" ] || die "source app '$app' has no release to promote"
release=$(basename "$(readlink "$APPS_ROOT/$app/current")")
echo "promoting $app release $release"
output release "$release"
