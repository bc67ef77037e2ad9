#!/usr/bin/env bash
# cdk_deploy: uploads the built site as a new immutable release,
# $PUBLISH_ROOT/releases/<time>-<content hash>-<run id>, with a release.json recording the
# commit, the run and its reason. The live site is not touched until `switch`.
# Outputs: release, changed (the content differs from the live release's), previous (the
# live release, empty on the first publish).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
inject_failure "deploy failed: CloudFormation stack update rolled back (UPDATE_ROLLBACK_COMPLETE)"

site=${STEP_QUARTZ_BUILD_SITE_DIR:-}
hash=${STEP_QUARTZ_BUILD_CONTENT_HASH:-}
[ -n "$site" ] && [ -f "$site/manifest.json" ] || die "no built site: quartz_build must run first"
printf '%s' "$hash" | grep -Eq '^[0-9a-f]{64}$' || die "quartz_build gave no content hash"
root=${PUBLISH_ROOT:-$DEMO_ROOT/docs-publish/site}
mkdir -p "$root/releases"

previous=""
live_hash=""
if [ -L "$root/current" ]; then
  previous=$(basename "$(readlink "$root/current")")
  live_hash=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["content_hash"])' \
    "$root/current/manifest.json" 2>/dev/null || true)
fi
release="$(date -u +%Y%m%dT%H%M%SZ)-${hash:0:12}-${RUNNER_RUN_ID:-manual}"
release=${release//[^A-Za-z0-9._-]/_}
staging="$root/releases/.$release.partial"
trap 'rm -rf "$staging"' EXIT
rm -rf "$staging"
progress 0 "uploading"
cp -R "$site" "$staging"
progress 80 "uploaded"
# release.json: written by python from the environment, so no value is ever shell source.
RELEASE="$release" HASH="$hash" python3 - "$staging/release.json" <<'PY'
import datetime, json, os, sys
record = {
    "release": os.environ["RELEASE"],
    "content_hash": os.environ["HASH"],
    "commit": os.environ.get("STEP_QUARTZ_BUILD_COMMIT") or None,
    "target_ref": os.environ.get("PARAM_TARGET_REF"),
    "reason": os.environ.get("PARAM_REASON"),
    "run_id": os.environ.get("RUNNER_RUN_ID", "manual"),
    "trigger": os.environ.get("RUNNER_TRIGGER"),
    "created_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
}
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(record, f, ensure_ascii=False, indent=1)
PY
mv -T "$staging" "$root/releases/$release"
changed=true
[ "$live_hash" = "$hash" ] && changed=false
echo "deployed release $release (changed=$changed, previous=${previous:-none})"
output release "$release"
output changed "$changed"
output previous "$previous"
progress 100 "deployed"
