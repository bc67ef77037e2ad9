#!/usr/bin/env bash
# cleanup (finally): keeps the newest KEEP_RELEASES releases plus the live one and the one
# before it, deletes the rest, and removes this run's scratch directory.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
root=${PUBLISH_ROOT:-$DEMO_ROOT/docs-publish/site}
keep=${KEEP_RELEASES:-5}
rm -rf "$DEMO_ROOT/docs-publish/runs/${RUNNER_RUN_ID:-manual}"
[ -d "$root/releases" ] || { echo "nothing to prune"; exit 0; }
live=$(basename "$(readlink "$root/current" 2>/dev/null || echo none)")
previous=$(awk -v live="$live" '$2 != live { p = $2 } END { print p }' "$root/history" 2>/dev/null || true)
removed=0
for release in $(ls -1 "$root/releases" | sort -r | tail -n +"$((keep + 1))"); do
  [ "$release" = "$live" ] || [ "$release" = "$previous" ] && continue
  rm -rf "${root:?}/releases/$release"
  removed=$((removed + 1))
done
echo "pruned $removed old release(s); live $live"
output pruned "$removed"
