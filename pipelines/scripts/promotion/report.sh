#!/usr/bin/env bash
# report: per target, whether it now runs a release made by this promotion run.
set -euo pipefail
. "$(dirname "$0")/common.sh"
summary=""
while IFS= read -r target; do
  [ -n "$target" ] || continue
  current=$(basename "$(readlink "$APPS_ROOT/$target/current" 2>/dev/null || echo none)")
  state=failed
  if grep -qF "\"promotion\": \"${RUNNER_RUN_ID:-manual}\"" "$APPS_ROOT/$target/current/release.json" 2>/dev/null; then
    state=succeeded
  fi
  echo "$target: $state ($current)"
  summary="$summary${summary:+,}$target=$state"
done <<< "${PARAM_TARGETS:-}"
output summary "$summary"
