#!/usr/bin/env bash
# promote[ITEM]: copies the source release's slug into the target app as a new release and
# makes it current. Each target succeeds or fails on its own (Heroku's promotion targets);
# PROMOTE_FAIL_TARGETS=app-a,app-b makes those targets fail with an error message.
set -euo pipefail
. "$(dirname "$0")/common.sh"
inject_failure "promotion failed"
target=${ITEM:-}
valid_app "$target"
source_app=${PARAM_SOURCE_APP:-}
release=${STEP_RESOLVE_SOURCE_RELEASE:-}
[ -n "$release" ] || die "no source release"
[ "$target" != "$source_app" ] || die "cannot promote $source_app to itself"
case ",${PROMOTE_FAIL_TARGETS:-}," in
  *",$target,"*) die "Release could not be created on $target: the app is in maintenance mode" ;;
esac
[ -d "$APPS_ROOT/$target" ] || die "target app '$target' does not exist"
run=${RUNNER_RUN_ID:-manual}
new="$release-to-$target-${run//[^A-Za-z0-9._-]/_}"
staging="$APPS_ROOT/$target/releases/.$new.partial"
rm -rf "$staging"
cp -R "$APPS_ROOT/$source_app/releases/$release" "$staging"
printf '{"id": "%s", "app": "%s", "source": {"app": "%s", "release": "%s"}, "promotion": "%s", "created_at": "%s"}\n' \
  "$new" "$target" "$source_app" "$release" "${RUNNER_RUN_ID:-manual}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$staging/release.json"
rm -rf "${APPS_ROOT:?}/$target/releases/$new"   # a retried attempt of this run replaces its own release
mv "$staging" "$APPS_ROOT/$target/releases/$new"
switch_current "$APPS_ROOT/$target" "$new"
echo "$target now runs $new"
output release "$new"
