#!/usr/bin/env bash
# archive: zips the snapshot into STORAGE_ROOT/<dirPath>/<run id>/backup-<run id>.zip
# (seed 003's zipFilePath), writing to a temporary name first.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
inject_failure "archive failed: no space left on device"
safe_relpath "${PARAM_DIR_PATH:-}" dirPath
storage=${BELAYER_STORAGE_ROOT:-$DEMO_ROOT/belayer/storage}
snapshot=${STEP_SNAPSHOT_SNAPSHOT:-}
[ -f "$snapshot" ] || die "no snapshot to archive"
run=${RUNNER_RUN_ID:-manual}
relative="$PARAM_DIR_PATH/$run/backup-$run.zip"
dest="$storage/$relative"
mkdir -p "$(dirname "$dest")"
progress 92 "compressing"
(cd "$(dirname "$snapshot")" && zip -q -9 "$dest.partial" "$(basename "$snapshot")")
mv "$dest.partial" "$dest"
progress 96 "archived"
echo "archived $(stat -c %s "$dest") bytes to $relative"
output zipFilePath "$relative"
output destDir "$PARAM_DIR_PATH"
