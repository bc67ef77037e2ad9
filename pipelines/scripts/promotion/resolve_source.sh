#!/usr/bin/env bash
# resolve_source: the release the source app currently runs (what gets promoted), and the
# promotion record $PROMOTIONS_ROOT/<run id>/promotion.json (status pending), like
# Heroku's POST /pipeline-promotions answer. Output: release.
set -euo pipefail
. "$(dirname "$0")/common.sh"
inject_failure "cannot read the source app"
app=${PARAM_SOURCE_APP:-}
valid_app "$app"
[ -d "$APPS_ROOT/$app" ] || die "source app '$app' does not exist (scripts/promotion-demo-setup.sh creates the demo apps)"
release=$(current_release "$app")
[ -n "$release" ] && [ -f "$APPS_ROOT/$app/releases/$release/release.json" ] \
  || die "source app '$app' has no release to promote"
dir="$PROMOTIONS_ROOT/${RUNNER_RUN_ID:-manual}"
mkdir -p "$dir"
write_json "$dir/promotion.json" "id=${RUNNER_RUN_ID:-manual}" "source.app=$app" "source.release=$release" \
  status=pending "created_at=$(utc_now)"
echo "promoting $app release $release"
output release "$release"
