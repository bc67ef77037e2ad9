# Apps of the promotion pipeline (seed 001), sourced by its scripts:
#   $APPS_ROOT/<app>/releases/<id>/   a slug: the app's files plus release.json
#   $APPS_ROOT/<app>/current          symlink to the running release, switched atomically
#   $PROMOTIONS_ROOT/<run id>/        the promotion (promotion.json) and one record per
#                                     target (<app>.json: status, release, error_message)
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
APPS_ROOT=${APPS_ROOT:-$DEMO_ROOT/promotion/apps}
PROMOTIONS_ROOT=${PROMOTIONS_ROOT:-$DEMO_ROOT/promotion/promotions}

# valid_app NAME: Heroku app names; anything else never becomes a path.
valid_app() {
  printf '%s' "$1" | grep -Eq '^[a-z][a-z0-9-]{2,29}$' || die "invalid app name '$1'" 2
}

# switch_current APP_DIR RELEASE: rename a new symlink over `current` (atomic).
switch_current() {
  local app_dir=$1 release=$2
  ln -sfn "releases/$release" "$app_dir/.current.$$.tmp"
  mv -T "$app_dir/.current.$$.tmp" "$app_dir/current"
}

# current_release APP: the id of the release the app runs, empty when none.
current_release() {
  local link
  link=$(readlink "$APPS_ROOT/$1/current" 2>/dev/null) || return 0
  basename "$link"
}

# write_json FILE KEY=VALUE...: writes the JSON object of those pairs (an empty value is
# null; a dotted key nests: source.app=x -> {"source": {"app": "x"}}). Values are arguments
# serialised by python, never spliced into code.
write_json() {
  local file=$1
  shift
  python3 - "$file" "$@" <<'PY'
import json, os, sys
path, pairs = sys.argv[1], sys.argv[2:]
record = {}
for pair in pairs:
    key, _, value = pair.partition("=")
    *parents, leaf = key.split(".")
    node = record
    for parent in parents:
        node = node.setdefault(parent, {})
    node[leaf] = None if value == "" else value
tmp = path + ".tmp"
with open(tmp, "w", encoding="utf-8") as f:
    json.dump(record, f, ensure_ascii=False, indent=1)
os.replace(tmp, path)
PY
}
