#!/usr/bin/env bash
# cleanup (finally): deletes old releases beyond the newest KEEP_RELEASES (default 5), never
# the live one nor the newest published one (the rollback target), and removes this run's
# scratch directory.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
inject_failure "could not delete old releases: permission denied"
root=${PUBLISH_ROOT:-$DEMO_ROOT/docs-publish/site}
keep=${KEEP_RELEASES:-5}
printf '%s' "$keep" | grep -Eq '^[0-9]+$' || die "KEEP_RELEASES must be a number, not '$keep'"
rm -rf "$DEMO_ROOT/docs-publish/runs/${RUNNER_RUN_ID:-manual}"
[ -d "$root/releases" ] || { echo "nothing to prune"; output pruned 0; exit 0; }
live=$(basename "$(readlink "$root/current" 2>/dev/null || echo none)")
protected=$(awk -v live="$live" '$4 == "published" && $2 != live { p = $2 } END { print p }' "$root/history" 2>/dev/null || true)
[ -n "$protected" ] || protected=${STEP_CDK_DEPLOY_PREVIOUS:-none}
removed=0
# release ids start with their UTC time, so a reverse sort is newest first
while IFS= read -r release; do
  [ -n "$release" ] || continue
  [ "$release" = "$live" ] || [ "$release" = "$protected" ] && continue
  rm -rf -- "${root:?}/releases/$release"
  removed=$((removed + 1))
done < <(find "$root/releases" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n' | sort -r | tail -n +"$((keep + 1))")
echo "pruned $removed old release(s); live $live, kept $keep newest and ${protected}"
output pruned "$removed"
