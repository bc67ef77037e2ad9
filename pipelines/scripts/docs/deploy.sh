#!/usr/bin/env bash
# cdk_deploy: uploads the built site as a new immutable release. The live site is not
# touched until `switch`. Outputs: release, changed (content differs from live), previous.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
inject_failure "deploy failed: CloudFormation stack update rolled back"

site=${STEP_QUARTZ_BUILD_SITE_DIR:-}
hash=${STEP_QUARTZ_BUILD_CONTENT_HASH:-}
[ -n "$site" ] && [ -f "$site/manifest.json" ] || die "no built site: quartz_build must run first"
root=${PUBLISH_ROOT:-$DEMO_ROOT/docs-publish/site}
mkdir -p "$root/releases"

previous=""
live_hash=""
if [ -L "$root/current" ]; then
  previous=$(basename "$(readlink "$root/current")")
  live_hash=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["content_hash"])' "$root/current/manifest.json" 2>/dev/null || true)
fi
release="$(date -u +%Y%m%dT%H%M%SZ)-${hash:0:12}-${RUNNER_RUN_ID:-manual}"
release=${release//[^A-Za-z0-9._-]/_}
staging="$root/releases/.$release.partial"
rm -rf "$staging"
cp -R "$site" "$staging"
progress 60 "copied"
mv "$staging" "$root/releases/$release"
changed=true
[ "$live_hash" = "$hash" ] && changed=false
echo "deployed release $release (changed=$changed, previous=${previous:-none})"
output release "$release"
output changed "$changed"
output previous "$previous"
progress 100
