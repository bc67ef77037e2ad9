#!/usr/bin/env bash
# End-to-end runs of the five example pipelines (pipelines/*.yaml) through the runner binary:
# every run is a real `runner apply FILE --json` (background runs are watched with
# `runner runs show ID --json` and stopped with `runner runs cancel ID`), and every check
# asserts on the run JSON and on the run's real effects (the published site, SQLite rows,
# zips, promoted apps). Happy paths and the seeds' failure paths:
#   docs-publish  publish, republish, publish a changed commit; a build failure never deploys;
#                 an invalidation failure after the switch rolls back to the previous release;
#                 an unknown targetRef
#   ingestion     a full run; rate limit retried with backoff; an invalid response not retried
#                 (partial, then failed); a daily quota makes the run wait until 00:00 UTC,
#                 a second run is refused meanwhile, and a cancel ends it
#   backup        a zip that passes `unzip -t`; a slowed-down backup watched and cancelled
#   restore       the zip restores the database; paths outside the storage area refused
#   promotion     two targets promoted; one failing target makes the run partial
#
# Usage: Tests/E2E/seed-runs.sh [RUNNER]    RUNNER defaults to .build/debug/runner
# Everything is written under one temporary directory (RUNNER_HOME per group, DEMO_ROOT,
# PUBLISH_ROOT, a git repository made from this working tree for docs-publish); the working
# tree must be left as it was (`git status` is compared at the end). About 30-55 s.
# Needs: bash, python3, sqlite3, unzip, git. Exit 0 = every check passed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PIPELINES=$ROOT/pipelines
RUNNER=${1:-.build/debug/runner}
case $RUNNER in
  /*) ;;
  *) if [ -e "$PWD/$RUNNER" ]; then RUNNER=$PWD/$RUNNER; else RUNNER=$ROOT/$RUNNER; fi ;;
esac
[ -x "$RUNNER" ] || { echo "seed-runs: no runner binary at $RUNNER (usage: $0 [RUNNER])" >&2; exit 2; }
for tool in python3 sqlite3 unzip git; do
  command -v "$tool" >/dev/null || { echo "seed-runs: $tool is required" >&2; exit 2; }
done

# A clean environment: no knob, param, output or runner variable leaks in from the caller.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -E \
  '^(PARAM_|STEP_|RUNNER_|INJECT_|UPSTREAM_|PROMOTE_|BACKUP_|BELAYER_|DOCS_)|^(ITEM|KEEP_RELEASES|APPS_ROOT|PROMOTIONS_ROOT|INGESTION_DB|SUPPLEMENT_PATTERN|PUBLISH_ROOT|DEMO_ROOT)$')
export PYTHONDONTWRITEBYTECODE=1 NO_COLOR=1

WORK=$(mktemp -d "${TMPDIR:-/tmp}/seed-runs.XXXXXX")
mkdir -p "$WORK/runs"
cd "$WORK" || exit 2
BACKGROUND=()
Q_PID=""
cleanup() {
  local entry pid home id
  for entry in "${BACKGROUND[@]}"; do   # pid home run-id: cancel the run, then stop its apply
    IFS=$'\t' read -r pid home id <<< "$entry"
    kill -0 "$pid" 2>/dev/null || continue
    [ -n "$id" ] && RUNNER_HOME=$home "$RUNNER" runs cancel "$id" >/dev/null 2>&1
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -INT "$pid" 2>/dev/null   # the runner's Ctrl-C
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  exec 7>&- 8<&-
  [ -n "$Q_PID" ] && kill "$Q_PID" 2>/dev/null
  rm -rf -- "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The working tree before the runs: `git status` (with ignored files under pipelines/), and a
# stamp: a file or directory under pipelines/, .demo/ or .runner/ (the default DEMO_ROOT and
# state directory of runs started from pipelines/ or the repository) modified after it is a
# write of these runs.
git_state() {
  git -C "$ROOT" status --porcelain
  git -C "$ROOT" status --porcelain --ignored -- pipelines .demo .runner | grep '^!!'
}
GIT_BEFORE=$(git_state)
touch "$WORK/.start"

# ---------------------------------------------------------------------------------------------
# q: questions about a run's JSON (`runner apply --json`, `runner runs show ID --json`) or any
# JSON file, answered by one Python process for the whole test (a python3 start costs 0.3 s
# on a busy machine; a run is asked dozens of questions).
#   q get FILE EXPR      EXPR over r (the JSON) with step(NAME), attempts(NAME), ts(TEXT)
#   q digest FILE        the run in a few lines, for failure messages
#   q progressing FILE   the running steps with 0 < progress < 100, as "STEP at N%"
#   q problems FILE      the steps that failed, were cancelled or are still running/waiting
cat > "$WORK/q.py" <<'PY'
import datetime, json, sys

def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise RuntimeError(f"no JSON in {path}: {e}")

def show(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)

def answer(cmd, path, expr=""):
    r = load(path)
    steps = r.get("steps", []) if isinstance(r, dict) else []
    def step(name):
        return next((s for s in steps if s["name"] == name), {})
    def attempts(name):
        return [a for a in r.get("attempts", []) if a["step"] == name]
    def ts(text):
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    if cmd == "get":
        # one namespace: names used inside comprehensions resolve as globals
        return show(eval(expr, {"json": json, "r": r, "step": step, "attempts": attempts, "ts": ts}))
    if cmd == "digest":
        lines = [f"run {r.get('id')} {r.get('pipeline')}: {r.get('status')} {r.get('error_code') or ''} {r.get('error_message') or ''}".rstrip()]
        for s in steps:
            extra = " ".join(x for x in (s.get("error_code"), s.get("error_message")) if x)
            prog = f" progress={s['progress']}" if "progress" in s else ""
            outs = f" outputs={json.dumps(s['outputs'], ensure_ascii=False)}" if s.get("outputs") else ""
            lines.append(f"  {s['name']}: {s['status']} attempts={s.get('attempts')}{prog} {extra}{outs}"[:400])
        return "\n".join(lines)
    if cmd == "progressing":
        return ", ".join(f"{s['name']} at {s['progress']}%" for s in steps
                         if s["status"] == "running" and 0 < (s.get("progress") or 0) < 100)
    if cmd == "problems":
        return "\n".join(s["name"] for s in steps
                         if s["status"] in ("failed", "cancelled", "running", "waiting") and s.get("attempts"))
    raise RuntimeError(f"unknown question {cmd}")

# requests: fields separated by \x1f, one per line; answers: exit status, text, \x1e
with open(sys.argv[1], encoding="utf-8") as requests, open(sys.argv[2], "w", encoding="utf-8") as answers:
    for line in requests:
        try:
            text, rc = answer(*line.rstrip("\n").split("\x1f")), 0
        except Exception as e:
            text, rc = f"q: {type(e).__name__}: {e}", 1
        answers.write(f"{rc}\n" + (text + "\n" if text else "") + "\x1e\n")
        answers.flush()
PY
mkfifo "$WORK/q.in" "$WORK/q.out"
python3 "$WORK/q.py" "$WORK/q.in" "$WORK/q.out" &
Q_PID=$!
exec 7>"$WORK/q.in" 8<"$WORK/q.out"
q() {
  local IFS=$'\x1f' rc line out=""
  printf '%s\n' "$*" >&7 || { echo "q: the JSON helper is gone" >&2; return 2; }
  IFS= read -r rc <&8 || { echo "q: the JSON helper is gone" >&2; return 2; }
  while IFS= read -r line <&8; do
    [ "$line" = $'\x1e' ] && break
    out+=$line$'\n'
  done
  if [ "$rc" = 0 ]; then printf '%s' "$out"; else printf '%s' "$out" >&2; fi
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# Checks: each prints ok/FAIL with its name; a failure shows why, then (once per run) the run
# JSON digest and the log of its failing steps (`runner runs logs ID STEP`).
PASSED=0
FAILED=0
J="" E="" ID="" RC="" SHOWN=""
show_run() {
  [ -n "$J" ] && [ "$SHOWN" != "$J" ] || return 0
  SHOWN=$J
  if q digest "$J" >"$WORK/digest" 2>&1; then
    sed 's/^/        | /' "$WORK/digest"
    local s
    while IFS= read -r s; do
      echo "        | --- runner runs logs $ID '$s' (tail)"
      "$RUNNER" runs logs "$ID" "$s" 2>&1 | tail -n 12 | sed 's/^/        | /'
    done < <(q problems "$J")
  else
    echo "        | no run JSON (exit $RC); stderr:"
  fi
  [ -s "$E" ] && tail -n 8 "$E" | sed 's/^/        | stderr: /'
  return 0
}
ok() { PASSED=$((PASSED + 1)); printf '  ok    %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf '  FAIL  %s\n' "$*"; show_run; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
eq() { [ "$1" = "$2" ] || { printf "        got '%s', expected '%s'\n" "$1" "$2"; return 1; }; }
matches() { [[ $1 =~ $2 ]] || { printf "        '%s' does not match %s\n" "$1" "$2"; return 1; }; }
contains() {
  case "$1" in *"$2"*) return 0 ;; esac
  printf "        '%s' not found in: %s\n" "$2" "$(printf '%s' "$1" | head -c 600)"; return 1
}
# jq-like: the value of EXPR in the current run's JSON
v() { q get "$J" "$1"; }
run_ended() { eq "$(v 'r["status"]'),exit $RC" "$1,exit $2"; }
# steps_are NAME=STATUS...: every listed step has that status
steps_are() {
  local pair got="" want=""
  for pair; do
    got+="${pair%%=*}=$(v "step('${pair%%=*}').get('status')") "
    want+="$pair "
  done
  eq "$got" "$want"
}

# now_ms: milliseconds since the epoch; poll SECONDS COMMAND...: COMMAND every 0.1 s until it
# succeeds (0) or SECONDS have passed (1). No fixed sleep decides anything.
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
poll() {
  local deadline=$(( $(now_ms) + $1 * 1000 ))
  shift
  until "$@"; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# run_args [-e NAME=VALUE]... LABEL FILE [PARAM=VALUE]...: sets KNOBS, PARAMS (as -p
# arguments), LABEL and FILE for apply and start.
run_args() {
  local opt OPTIND=1 p
  KNOBS=() PARAMS=()
  while getopts "e:" opt; do
    case $opt in e) KNOBS+=("$OPTARG") ;; *) return 2 ;; esac
  done
  shift $((OPTIND - 1))
  LABEL=$1 FILE=$2
  shift 2
  for p; do PARAMS+=(-p "$p"); done
}

# apply [-e NAME=VALUE]... LABEL FILE [PARAM=VALUE]...: `runner apply FILE -p ... --json` with
# the -e variables (knobs) in its environment. Sets J (the run JSON), E (stderr), RC, ID.
apply() {
  run_args "$@" || return 2
  local label=$LABEL file=$FILE
  local -a knobs=(${KNOBS[@]+"${KNOBS[@]}"}) params=(${PARAMS[@]+"${PARAMS[@]}"})
  J=$WORK/runs/$label.json E=$WORK/runs/$label.err
  env ${knobs[@]+"${knobs[@]}"} "$RUNNER" apply "$file" ${params[@]+"${params[@]}"} --json >"$J" 2>"$E"
  RC=$?
  ID=$(q get "$J" 'r["id"]' 2>/dev/null)
  echo "  · $label: run ${ID:-none}, $(q get "$J" 'r["status"]' 2>/dev/null || echo 'no JSON'), exit $RC"
}

# start [-e NAME=VALUE]... LABEL FILE [PARAM=VALUE]...: the same apply in the background
# (BG_PID); waits until its run appears in `runner runs list` and sets ID.
start() {
  run_args "$@" || return 2
  local label=$LABEL file=$FILE
  local -a knobs=(${KNOBS[@]+"${KNOBS[@]}"}) params=(${PARAMS[@]+"${PARAMS[@]}"})
  J=$WORK/runs/$label.json E=$WORK/runs/$label.err RC="" ID=""
  KNOWN=" $(run_ids | tr '\n' ' ') "
  env ${knobs[@]+"${knobs[@]}"} "$RUNNER" apply "$file" ${params[@]+"${params[@]}"} --json >"$J" 2>"$E" &
  BG_PID=$!
  BACKGROUND+=("$BG_PID"$'\t'"$RUNNER_HOME")
  if poll 20 new_run_or_exit && [ -n "$ID" ]; then
    BACKGROUND[-1]+=$'\t'$ID
    echo "  · $label: run $ID started in the background (pid $BG_PID)"
  else
    exited && { wait "$BG_PID"; RC=$?; }
    fail "$label: no run appeared in 'runner runs list' within 20 s (apply exit ${RC:-none})"
    return 1
  fi
}
run_ids() {
  "$RUNNER" runs list --json --limit 1000 >"$WORK/list.json" 2>/dev/null && q get "$WORK/list.json" '"\n".join(x["id"] for x in r)'
}
new_run_or_exit() { new_run || exited; }
new_run() {
  local id
  for id in $(run_ids); do
    case $KNOWN in *" $id "*) ;; *) ID=$id; return 0 ;; esac
  done
  return 1
}
# show_now: `runner runs show ID --json` into $WORK/show.json; S = that file
show_now() { S=$WORK/show.json; "$RUNNER" runs show "$ID" --json >"$S" 2>/dev/null; }
status_is() { show_now && [ "$(q get "$S" 'r["status"]')" = "$1" ]; }
exited() { ! kill -0 "$BG_PID" 2>/dev/null; }
# finish_bg SECONDS: waits for the background apply to exit (RC), else kills it (RC=killed)
finish_bg() {
  if poll "$1" exited; then
    wait "$BG_PID"
    RC=$?
  else
    kill -INT "$BG_PID" 2>/dev/null
    poll 5 exited || kill -KILL "$BG_PID" 2>/dev/null
    wait "$BG_PID" 2>/dev/null
    RC=killed
  fi
}

group() {
  local name=$1
  echo "$name"
  if ! "$2"; then fail "$name: group stopped early"; fi
}

# =============================================================================================
# docs-publish (seed 000). The pipeline publishes a commit of the repository next to its file
# (`targetRef: {repo: ..}`, env DOCS_REPO_ROOT: ..), so the test publishes from a throwaway git
# repository made of this working tree (tracked and untracked, not ignored, files): the same
# pipeline, scripts and documents, a commit of its own, and commits the test can add.
make_docs_repo() {
  local repo=$1
  "$ROOT/Tests/E2E/copy-worktree.sh" "$ROOT" "$repo" || return 1
  git -C "$repo" init -q && git -C "$repo" symbolic-ref HEAD refs/heads/main && docs_commit "$repo" "snapshot of the working tree"
}
docs_commit() {
  git -C "$1" add -A && git -C "$1" -c user.name=seed-runs -c user.email=seed-runs@example.invalid \
    -c commit.gpgsign=false commit -q --no-verify -m "$2"
}
live() { readlink "$PUBLISH_ROOT/current"; }
releases() { ls -A "$PUBLISH_ROOT/releases" 2>/dev/null | tr '\n' ' '; }

docs_publish() {
  export RUNNER_HOME=$WORK/docs/home DEMO_ROOT=$WORK/docs/demo PUBLISH_ROOT=$WORK/docs/publish
  local repo=$WORK/docs/repo file=$WORK/docs/repo/pipelines/docs-publish.yaml
  make_docs_repo "$repo" || { fail "docs: could not make the git repository to publish from"; return 1; }
  local head main_steps="docs_link_check=succeeded quartz_build=succeeded cdk_deploy=succeeded switch=succeeded"
  head=$(git -C "$repo" rev-parse HEAD)

  # --- 1. first publish
  apply docs-first "$file" targetRef=main "reason=e2e first publish"
  check "docs: first publish succeeds" run_ended succeeded 0
  check "docs: build, deploy, switch, invalidation, record_release succeeded; no rollback" steps_are $main_steps \
    invalidation=succeeded record_release=succeeded cleanup=succeeded rollback_prepare=skipped rollback_switch=skipped rollback_verify=skipped
  local r1
  r1=$(v 'step("cdk_deploy")["outputs"]["release"]')
  check "docs: 'current' is the new release, which holds the built site (docs/index.html)" \
    eq "$(live),$(test -s "$PUBLISH_ROOT/current/docs/index.html" && echo index),$(test -s "$PUBLISH_ROOT/current/openapi/index.html" && echo openapi)" \
    "releases/$r1,index,openapi"
  check "docs: the live release records the commit targetRef named and the reason" \
    eq "$(q get "$PUBLISH_ROOT/current/release.json" 'r["commit"] + " " + r["reason"]')" "$head e2e first publish"
  check "docs: the live site is the build (manifest content hash = quartz_build's)" \
    eq "$(q get "$PUBLISH_ROOT/current/manifest.json" 'r["content_hash"]')" \
    "$(v 'step("quartz_build")["outputs"]["content_hash"]')"
  check "docs: the publish is recorded as the newest successful one (history 'published')" \
    eq "$(tail -n 1 "$PUBLISH_ROOT/history" | cut -d' ' -f2,4)" "$r1 published"

  # --- 2. second publish, same commit: a new release, content unchanged, invalidation skipped
  apply docs-second "$file" targetRef=main "reason=e2e republish"
  check "docs: a second publish succeeds" run_ended succeeded 0
  local r2
  r2=$(v 'step("cdk_deploy")["outputs"]["release"]')
  check "docs: second publish: changed=false, previous=the first release, invalidation skipped (its if), recorded" \
    eq "$(v 'step("cdk_deploy")["outputs"]["changed"]'),$(v 'step("cdk_deploy")["outputs"]["previous"]'),$(v 'step("invalidation")["status"]'),$(v 'step("record_release")["status"]')" \
    "false,$r1,skipped,succeeded"
  check "docs: 'current' is the second release and serves the site" \
    eq "$(live),$(test -s "$PUBLISH_ROOT/current/docs/index.html" && echo index)" "releases/$r2,index"

  # --- 3. publish a changed commit
  local marker="E2E marker $RANDOM$RANDOM"
  printf '\n%s: a paragraph added by the end-to-end test.\n' "$marker" >> "$repo/README.md"
  docs_commit "$repo" "e2e: change the README" || { fail "docs: commit failed"; return 1; }
  head=$(git -C "$repo" rev-parse HEAD)
  apply docs-changed "$file" targetRef=main "reason=e2e changed"
  check "docs: publishing a changed commit succeeds" run_ended succeeded 0
  local r3
  r3=$(v 'step("cdk_deploy")["outputs"]["release"]')
  check "docs: changed commit: changed=true, the CDN invalidated (1 attempt)" \
    eq "$(v 'step("cdk_deploy")["outputs"]["changed"]'),$(v 'step("invalidation")["status"]'),$(v 'step("invalidation")["attempts"]')" "true,succeeded,1"
  check "docs: the live site shows the new commit's README" \
    eq "$(live),$(grep -c "$marker" "$PUBLISH_ROOT/current/docs/index.html"),$(q get "$PUBLISH_ROOT/current/release.json" 'r["commit"]')" \
    "releases/$r3,1,$head"
  check "docs: the CDN cache was primed from the live release" \
    cmp -s "$PUBLISH_ROOT/cdn-cache/docs/index.html" "$PUBLISH_ROOT/current/docs/index.html"

  # --- 4. a build failure: no deploy, no switch, nothing changes
  local releases_before history_before
  releases_before=$(releases)
  history_before=$(cat "$PUBLISH_ROOT/history")
  apply -e INJECT_FAIL=quartz_build docs-build-fails "$file" targetRef=main
  check "docs: INJECT_FAIL=quartz_build: run failed with DOCS_BUILD_FAILED" \
    eq "$(v 'r["status"]'),$(v 'r.get("error_code")'),$(v 'step("quartz_build")["error_code"]'),exit $RC" "failed,DOCS_BUILD_FAILED,DOCS_BUILD_FAILED,exit 1"
  check "docs: build failure: cdk_deploy, switch, invalidation skipped, never started (no attempts)" \
    eq "$(v '[step(n)["status"] for n in ("cdk_deploy", "switch", "invalidation")]'),$(v 'len(attempts("cdk_deploy") + attempts("switch") + attempts("invalidation"))')" \
    '["skipped", "skipped", "skipped"],0'
  check "docs: build failure: no rollback, no release recorded" \
    steps_are rollback_prepare=skipped rollback_switch=skipped rollback_verify=skipped record_release=skipped
  check "docs: build failure: no new release, the live release unchanged, no history event" \
    eq "$(releases)|$(live)|$(cat "$PUBLISH_ROOT/history")" "$releases_before|releases/$r3|$history_before"

  # --- 5. the invalidation fails after the switch (commit point): roll back to the live release
  # The content equals the live release's (changed=false), so only forceInvalidate runs it.
  apply -e INJECT_FAIL=invalidation docs-rollback "$file" targetRef=main forceInvalidate=true
  check "docs: INJECT_FAIL=invalidation: run rolled_back with INVALIDATION_FAILED" \
    eq "$(v 'r["status"]'),$(v 'r.get("error_code")'),exit $RC" "rolled_back,INVALIDATION_FAILED,exit 1"
  local r4
  r4=$(v 'step("cdk_deploy")["outputs"]["release"]')
  check "docs: rollback: the switch had happened; invalidation ran because of forceInvalidate (changed=false)" \
    eq "$(v 'step("switch")["status"]'),$(v 'step("cdk_deploy")["outputs"]["changed"]'),$(grep -c " $r4 $ID switch\$" "$PUBLISH_ROOT/history")" "succeeded,false,1"
  check "docs: rollback: invalidation failed after its 3 declared attempts, each INVALIDATION_FAILED" \
    eq "$(v 'step("invalidation")["status"]'),$(v '[a.get("error_code") for a in attempts("invalidation")]')" \
    'failed,["INVALIDATION_FAILED", "INVALIDATION_FAILED", "INVALIDATION_FAILED"]'
  check "docs: rollback steps succeeded" \
    steps_are rollback_prepare=succeeded rollback_switch=succeeded rollback_verify=succeeded record_release=skipped
  check "docs: rollback_prepare chose the release live before this run" \
    eq "$(v 'step("rollback_prepare")["outputs"]["previous"]'),$(v 'step("rollback_prepare")["outputs"]["failed_release"]')" "$r3,$r4"
  check "docs: the previous release is live again, and serves its site" \
    eq "$(live),$(grep -c "$marker" "$PUBLISH_ROOT/current/docs/index.html")" "releases/$r3,1"
  check "docs: history: the switch then the rollback, the failed release never 'published'" \
    eq "$(tail -n 2 "$PUBLISH_ROOT/history" | cut -d' ' -f2,4 | tr '\n' ';'),$(grep -c " $r4 .* published\$" "$PUBLISH_ROOT/history")" \
    "$r4 switch;$r3 rollback;,0"

  # --- 6. a ref that names no commit: rejected when the run would be created (libgit2
  #        resolves gitref params then), with the seed's code; no run is recorded
  releases_before=$(releases)
  local runs_before; runs_before=$(run_ids | wc -l)
  apply docs-bad-ref "$file" targetRef=no-such-branch
  check "docs: unknown targetRef: exit 2 with INVALID_TARGET_REF naming the ref and the repository; no run, nothing deployed" \
    eq "exit $RC,$(grep -c "error\[INVALID_TARGET_REF\].*'no-such-branch' in $repo" "$E"),$(run_ids | wc -l),$(releases)" \
    "exit 2,1,$runs_before,$releases_before"
  "$RUNNER" plan "$file" -p targetRef=main >"$WORK/plan.out" 2>"$WORK/plan.err"; local plan_rc=$?
  "$RUNNER" plan "$file" -p targetRef=no-such-branch >/dev/null 2>"$WORK/plan-bad.err"; local plan_bad_rc=$?
  check "docs: plan -p targetRef=main prints main's commit; plan with an unknown ref exits 2 with INVALID_TARGET_REF" \
    eq "$plan_rc,$(grep -c "\"main\" → $(git -C "$repo" rev-parse main)" "$WORK/plan.out"),$plan_bad_rc,$(grep -c 'error\[INVALID_TARGET_REF\]' "$WORK/plan-bad.err")" \
    "0,1,2,1"
  apply docs-bad-ref-name "$file" 'targetRef=main..x'
  check "docs: an invalid ref name: exit 2 with INVALID_TARGET_REF" \
    eq "exit $RC,$(grep -c 'error\[INVALID_TARGET_REF\]' "$E")" "exit 2,1"
  # --- 7. the run records the ref as given and the commit it resolved to; steps ran in a
  #        checkout of that commit
  local older; older=$(git -C "$repo" rev-parse HEAD~1)
  apply docs-sha "$file" targetRef=HEAD~1 forceInvalidate=true
  check "docs: targetRef=HEAD~1 publishes that commit, recorded as ref + SHA, built in its workspace" \
    eq "$(v 'r["status"]'),$(v 'r["refs"]["targetRef"]["ref"]'),$(v 'r["refs"]["targetRef"]["sha"]'),$(q get "$PUBLISH_ROOT/current/release.json" 'r["commit"]'),$(test -f "$RUNNER_HOME/workspaces/$ID/pipelines/docs-publish.yaml" && echo workspace)" \
    "succeeded,HEAD~1,$older,$older,workspace"
  J=""
}

# =============================================================================================
ingestion() {
  export RUNNER_HOME=$WORK/ingestion/home DEMO_ROOT=$WORK/ingestion/demo
  local file=$PIPELINES/ingestion.yaml db=$WORK/ingestion/demo/ingestion/ingestion.db
  local since=2026-01-05T00:00:00Z
  local params=(trigger_mode=manual run_kind=appearance_supplement target_types=official,appearance "from_published_at=$since" trace_id=e2e-1)
  local n_official n_appearance total
  read -r n_official n_appearance < <(python3 - "$PIPELINES/fixtures/upstream" "$since" <<'PY'
import json, os, sys
print(*(sum(json.loads(l)["published_at"] >= sys.argv[2] for l in open(os.path.join(sys.argv[1], t + ".jsonl"), encoding="utf-8"))
        for t in ("official", "appearance")))
PY
)
  total=$((n_official + n_appearance))

  # --- happy path
  apply ingestion-happy "$file" "${params[@]}"
  check "ingestion: a full run succeeds" run_ended succeeded 0
  check "ingestion: every step succeeded, one fetch instance per target type" steps_are plan_window=succeeded \
    "fetch[official]=succeeded" "fetch[appearance]=succeeded" load=succeeded supplement=succeeded summary=succeeded cleanup=succeeded
  check "ingestion: fetched $n_official official + $n_appearance appearance items published since $since, all inserted" \
    eq "$(v 'step("fetch[official]")["outputs"]["fetched"]'),$(v 'step("fetch[appearance]")["outputs"]["fetched"]'),$(v 'step("summary")["outputs"]["fetched"]'),$(v 'step("summary")["outputs"]["inserted"]'),$(v 'step("summary")["outputs"]["failed_targets"]')" \
    "$n_official,$n_appearance,$total,$total,"
  check "ingestion: the database holds them once each; the supplement is computed" \
    eq "$(sqlite3 "$db" 'SELECT count(*), count(DISTINCT video_id) FROM videos'),$(test "$(sqlite3 "$db" 'SELECT count(*) FROM supplements')" -gt 0 && echo supplements)" \
    "$total|$total,supplements"
  check "ingestion: the run's scratch directory is removed (finally)" test ! -e "$DEMO_ROOT/ingestion/runs/$ID"

  # --- rate limit: retried with backoff, succeeds on attempt 3
  apply -e UPSTREAM_FAIL=rate_limit -e UPSTREAM_FAIL_TIMES=2 -e UPSTREAM_FAIL_TARGET=official \
    ingestion-rate-limit "$file" "${params[@]}"
  check "ingestion: rate limited twice, the run still succeeds" run_ended succeeded 0
  check "ingestion: fetch[official] took 3 attempts: UPSTREAM_RATE_LIMIT (exit 75) twice, then success" \
    eq "$(v 'step("fetch[official]")["attempts"]'),$(v '[(a["attempt"], a["exit_code"], a.get("error_code")) for a in attempts("fetch[official]")]')" \
    '3,[[1, 75, "UPSTREAM_RATE_LIMIT"], [2, 75, "UPSTREAM_RATE_LIMIT"], [3, 0, null]]'
  check "ingestion: backoff between attempts: >= 1 s, then >= 2 s (initial 1s, factor 2)" \
    eq "$(v 'all(ts(b["started_at"]) - ts(a["finished_at"]) >= need for a, b, need in zip(attempts("fetch[official]"), attempts("fetch[official]")[1:], (0.95, 1.9)))')" true
  check "ingestion: fetch[appearance] was not affected (1 attempt); the re-run inserted nothing (idempotent)" \
    eq "$(v 'step("fetch[appearance]")["attempts"]'),$(v 'step("load")["outputs"]["inserted"]'),$(v 'step("load")["outputs"]["unchanged"]'),$(sqlite3 "$db" 'SELECT count(*) FROM videos')" \
    "1,0,$total,$total"

  # --- invalid response: never retried; one target failing makes the run partial
  apply -e UPSTREAM_FAIL=invalid -e UPSTREAM_FAIL_TARGET=official ingestion-invalid-partial "$file" "${params[@]}"
  check "ingestion: invalid response on one target: run partial" run_ended partial 1
  check "ingestion: fetch[official] failed UPSTREAM_INVALID_RESPONSE after 1 attempt (no retry); fetch[appearance] succeeded" \
    eq "$(v 'step("fetch[official]")["status"]'),$(v 'step("fetch[official]")["error_code"]'),$(v 'len(attempts("fetch[official]"))'),$(v 'step("fetch[appearance]")["status"]')" \
    "failed,UPSTREAM_INVALID_RESPONSE,1,succeeded"
  check "ingestion: the report names the failed target; the step log says why" \
    eq "$(v 'step("summary")["outputs"]["failed_targets"]'),$("$RUNNER" runs logs "$ID" 'fetch[official]' 2>&1 | grep -c 'violates the contract')" "official,1"
  apply -e UPSTREAM_FAIL=invalid ingestion-invalid-failed "$file" trigger_mode=manual run_kind=official_ingestion target_types=official
  check "ingestion: invalid response on the only target: run failed, error_code UPSTREAM_INVALID_RESPONSE, 1 attempt, load skipped" \
    eq "$(v 'r["status"]'),$(v 'r.get("error_code")'),$(v 'len(attempts("fetch[official]"))'),$(v 'step("load")["status"]'),exit $RC" \
    "failed,UPSTREAM_INVALID_RESPONSE,1,skipped,exit 1"

  # --- daily quota: the run waits until the next 00:00 UTC; cancel ends it
  # Started within a minute of 00:00 UTC, the run could wake at midnight and retry before the
  # cancel: then start after midnight (Tests/Faults/test-clock-instants.sh checks that wake).
  local midnight_before midnight_after to_midnight=$(( 86400 - $(date -u +%s) % 86400 ))
  if [ "$to_midnight" -le 60 ]; then
    echo "  · ingestion-quota: ${to_midnight} s before 00:00 UTC: starting once it has passed"
    sleep $(( to_midnight + 1 ))
  fi
  midnight_before=$(date -u -d 'tomorrow 00:00' +%Y-%m-%dT%H:%M:%S)
  start -e UPSTREAM_FAIL=quota ingestion-quota "$file" trigger_mode=manual run_kind=official_ingestion target_types=official || return 1
  if poll 20 status_is waiting; then
    ok "ingestion: quota exhausted: run $ID is 'waiting' (runs show)"
  else
    fail "ingestion: quota exhausted: run never went 'waiting' within 20 s (last: $(q get "$S" 'r["status"]' 2>/dev/null))"
    J=$S show_run
  fi
  midnight_after=$(date -u -d 'tomorrow 00:00' +%Y-%m-%dT%H:%M:%S)
  local wake
  wake=$(q get "$S" 'r.get("wake_at", "")')
  local wake_s=${wake%Z}
  wake_s=${wake_s%%.*}
  [ "$wake_s" = "$midnight_after" ] && midnight_before=$midnight_after   # midnight passed meanwhile
  check "ingestion: it waits until the next 00:00 UTC (wake_at $wake)" eq "$wake_s" "$midnight_before"
  check "ingestion: the waiting step is fetch[official], UPSTREAM_QUOTA_LIMIT after 1 attempt" \
    eq "$(q get "$S" 'step("fetch[official]").get("error_code")'),$(q get "$S" 'len(attempts("fetch[official]"))')" "UPSTREAM_QUOTA_LIMIT,1"
  local second_rc
  "$RUNNER" apply "$file" -p trigger_mode=manual -p run_kind=official_ingestion -p target_types=appearance \
    >"$WORK/runs/ingestion-second.out" 2>&1 </dev/null
  second_rc=$?
  check "ingestion: while it waits, another run is refused (exit 3, RUN_ALREADY_ACTIVE)" \
    eq "$second_rc,$(grep -c RUN_ALREADY_ACTIVE "$WORK/runs/ingestion-second.out")" "3,1"
  "$RUNNER" runs cancel "$ID" >"$WORK/runs/ingestion-cancel.out" 2>&1
  check "ingestion: runner runs cancel $ID (exit 0)" eq "$?" 0
  finish_bg 15
  if [ "$RC" = killed ]; then
    fail "ingestion: the background apply did not exit within 15 s of the cancel (it sleeps until wake_at: runner bug); killed"
  else
    ok "ingestion: the background apply exited after the cancel"
  fi
  check "ingestion: the run ends cancelled (apply --json, exit 1)" run_ended cancelled 1
  check "ingestion: runs show agrees: cancelled; fetch[official] cancelled; the finally cleanup ran" \
    eq "$(status_is cancelled && echo cancelled),$(q get "$S" 'step("fetch[official]")["status"]'),$(q get "$S" 'step("cleanup")["status"]'),$(test -e "$DEMO_ROOT/ingestion/runs/$ID" && echo scratch-left)" \
    "cancelled,cancelled,succeeded,"
  J=""
}

# =============================================================================================
backup_restore() {
  export RUNNER_HOME=$WORK/belayer/home DEMO_ROOT=$WORK/belayer/demo
  # seed 003: STORAGE_DIR/[uid]/...; `runner apply`'s uid is cli:<user>
  local storage=$DEMO_ROOT/belayer/storage/cli:$(id -un) app=$DEMO_ROOT/belayer/app.db
  local backup=$PIPELINES/backup.yaml restore=$PIPELINES/restore.yaml

  # --- 5. backup, happy path
  apply backup-happy "$backup" dirPath=dump1
  check "backup: succeeds" run_ended succeeded 0
  check "backup: every step succeeded" steps_are prepare_source=succeeded snapshot=succeeded archive=succeeded verify=succeeded cleanup=succeeded
  local zip_rel
  zip_rel=$(v 'step("archive")["outputs"]["zipFilePath"]')
  check "backup: outputs zipFilePath = dump1/<job>/backup-<job>.zip (job = run id) and destDir" \
    eq "$zip_rel,$(v 'step("archive")["outputs"]["destDir"]')" "dump1/$ID/backup-$ID.zip,dump1"
  check "backup: the zip exists and passes unzip -t" unzip -tqq "$storage/$zip_rel"
  check "backup: verify's output line [yyyy-MM-ddTHH:mm:ss]finish:success" \
    matches "$(v 'step("verify")["outputs"]["output"]')" '^\[[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\]finish:success$'
  local x=$WORK/belayer/extract orders dump_sha
  mkdir -p "$x"
  unzip -qo "$storage/$zip_rel" -d "$x"
  orders=$(sqlite3 "$app" 'SELECT count(*) FROM orders')
  dump_sha=$(sqlite3 "$x/snapshot.db" .dump | sha256sum | cut -d' ' -f1)
  check "backup: the zipped database passes integrity_check and equals the source ($orders orders)" \
    eq "$(sqlite3 "$x/snapshot.db" 'PRAGMA integrity_check'),$(sqlite3 "$app" .dump | sha256sum | cut -d' ' -f1)" "ok,$dump_sha"
  check "backup: the job's scratch directory is removed" test ! -e "$DEMO_ROOT/belayer/runs/$ID"

  # --- 5. progress while running, then cancel
  start -e BACKUP_THROTTLE_MS=200 backup-cancel "$backup" dirPath=dump2 || return 1
  local seen=""
  if poll 30 progress_between; then
    ok "backup: progress visible while running ($seen)"
  else
    fail "backup: no step showed progress strictly between 0 and 100 within 30 s (last: $(q get "$S" 'r["status"]' 2>/dev/null))"
    J=$S show_run
  fi
  "$RUNNER" runs cancel "$ID" >"$WORK/runs/backup-cancel.out" 2>&1
  check "backup: runner runs cancel $ID (exit 0)" eq "$?" 0
  finish_bg 20
  check "backup: the apply exits once the run is cancelled" eq "$RC" 1
  check "backup: the run ends cancelled" run_ended cancelled 1
  check "backup: the step that was running is cancelled; archive and verify never completed" \
    eq "$(v 'step("'"${seen%% *}"'")["status"]'),$(v 'step("verify")["status"]'),$(v 'len([a for a in attempts("verify") if a.get("exit_code") == 0])')" "cancelled,cancelled,0"
  check "backup: the cancel leaves no zip (nor partial file) under storage/dump2" \
    eq "$(find "$storage" -path "$storage/dump1" -prune -o -type f -print | tr '\n' ' ')" ""
  check "backup: the cancel leaves no snapshot (scratch directory removed)" test ! -e "$DEMO_ROOT/belayer/runs/$ID"
  check "backup: the source database is untouched" \
    eq "$(sqlite3 "$app" 'PRAGMA integrity_check'),$(sqlite3 "$app" .dump | sha256sum | cut -d' ' -f1)" "ok,$dump_sha"

  # --- 6. restore: paths leaving the storage area are refused at launch
  local runs_before escape
  runs_before=$(run_ids | wc -l)
  for escape in ../../etc/passwd.zip /etc/x.zip dump1/../../x.zip; do
    apply "restore-refused-$(printf '%s' "$escape" | tr -c 'A-Za-z0-9' _)" "$restore" "zipFilePath=$escape"
    check "restore: zipFilePath=$escape refused: exit 2, INVALID_PATH" \
      eq "$RC,$(grep -c 'error\[INVALID_PATH\]' "$E")" "2,1"
  done
  check "restore: the refused launches started no run (no step ran)" eq "$(run_ids | wc -l)" "$runs_before"

  # --- 6. restore the backup over a damaged database
  sqlite3 "$app" 'DELETE FROM orders'
  apply restore-happy "$restore" "zipFilePath=$zip_rel"
  check "restore: succeeds" run_ended succeeded 0
  check "restore: outputs the zip and the restored orders ($orders)" \
    eq "$(v 'step("restore")["outputs"]["zipFilePath"]'),$(v 'step("restore")["outputs"]["orders"]')" "$zip_rel,$orders"
  check "restore: the database content matches the backup (integrity ok, same .dump)" \
    eq "$(sqlite3 "$app" 'PRAGMA integrity_check'),$(sqlite3 "$app" .dump | sha256sum | cut -d' ' -f1)" "ok,$dump_sha"
  check "restore: no temporary database left" eq "$(ls -A "$(dirname "$app")" | grep -c restoring)" 0

  # --- 6. a well-formed path to no file: refused at launch (seed 003:L540-543), no run
  runs_before=$(run_ids | wc -l)
  apply restore-missing "$restore" zipFilePath=dump1/nope.zip
  check "restore: a missing zip is refused at launch: exit 2, INVALID_PATH, the path as given" \
    eq "$RC,$(grep -c "error\[INVALID_PATH\].*path 'dump1/nope.zip' does not exist" "$E")" "2,1"
  check "restore: the refused launch started no run" eq "$(run_ids | wc -l)" "$runs_before"
  check "restore: the database is unchanged" eq "$(sqlite3 "$app" .dump | sha256sum | cut -d' ' -f1)" "$dump_sha"
  J=""
}
# progress_between: a running step of the background run shows 0 < progress < 100 (seen)
progress_between() {
  show_now || return 1
  seen=$(q progressing "$S")
  [ -n "$seen" ]
}

# =============================================================================================
promotion() {
  export RUNNER_HOME=$WORK/promotion/home DEMO_ROOT=$WORK/promotion/demo
  local file=$PIPELINES/promotion.yaml apps=$WORK/promotion/demo/promotion/apps
  (cd "$PIPELINES" && scripts/promotion-demo-setup.sh) >"$WORK/runs/promotion-setup.out" 2>&1 \
    || { fail "promotion: scripts/promotion-demo-setup.sh failed: $(tail -n 3 "$WORK/runs/promotion-setup.out")"; return 1; }
  local dev_release
  dev_release=$(basename "$(readlink "$apps/my-app-development/current")")

  apply promotion-happy "$file" source_app=my-app-development targets=my-app-staging,my-app-production
  check "promotion: two targets promoted: succeeded" run_ended succeeded 0
  check "promotion: resolve_source, promote[each target], report succeeded" steps_are resolve_source=succeeded \
    "promote[my-app-staging]=succeeded" "promote[my-app-production]=succeeded" report=succeeded
  check "promotion: report summary" eq "$(v 'step("report")["outputs"]["summary"]')" "my-app-staging=succeeded,my-app-production=succeeded"
  local target
  for target in my-app-staging my-app-production; do
    check "promotion: $target runs a copy of $dev_release recording its source" \
      eq "$(q get "$apps/$target/current/release.json" 'r["source"]')" \
      "{\"app\": \"my-app-development\", \"release\": \"$dev_release\"}"
  done
  local production_before
  production_before=$(readlink "$apps/my-app-production/current")

  (cd "$PIPELINES" && scripts/promotion-demo-setup.sh --new-release) >>"$WORK/runs/promotion-setup.out" 2>&1 \
    || { fail "promotion: --new-release failed"; return 1; }
  dev_release=$(basename "$(readlink "$apps/my-app-development/current")")
  apply -e PROMOTE_FAIL_TARGETS=my-app-production promotion-partial "$file" source_app=my-app-development targets=my-app-staging,my-app-production
  check "promotion: one target failing: run partial (promote has allow_partial)" run_ended partial 1
  check "promotion: promote[my-app-staging] succeeded, promote[my-app-production] failed PROMOTION_FAILED; report ran" \
    steps_are "promote[my-app-staging]=succeeded" "promote[my-app-production]=failed" report=succeeded
  check "promotion: the failing instance's error code and message are recorded on the step" \
    eq "$(v 'step("promote[my-app-production]")["error_code"]')|$(v 'step("promote[my-app-production]").get("error_message")')" \
    "PROMOTION_FAILED|promote[my-app-production]: error: Release could not be created on my-app-production: the app is in maintenance mode"
  check "promotion: report: per-target status and error_message" \
    eq "$(v 'step("report")["outputs"]["summary"]')|$(v '[(t["app"], t["status"], t["error_message"]) for t in json.loads(step("report")["outputs"]["targets"])]')" \
    'my-app-staging=succeeded,my-app-production=failed|[["my-app-staging", "succeeded", null], ["my-app-production", "failed", "Release could not be created on my-app-production: the app is in maintenance mode"]]'
  check "promotion: staging runs the new release, production still the previous one" \
    eq "$(q get "$apps/my-app-staging/current/release.json" 'r["source"]["release"]'),$(readlink "$apps/my-app-production/current")" \
    "$dev_release,$production_before"
  J=""
}

# =============================================================================================
START=$(now_ms)
echo "seed-runs: $RUNNER"
group "docs-publish (seed 000)" docs_publish
group "ingestion (seed 002)" ingestion
group "backup and restore (seed 003)" backup_restore
group "promotion (seed 001)" promotion
echo "working tree"
GIT_AFTER=$(git_state)
# Entries of `git status` that changed during the runs. Those under pipelines/, .demo/,
# .runner/ and new files at the top level (where the pipelines' relative paths lead) fail the
# check; edits of tracked files elsewhere and changes deeper in other folders (Sources/,
# Tests/...) cannot come from these runs and are only shown, as someone may be editing the
# tree meanwhile (SEED_RUNS_GIT_STRICT=1: fail on any change).
same_tree() {
  local line path ours="" others=""
  while IFS= read -r line; do
    line=${line#$'\t'}
    [ -n "$line" ] || continue
    path=${line:3}
    case $path in
      pipelines/*|.demo|.demo/*|.runner|.runner/*) ours+="        $line"$'\n' ;;
      */?*) others+="        $line"$'\n' ;;
      *) case ${line:0:2} in
           '??'|'!!') ours+="        $line"$'\n' ;;     # a new file at the top level
           *) others+="        $line"$'\n' ;;          # a tracked file edited (Package.swift...)
         esac ;;
    esac
  done < <(comm -3 <(printf '%s\n' "$GIT_BEFORE" | sort) <(printf '%s\n' "$GIT_AFTER" | sort))
  while IFS= read -r path; do
    ours+="        written during the runs: ${path#"$ROOT"/}"$'\n'
  done < <(find "$ROOT/pipelines" "$ROOT/.demo" "$ROOT/.runner" -newer "$WORK/.start" 2>/dev/null)
  if [ "${SEED_RUNS_GIT_STRICT:-0}" = 1 ]; then ours+=$others; others=""; fi
  [ -z "$others" ] || printf '        note: changed meanwhile outside the runs'"'"' reach (not counted):\n%s' "$others"
  [ -z "$ours" ] || { printf '        git status before/after differs:\n%s' "$ours"; return 1; }
}
check "the repository's working tree is unchanged (git status; nothing written under pipelines/, .demo/, .runner/)" same_tree
ELAPSED=$(( $(now_ms) - START ))
printf 'seed-runs: %d passed, %d failed in %d.%d s\n' "$PASSED" "$FAILED" $((ELAPSED / 1000)) $((ELAPSED % 1000 / 100))
[ "$FAILED" -eq 0 ]
