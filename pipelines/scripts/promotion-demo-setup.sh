#!/usr/bin/env bash
# Creates the demo apps of seed 001 under $DEMO_ROOT/promotion/apps (default ../.demo,
# run from pipelines/): my-app-development running a first release, and my-app-staging and
# my-app-production with no release yet, each with its Heroku id (a UUID, in app.json), and
# the pipeline my-pipeline they belong to ($DEMO_ROOT/promotion/pipeline.json, its id): the
# ids a Heroku client sends (seed 001, L136-147). Prints each app's id. Idempotent: ids are
# made once. With --new-release, also deploys a new release to my-app-development
# (something new to promote).
#   scripts/promotion-demo-setup.sh [--new-release]
set -euo pipefail
. "$(dirname "$0")/promotion/common.sh"
new_release=false
case "${1:-}" in
  "") ;;
  --new-release) new_release=true ;;
  *) echo "usage: $0 [--new-release]" >&2; exit 64 ;;
esac

deploy_dev_release() {
  local dev="$APPS_ROOT/my-app-development" n release
  n=$(find "$dev/releases" -mindepth 1 -maxdepth 1 -type d ! -name '.*' 2>/dev/null | wc -l)
  n=$((n + 1))
  release=$(new_uuid)
  mkdir -p "$dev/releases/.$release.partial/bin"
  printf 'web: bin/server\n' > "$dev/releases/.$release.partial/Procfile"
  printf '#!/bin/sh\necho "my-app %s"\n' "v$n" > "$dev/releases/.$release.partial/bin/server"
  chmod +x "$dev/releases/.$release.partial/bin/server"
  write_json "$dev/releases/.$release.partial/release.json" "id=$release" app=my-app-development \
    "version=$n" "description=Deploy v$n" "created_at=$(utc_now)"
  mv -T "$dev/releases/.$release.partial" "$dev/releases/$release"
  switch_current "$dev" "$release"
  echo "my-app-development now runs $release"
}

for app in my-app-development my-app-staging my-app-production; do
  mkdir -p "$APPS_ROOT/$app/releases"
  [ -f "$APPS_ROOT/$app/app.json" ] || write_json "$APPS_ROOT/$app/app.json" "id=$(new_uuid)" "name=$app"
done
mkdir -p "$(dirname "$PIPELINE_FILE")"
[ -f "$PIPELINE_FILE" ] || write_json "$PIPELINE_FILE" "id=$(new_uuid)" name=my-pipeline
if [ -z "$(current_release my-app-development)" ] || [ "$new_release" = true ]; then
  deploy_dev_release
fi
echo "pipeline my-pipeline: id $(json_field "$PIPELINE_FILE" id)"
for app in my-app-development my-app-staging my-app-production; do
  echo "$app: id $(json_field "$APPS_ROOT/$app/app.json" id), ${APPS_ROOT}/$app," \
    "current release: $(current_release "$app" | grep . || echo none)"
done
