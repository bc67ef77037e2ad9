# Apps of the promotion pipeline: APPS_ROOT/<app>/releases/<id>/ (a slug: files plus
# release.json) and APPS_ROOT/<app>/current, a symlink switched atomically.
. "$(dirname "$0")/../lib.sh"
APPS_ROOT=${APPS_ROOT:-$DEMO_ROOT/promotion/apps}

valid_app() {
  printf '%s' "$1" | grep -Eq '^[a-z][a-z0-9-]{2,29}$' || die "invalid app name '$1'" 2
}

switch_current() {
  local app_dir=$1 release=$2
  ln -sfn "releases/$release" "$app_dir/.current.tmp"
  mv -T "$app_dir/.current.tmp" "$app_dir/current"
}
