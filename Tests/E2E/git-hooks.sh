#!/usr/bin/env bash
# End-to-end: git hooks launch docs-publish (seed 000) through the runner binary.
#   A bare repository ("the server") made from this working tree gets runner's post-receive
#   hook; pushes from a clone then:
#   - main: launch exactly one docs-publish run at the pushed SHA (trigger hook, ref, pusher),
#     which succeeds and publishes that commit's docs (its README marker is live)
#   - another branch, a tag, a branch deletion: launch nothing
#   - two quick pushes of main: the second follows on_conflict (reject): one run, and the
#     pusher is told PUBLISH_ALREADY_ACTIVE
#   and the hook itself: installed twice = installed once; an existing hook is chained (still
#   runs, same input) and restored by uninstall; the state directory did not exist before the
#   first push.
#
# Usage: Tests/E2E/git-hooks.sh [RUNNER]    RUNNER defaults to .build/debug/runner
# Everything happens under one temporary directory. About 15-30 s. Exit 0 = every check passed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNNER=${1:-.build/debug/runner}
case $RUNNER in /*) ;; *) if [ -e "$PWD/$RUNNER" ]; then RUNNER=$PWD/$RUNNER; else RUNNER=$ROOT/$RUNNER; fi ;; esac
[ -x "$RUNNER" ] || { echo "git-hooks: no runner binary at $RUNNER" >&2; exit 2; }
for tool in git python3; do command -v "$tool" >/dev/null || { echo "git-hooks: $tool is required" >&2; exit 2; }; done

while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(PARAM_|STEP_|RUNNER_|INJECT_|DOCS_|GIT_)|^(PUBLISH_ROOT|DEMO_ROOT)$')
export PYTHONDONTWRITEBYTECODE=1 NO_COLOR=1 USER=e2e-pusher HOME
export GIT_AUTHOR_NAME=e2e GIT_AUTHOR_EMAIL=e2e@example.invalid GIT_COMMITTER_NAME=e2e GIT_COMMITTER_EMAIL=e2e@example.invalid
export GIT_CONFIG_NOSYSTEM=1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/git-hooks.XXXXXX")
HOME=$WORK/home && mkdir -p "$HOME"
git config --global init.defaultBranch main && git config --global commit.gpgsign false && git config --global advice.detachedHead false
cleanup() {
  # Detached runs still going (a failed check): cancel them so nothing outlives the test.
  if [ -d "$WORK/state" ]; then
    for id in $(RUNNER_HOME=$WORK/state "$RUNNER" runs list --json --limit 1000 2>/dev/null | python3 -c \
      'import json,sys; print(" ".join(r["id"] for r in json.load(sys.stdin) if r["status"] in ("queued","running","waiting","rollback_pending")))' 2>/dev/null); do
      RUNNER_HOME=$WORK/state "$RUNNER" runs cancel "$id" >/dev/null 2>&1
    done
    sleep 1
  fi
  rm -rf -- "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASSED=0 FAILED=0 SECONDS=0
check() {   # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then PASSED=$((PASSED + 1)); echo "  ok    $name"; else FAILED=$((FAILED + 1)); echo "  FAIL  $name"; fi
}
eq() { [ "$1" = "$2" ] || { echo "        got:      $1"; echo "        expected: $2"; return 1; }; }

export RUNNER_HOME=$WORK/state DEMO_ROOT=$WORK/demo PUBLISH_ROOT=$WORK/publish
runs_json() { "$RUNNER" runs list --json --limit 1000 2>/dev/null || echo '[]'; }
run_count() { runs_json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
# settle: wait (up to 90 s) until no run is unfinished.
settle() {
  local i
  for i in $(seq 450); do
    runs_json | python3 -c 'import json,sys; sys.exit(any(r["status"] in ("queued","running","waiting","rollback_pending") for r in json.load(sys.stdin)))' && return 0
    sleep 0.2
  done
  echo "        runs still unfinished after 90 s"; return 1
}
# The run created last (ids order by second only).
newest() { runs_json | python3 -c 'import json,sys; r=sorted(json.load(sys.stdin), key=lambda x: x["created_at"]); print(r[-1]["id"] if r else "")'; }
show() { "$RUNNER" runs show "$1" --json; }
field() { python3 -c "import json,sys; r=json.load(sys.stdin); print($1)"; }

# --- the server: a bare repository made of this working tree (tracked and untracked files)
echo "git hooks (seed 000 through post-receive)"
"$ROOT/Tests/E2E/copy-worktree.sh" "$ROOT" "$WORK/seed" || { echo "cannot copy the working tree"; exit 1; }
(cd "$WORK/seed" && git init -q && git add -A && git commit -q --no-verify -m "snapshot") || { echo "cannot make the seed repository"; exit 1; }
git clone -q --bare "$WORK/seed" "$WORK/server.git"
git clone -q "$WORK/server.git" "$WORK/ops"      # where the pipeline file lives
git clone -q "$WORK/server.git" "$WORK/dev"      # where pushes come from
PIPELINE=$WORK/ops/pipelines/docs-publish.yaml

# An existing hook: it must keep running, with the same input.
cat > "$WORK/server.git/hooks/post-receive" <<'EOF'
#!/bin/sh
cat >> "$(dirname "$0")/../earlier-hook.log"
EOF
chmod +x "$WORK/server.git/hooks/post-receive"

# --- install (twice), from a directory whose state directory does not exist yet
check "hooks: no runner state exists before the first push" test ! -e "$WORK/state"
(cd "$WORK" && "$RUNNER" hook install --repo server.git --pipeline "$PIPELINE" >/dev/null 2>"$WORK/install.err" \
  && "$RUNNER" hook install --repo server.git --pipeline "$PIPELINE" >/dev/null 2>>"$WORK/install.err")
check "hooks: installed twice = one registration; the earlier hook kept as post-receive.runner-chained" \
  eq "$(grep -c '^# runner-hook-entry: ' "$WORK/server.git/hooks/post-receive"),$(test -x "$WORK/server.git/hooks/post-receive.runner-chained" && echo chained)" "1,chained"
check "hooks: hook list shows the pipeline" eq "$("$RUNNER" hook list --repo "$WORK/server.git" | grep -c "$PIPELINE")" "1"

# --- 1. a push of main launches exactly one run at the pushed SHA, which publishes it
marker="hook-e2e-$RANDOM$RANDOM"
(cd "$WORK/dev" && printf '\n%s\n' "$marker" >> README.md && git commit -q -am "docs: $marker" && git push -q origin main 2>"$WORK/push1.err")
pushed=$(git -C "$WORK/dev" rev-parse HEAD)
settle
id=$(newest)
check "hooks: push of main launched exactly one run" eq "$(run_count)" "1"
check "hooks: the pusher was told the run id" grep -q "run $id launched for refs/heads/main" "$WORK/push1.err"
show "$id" > "$WORK/run1.json"
check "hooks: the run succeeded, trigger hook, ref refs/heads/main, pusher, at the pushed SHA (ref and resolved commit)" \
  eq "$(field 'r["status"], r["trigger"], r["trigger_detail"]["ref"], r["trigger_detail"]["pusher"], r["params"]["targetRef"] == r["refs"]["targetRef"]["sha"] == "'"$pushed"'"' < "$WORK/run1.json")" \
  "succeeded hook refs/heads/main e2e-pusher True"
check "hooks: the live release is that commit, and shows its README change" \
  eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["commit"])' "$PUBLISH_ROOT/current/release.json"),$(grep -c "$marker" "$PUBLISH_ROOT/current/docs/index.html")" "$pushed,1"
check "hooks: the earlier hook still ran, with the same input" grep -q " $pushed refs/heads/main\$" "$WORK/server.git/earlier-hook.log"
check "hooks: the runner state was created by the push" test -f "$WORK/state/state.db"

# --- 2. what does not match launches nothing
(cd "$WORK/dev" && git checkout -q -b feature && git commit -q --allow-empty -m feature && git push -q origin feature 2>/dev/null \
  && git tag v9.9 && git push -q origin v9.9 2>/dev/null && git push -q origin :feature 2>/dev/null && git checkout -q main)
sleep 1; settle
check "hooks: a branch, a tag and a branch deletion launched nothing" eq "$(run_count)" "1"

# --- 3. two quick pushes: the second is rejected while the first publish is active
(cd "$WORK/dev" && git commit -q --allow-empty -m one && git push -q origin main 2>"$WORK/push2.err" \
  && git commit -q --allow-empty -m two && git push -q origin main 2>"$WORK/push3.err")
second=$(git -C "$WORK/dev" rev-parse HEAD)
settle
check "hooks: two quick pushes made one run (on_conflict: reject)" eq "$(run_count)" "2"
check "hooks: the second pusher was told PUBLISH_ALREADY_ACTIVE" grep -q "not launched for refs/heads/main at ${second:0:12}.*PUBLISH_ALREADY_ACTIVE" "$WORK/push3.err"
check "hooks: the rejection is in the hooks log" grep -q "rejected docs-publish refs/heads/main $second" "$WORK/state/logs/hooks.log"
check "hooks: the launched run succeeded" eq "$(show "$(newest)" | field 'r["status"]')" "succeeded"

# --- 4. uninstall restores the earlier hook
"$RUNNER" hook uninstall --repo "$WORK/server.git" >/dev/null
check "hooks: uninstall put the earlier hook back" eq "$(head -n 2 "$WORK/server.git/hooks/post-receive" | tail -n 1 | cut -c1-3),$(test -e "$WORK/server.git/hooks/post-receive.runner-chained" && echo left || echo gone)" "cat,gone"
(cd "$WORK/dev" && git commit -q --allow-empty -m after && git push -q origin main 2>/dev/null)
sleep 0.5
check "hooks: after uninstall a push launches nothing" eq "$(run_count)" "2"

# --- 5. tags launch when the glob matches; post-commit in a work tree (not bare)
cat > "$WORK/tiny.yaml" <<'EOF'
version: 1
name: tiny
params:
  targetRef: {type: gitref, required: true, repo: dev}
steps:
  - {name: show, run: 'echo "sha=$PARAM_TARGET_REF_SHA" >> "$RUNNER_OUTPUT"', outputs: [sha]}
EOF
"$RUNNER" hook install --repo "$WORK/server.git" --pipeline "$WORK/tiny.yaml" --ref 'refs/tags/v*' --param-for-ref targetRef >/dev/null
(cd "$WORK/dev" && git tag x1 && git push -q origin x1 2>/dev/null && git tag -a v2.0 -m release && git push -q origin v2.0 2>/dev/null)
tag_commit=$(git -C "$WORK/dev" rev-parse 'v2.0^{commit}')
settle
check "hooks: tag x1 launched nothing; annotated tag v2.0 (refs/tags/v*) launched tiny at its commit" \
  eq "$(run_count),$(show "$(newest)" | field 'r["pipeline"], r["trigger_detail"]["ref"], r["steps"][0]["outputs"]["sha"]')" \
  "3,tiny refs/tags/v2.0 $tag_commit"
"$RUNNER" hook install --repo "$WORK/dev" --event post-commit --pipeline "$WORK/tiny.yaml" --ref 'refs/heads/*' --param-for-ref targetRef >/dev/null
(cd "$WORK/dev" && git commit -q --allow-empty -m local 2>/dev/null)
local_commit=$(git -C "$WORK/dev" rev-parse HEAD)
settle
check "hooks: post-commit in a work tree launched tiny for refs/heads/main at the new commit" \
  eq "$(run_count),$(show "$(newest)" | field 'r["trigger_detail"]["event"], r["trigger_detail"]["ref"], r["steps"][0]["outputs"]["sha"]')" \
  "4,post-commit refs/heads/main $local_commit"

# --- 6. --from-pipelines installs what the pipelines declare (docs-publish: post-receive on main)
git init -q --bare "$WORK/other.git"
"$RUNNER" hook install --repo "$WORK/other.git" --from-pipelines "$WORK/ops/pipelines" >/dev/null 2>&1
check "hooks: --from-pipelines installed docs-publish's declared trigger (refs and param read from its YAML)" \
  eq "$("$RUNNER" hook list --repo "$WORK/other.git" --json | python3 -c 'import json,sys; l=json.load(sys.stdin); print([(h["event"], [e["pipeline"].rsplit("/",1)[1] for e in h["entries"]], h["entries"][0].get("refs")) for h in l])')" \
  "[('post-receive', ['docs-publish.yaml'], None)]"

printf 'git-hooks: %d passed, %d failed in %d s\n' "$PASSED" "$FAILED" "$SECONDS"
[ "$FAILED" = 0 ]
