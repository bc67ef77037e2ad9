#!/usr/bin/env bash
# rollback_switch: makes the previous release live again, atomically.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
inject_failure "rollback switch failed"
previous=${STEP_ROLLBACK_PREPARE_PREVIOUS:-}
[ -n "$previous" ] || die "rollback_prepare gave no previous release"
exec "$(dirname "$0")/switch.sh" "$previous"
