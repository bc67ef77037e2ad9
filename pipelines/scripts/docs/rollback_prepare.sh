#!/usr/bin/env bash
# rollback_prepare: resolves the release of the previous successful publish (seed 000, step
# 3), the newest `published` entry of $PUBLISH_ROOT/history other than the release this run
# deployed. A history without any `published` entry (steps run by hand, or a history older
# than record_release) falls back to the release that was live when this run deployed.
# Outputs: previous, failed_release.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
inject_failure "cannot resolve the previous release"

root=${PUBLISH_ROOT:-$DEMO_ROOT/docs-publish/site}
history="$root/history"
[ -f "$history" ] || die "no switch history at $history: nothing to roll back to"
live=$(basename "$(readlink "$root/current" 2>/dev/null || echo none)")
failed=${STEP_CDK_DEPLOY_RELEASE:-$live}
previous=""
if grep -q ' published$' "$history"; then
  # newest first; the first published release that is not this run's and still exists
  while read -r _ release _ event; do
    [ "$event" = published ] && [ "$release" != "$failed" ] && [ -d "$root/releases/$release" ] || continue
    previous=$release
    break
  done < <(tac "$history")
  [ -n "$previous" ] || die "no earlier successful publish in $history: nothing to roll back to"
else
  previous=${STEP_CDK_DEPLOY_PREVIOUS:-}
  [ -n "$previous" ] || die "no earlier release in $history: the first publish cannot be rolled back"
  [ -d "$root/releases/$previous" ] || die "previous release $previous is gone from $root/releases"
fi
echo "rolling back from $live to $previous"
output previous "$previous"
output failed_release "$failed"
