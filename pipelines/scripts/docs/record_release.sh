#!/usr/bin/env bash
# record_release (finally, only when the publish succeeded): appends
# `<time> <release> <run id> published` to $PUBLISH_ROOT/history. These entries are the
# "previous successful runs" rollback_prepare goes back to, and the releases cleanup keeps.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
inject_failure "could not append to the release history"
root=${PUBLISH_ROOT:-$DEMO_ROOT/docs-publish/site}
release=${STEP_CDK_DEPLOY_RELEASE:-}
[ -n "$release" ] || die "cdk_deploy gave no release"
live=$(basename "$(readlink "$root/current" 2>/dev/null || echo none)")
[ "$live" = "$release" ] || die "the live release is $live, not $release: another switch happened; not recording"
printf '%s %s %s %s\n' "$(utc_now)" "$release" "${RUNNER_RUN_ID:-manual}" published >> "$root/history"
echo "recorded $release as published"
output published "$release"
