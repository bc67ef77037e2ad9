#!/usr/bin/env bash
# promote[ITEM]: copies the source release's slug into the target app (ITEM: its id or name)
# as a new release (release.json records the source app and release, and the promotion),
# then switches the target's `current` to it atomically. Each target succeeds or fails on
# its own, like Heroku's promotion targets: its record $PROMOTIONS_ROOT/<run id>/<ITEM>.json
# holds status, release and error_message. PROMOTE_FAIL_TARGETS=app-a,app-b (names) makes
# those targets fail. Output: release (the new release on the target, a UUID).
set -euo pipefail
. "$(dirname "$0")/common.sh"
item=${ITEM:-}
valid_app "$item"
target=$item
run=${RUNNER_RUN_ID:-manual}
records="$PROMOTIONS_ROOT/$run"
mkdir -p "$records"
recorded=false

# fail MESSAGE: the target's record says failed with MESSAGE (Heroku's error_message)
fail() {
  write_json "$records/$item.json" "app=$target" status=failed release= "error_message=$1" "updated_at=$(utc_now)"
  recorded=true
  die "$1"
}
on_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ "$recorded" = false ]; then
    write_json "$records/$item.json" "app=$target" status=failed release= \
      "error_message=promotion to $target failed (exit $rc)" "updated_at=$(utc_now)"
  fi
}
trap on_exit EXIT

inject_failure "promotion failed"
release=${STEP_RESOLVE_SOURCE_RELEASE:-}
[ -n "$release" ] || fail "no source release: resolve_source must run first"
target=$(app_named "$item") || fail "Couldn't find that app: $item"
source_app=$(app_named "${PARAM_SOURCE_APP:-}") || fail "Couldn't find that app: ${PARAM_SOURCE_APP:-}"
[ "$target" != "$source_app" ] || fail "Cannot promote $source_app to itself"
case ",${PROMOTE_FAIL_TARGETS:-}," in
  *",$target,"*) fail "Release could not be created on $target: the app is in maintenance mode" ;;
esac
[ -d "$APPS_ROOT/$target" ] || fail "Couldn't find that app: $target"
[ -d "$APPS_ROOT/$source_app/releases/$release" ] || fail "source release $release is gone from $source_app"
# one release per source release, target and promotion: a retried attempt replaces its own
new=$(new_uuid "runner-promotion:$source_app/$release:$target:$run")
staging="$APPS_ROOT/$target/releases/.$new.partial"
rm -rf -- "$staging"
progress 10 "copying the slug"
cp -R "$APPS_ROOT/$source_app/releases/$release" "$staging"
write_json "$staging/release.json" "id=$new" "app=$target" "source.app=$source_app" "source.release=$release" \
  "promotion=$run" "description=Promote $source_app $release" "created_at=$(utc_now)"
rm -rf -- "${APPS_ROOT:?}/$target/releases/$new"
mv -T "$staging" "$APPS_ROOT/$target/releases/$new"
switch_current "$APPS_ROOT/$target" "$new"
write_json "$records/$item.json" "app=$target" status=succeeded "release=$new" error_message= "updated_at=$(utc_now)"
recorded=true
progress 100 "released"
echo "$target now runs $new"
output release "$new"
