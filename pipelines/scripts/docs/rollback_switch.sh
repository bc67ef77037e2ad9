#!/usr/bin/env bash
# rollback_switch: makes the release rollback_prepare resolved live again, with the same
# atomic symlink switch; the history records the event as `rollback`.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
inject_failure "rollback switch failed"
previous=${STEP_ROLLBACK_PREPARE_PREVIOUS:-}
[ -n "$previous" ] || die "rollback_prepare gave no previous release"
exec "$(dirname "$0")/switch.sh" "$previous" rollback
