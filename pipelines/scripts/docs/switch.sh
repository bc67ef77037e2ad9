#!/usr/bin/env bash
# switch (the commit point): points $PUBLISH_ROOT/current at a release by renaming a new
# symlink over it (rename(2) is atomic: readers see the old site or the new one, never a
# mix), then appends `<time> <release> <run id> <event>` to $PUBLISH_ROOT/history.
# Usage: switch.sh [RELEASE [EVENT]]; by default the release cdk_deploy made, event `switch`.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
inject_failure "switch failed: could not update the distribution origin"

root=${PUBLISH_ROOT:-$DEMO_ROOT/docs-publish/site}
release=${1:-${STEP_CDK_DEPLOY_RELEASE:-}}
event=${2:-switch}
[ -n "$release" ] || die "no release to switch to"
safe_relpath "$release" release
case "$release" in */*) die "invalid release '$release'" ;; esac
[ -d "$root/releases/$release" ] || die "release $release does not exist under $root/releases"
tmp="$root/.current.$$.tmp"
ln -sfn "releases/$release" "$tmp"
mv -T "$tmp" "$root/current"
printf '%s %s %s %s\n' "$(utc_now)" "$release" "${RUNNER_RUN_ID:-manual}" "$event" >> "$root/history"
echo "live: $release"
output live "$release"
