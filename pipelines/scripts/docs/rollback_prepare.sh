#!/usr/bin/env bash
# rollback_prepare: resolves the release of the previous successful publish from the switch
# history (the one live before this run switched), so rollback_switch can go back to it.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
inject_failure "cannot resolve the previous release"

root=${PUBLISH_ROOT:-$DEMO_ROOT/docs-publish/site}
history="$root/history"
[ -f "$history" ] || die "no switch history at $history: nothing to roll back to"
live=$(basename "$(readlink "$root/current" 2>/dev/null || echo none)")
# The newest history entry that is not the release this run made live.
previous=$(awk -v live="$live" -v run="${RUNNER_RUN_ID:-manual}" '$2 != live && $3 != run { p = $2 } END { print p }' "$history")
[ -n "$previous" ] || die "no earlier release in $history: the first publish cannot be rolled back"
[ -d "$root/releases/$previous" ] || die "previous release $previous is gone from $root/releases"
echo "rolling back from $live to $previous"
output previous "$previous"
output failed_release "$live"
