#!/usr/bin/env bash
# switch (the commit point): points `current` at a release with an atomic rename of a
# symlink, so readers see the old or the new site, never a mix. Usage: switch.sh [RELEASE]
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
inject_failure "switch failed"

root=${PUBLISH_ROOT:-$DEMO_ROOT/docs-publish/site}
release=${1:-${STEP_CDK_DEPLOY_RELEASE:-}}
[ -n "$release" ] || die "no release to switch to"
safe_relpath "$release" release
[ -d "$root/releases/$release" ] || die "release $release does not exist under $root/releases"
ln -sfn "releases/$release" "$root/.current.tmp"
mv -T "$root/.current.tmp" "$root/current"
printf '%s %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$release" "${RUNNER_RUN_ID:-manual}" >> "$root/history"
echo "live: $release"
output live "$release"
