# Apps of the promotion pipeline (seed 001), sourced by its scripts:
#   $APPS_ROOT/<app>/app.json         the app's Heroku id (a UUID) and name
#   $APPS_ROOT/<app>/releases/<id>/   a slug: the app's files plus release.json
#   $APPS_ROOT/<app>/current          symlink to the running release, switched atomically
#   $PIPELINE_FILE                    the Heroku pipeline the apps are coupled to (id, name)
#   $PROMOTIONS_ROOT/<run id>/        the promotion (promotion.json) and one record per
#                                     target (<target>.json: status, release, error_message)
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
APPS_ROOT=${APPS_ROOT:-$DEMO_ROOT/promotion/apps}
PROMOTIONS_ROOT=${PROMOTIONS_ROOT:-$DEMO_ROOT/promotion/promotions}
PIPELINE_FILE=${PIPELINE_FILE:-$DEMO_ROOT/promotion/pipeline.json}
APP_NAME_RE='^[a-z][a-z0-9-]{2,29}$'
UUID_RE='^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$'

# valid_app ID_OR_NAME: a Heroku app id (a UUID) or name; anything else never becomes a path.
valid_app() {
  printf '%s' "$1" | grep -Eq "$APP_NAME_RE|$UUID_RE" || die "invalid app id or name '$1'" 2
}

# app_named ID_OR_NAME: the app's name (its folder): a name as given, an id looked up in the
# apps' app.json (Heroku's id_or_name). Fails, printing nothing, for an id no app has.
app_named() {
  valid_app "$1"
  if printf '%s' "$1" | grep -Eq "$APP_NAME_RE"; then
    printf '%s' "$1"
    return 0
  fi
  python3 - "$APPS_ROOT" "$1" <<'PY'
import json, os, sys
root, wanted = sys.argv[1], sys.argv[2].lower()
for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
    try:
        with open(os.path.join(root, name, "app.json"), encoding="utf-8") as f:
            if str(json.load(f).get("id", "")).lower() == wanted:
                print(name, end="")
                sys.exit(0)
    except (OSError, ValueError, AttributeError):
        pass
sys.exit(1)
PY
}

# new_uuid [NAME]: a random UUID; with NAME, the one UUID (version 5) that NAME always gets.
new_uuid() {
  python3 -c 'import sys, uuid
print(uuid.uuid5(uuid.NAMESPACE_URL, sys.argv[1]) if len(sys.argv) > 1 else uuid.uuid4())' "$@"
}

# json_field FILE KEY: a top-level string of a JSON file, empty when absent or unreadable.
json_field() {
  python3 -c 'import json, sys
try:
    print(json.load(open(sys.argv[1], encoding="utf-8")).get(sys.argv[2]) or "")
except (OSError, ValueError, AttributeError):
    print("")' "$1" "$2"
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
