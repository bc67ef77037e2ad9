#!/usr/bin/env bash
# resolve_source: the release the source app currently runs (what gets promoted), and the
# promotion record $PROMOTIONS_ROOT/<run id>/promotion.json (status pending), like
# Heroku's POST /pipeline-promotions answer. The source app is an id or a name; a pipeline
# given (PARAM_PIPELINE, id or name) must be the apps' pipeline ($PIPELINE_FILE) when there
# is one. Output: release.
set -euo pipefail
. "$(dirname "$0")/common.sh"
inject_failure "cannot read the source app"
given=${PARAM_SOURCE_APP:-}
valid_app "$given"
pipeline=${PARAM_PIPELINE:-}
if [ -n "$pipeline" ] && [ -f "$PIPELINE_FILE" ] && [ "${pipeline,,}" != "$(json_field "$PIPELINE_FILE" id)" ] \
   && [ "$pipeline" != "$(json_field "$PIPELINE_FILE" name)" ]; then
  die "Couldn't find that pipeline: $pipeline"
fi
app=$(app_named "$given") && [ -d "$APPS_ROOT/$app" ] \
  || die "source app '$given' does not exist (scripts/promotion-demo-setup.sh creates the demo apps)"
release=$(current_release "$app")
[ -n "$release" ] && [ -f "$APPS_ROOT/$app/releases/$release/release.json" ] \
  || die "source app '$given' has no release to promote"
dir="$PROMOTIONS_ROOT/${RUNNER_RUN_ID:-manual}"
mkdir -p "$dir"
write_json "$dir/promotion.json" "id=${RUNNER_RUN_ID:-manual}" "pipeline.id=$pipeline" "source.app=$app" \
  "source.release=$release" status=pending "created_at=$(utc_now)"
echo "promoting $app release $release"
output release "$release"
