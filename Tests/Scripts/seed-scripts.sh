#!/usr/bin/env bash
# Runs the example pipelines' steps (pipelines/*.yaml) the way the runner runs them, without
# the runner: each step's definition (run text, shell, workdir, env, declared outputs) is read
# from its YAML with PyYAML, and the step is started with cwd = its workdir, `SHELL -c RUN`,
# and the environment the runner gives it: the pipeline's and the step's env, PARAM_<NAME>
# (defaults applied, lists joined by newlines), STEP_<STEP>_<OUTPUT> of earlier steps, ITEM,
# RUNNER_RUN_ID, RUNNER_STEP, RUNNER_ATTEMPT, RUNNER_TRIGGER, RUNNER_OUTPUT, RUNNER_PROGRESS.
# Steps run in DAG order; `if` conditions and retries are decided by each scenario as the
# runner would decide them (said in a comment where it matters). Every check asserts a real
# effect: published files, HTTP answers, rows in SQLite, zips that restore, apps promoted, and
# the failure paths of the seeds.
#
# Usage: Tests/Scripts/seed-scripts.sh            (from anywhere; about 15 s)
# Needs: bash, coreutils, python3 with PyYAML, sqlite3, zip/unzip, git. Exit 0 = all passed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PIPELINES=$ROOT/pipelines
for tool in python3 sqlite3 unzip git; do
  command -v "$tool" >/dev/null || { echo "seed-scripts: $tool is required" >&2; exit 2; }
done
python3 -c 'import yaml' 2>/dev/null || { echo "seed-scripts: python3 PyYAML is required" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/seed-scripts.XXXXXX")
BACKGROUND=()
cleanup() {
  local pid
  for pid in "${BACKGROUND[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  rm -rf -- "$WORK"
}
trap cleanup EXIT

# A clean environment: no knob, param, output or runner variable leaks in from the caller.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -E \
  '^(PARAM_|STEP_|RUNNER_|INJECT_|UPSTREAM_|PROMOTE_|BACKUP_|BELAYER_|DOCS_)|^(ITEM|KEEP_RELEASES|APPS_ROOT|PROMOTIONS_ROOT|INGESTION_DB|SUPPLEMENT_PATTERN|PUBLISH_ROOT|DEMO_ROOT)$')
export DEMO_ROOT=$WORK/demo PUBLISH_ROOT=$WORK/publish
export PYTHONDONTWRITEBYTECODE=1 NO_COLOR=1

# ---------------------------------------------------------------------------------------------
# pipeline.py: reads a pipeline with PyYAML and answers what the runner would compute.
cat > "$WORK/pipeline.py" <<'PY'
import json, re, sys, yaml

def env_name(name):
    out, prev = "", ""
    for ch in name:
        if "A" <= ch <= "Z" and (("a" <= prev <= "z") or ("0" <= prev <= "9")):
            out += "_"
        out += "_" if ch == "-" else ch.upper()
        prev = ch
    return out

def scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)

def load(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    assert doc.get("version") == 1, f"{path}: version is not 1"
    return doc

def sections(doc):
    main = [s for stage in doc.get("stages", []) for s in stage["steps"]] if "stages" in doc else doc.get("steps", [])
    stages = doc.get("stages") or [{"name": "main", "steps": doc.get("steps", [])}]
    return {"main": stages, "rollback": [{"name": "rollback", "steps": doc.get("rollback", {}).get("steps", [])}],
            "finally": [{"name": "finally", "steps": doc.get("finally", {}).get("steps", [])}]}

def all_steps(doc):
    return [s for stages in sections(doc).values() for stage in stages for s in stage["steps"]]

def find_step(doc, name):
    for s in all_steps(doc):
        if s["name"] == name:
            return s
    sys.exit(f"no step '{name}'")

def needs(step):
    n = step.get("needs", [])
    return [n] if isinstance(n, str) else n

def order(doc, section):
    """Step names in an order the runner may run them: stage by stage, `needs` first."""
    done, out = set(), []
    for stage in sections(doc)[section]:
        pending = list(stage["steps"])
        while pending:
            for s in pending:
                if all(n in done for n in needs(s) if n in {p["name"] for p in pending}):
                    pending.remove(s); done.add(s["name"]); out.append(s["name"])
                    break
            else:
                sys.exit("cycle")
    return out

def shell_argv(shell):
    if isinstance(shell, list):
        return [str(x) for x in shell]
    return [shell or "sh", "-c"]

cmd, path = sys.argv[1], sys.argv[2]
doc = load(path)
def step_records(doc, step):
    defaults = doc.get("defaults", {})
    recs = ["W:" + (step.get("workdir") or defaults.get("workdir") or ".")]
    recs += ["A:" + a for a in shell_argv(step.get("shell", defaults.get("shell")))]
    recs.append("R:" + step["run"])
    for k, v in list((doc.get("env") or {}).items()) + list((step.get("env") or {}).items()):
        recs.append(f"E:{k}={scalar(v)}")
    for key in step.get("outputs", []):
        recs.append(f"O:{key}=STEP_{env_name(step['name'])}_{env_name(key)}")
    recs.append("F:" + ("1" if "for_each" in step else "0"))
    return "\0".join(recs) + "\0"

if cmd == "steps":  # steps FILE DIR: each step's definition into DIR/<step>, NUL-separated records
    import os
    os.makedirs(sys.argv[3], exist_ok=True)
    for step in all_steps(doc):
        with open(os.path.join(sys.argv[3], step["name"]), "w", encoding="utf-8") as f:
            f.write(step_records(doc, step))
elif cmd == "params":
    specs, given = doc.get("params", {}), {}
    for pair in sys.argv[3:]:
        key, _, value = pair.partition("=")
        if key not in specs:
            sys.exit(f"param '{key}' is not declared in {path}")
        given[key] = value
    recs = []
    for name, spec in specs.items():
        if name in given:
            value = given[name]
            if spec["type"] == "list":
                value = "\n".join(v for v in value.split(",") if v)
        elif "default" in spec:
            d = spec["default"]
            value = "\n".join(scalar(x) for x in d) if isinstance(d, list) else scalar(d)
        elif spec.get("required"):
            sys.exit(f"required param '{name}' missing")
        else:
            continue  # unset optional param: the variable is unset
        recs.append(f"PARAM_{env_name(name)}={value}")
    sys.stdout.write("".join(r + "\0" for r in recs))
elif cmd == "order":
    print(" ".join(order(doc, sys.argv[3])))
elif cmd == "get":
    node = doc
    for part in sys.argv[3].split("."):
        if part.startswith("step:"):
            node = find_step(doc, part[5:])
        elif isinstance(node, list):
            node = node[int(part)]
        else:
            node = node.get(part) if isinstance(node, dict) else None
    print(json.dumps(node, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
PY
pipeline() { python3 "$WORK/pipeline.py" "$@"; }

# ---------------------------------------------------------------------------------------------
# Checks
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); printf '  ok    %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf '  FAIL  %s\n' "$*"; }
check() { local message=$1; shift; if "$@"; then ok "$message"; else fail "$message"; fi; }
eq() { [ "$1" = "$2" ] || { printf "        got '%s', expected '%s'\n" "$1" "$2"; return 1; }; }
contains() { case "$1" in *"$2"*) return 0 ;; esac; printf "        '%s' not found in: %s\n" "$2" "$(printf '%s' "$1" | head -c 600)"; return 1; }
yaml_is() { eq "$(pipeline get "$PIPELINES/$1" "$2")" "$3"; }

# ---------------------------------------------------------------------------------------------
# Runs: begin_run FILE [NAME=VALUE]... then run_step for each step, in DAG order.
RUN_FILE="" RUN_ID="" RUN_SEQ=0
PARAMS=()
declare -A OUTS=()
begin_run() {
  RUN_FILE=$PIPELINES/$1
  shift
  RUN_SEQ=$((RUN_SEQ + 1))
  RUN_ID="run-$(date -u +%H%M%S)-$RUN_SEQ"
  PARAMS=()
  OUTS=()
  local rec
  while IFS= read -r -d '' rec; do PARAMS+=("$rec"); done < <(pipeline params "$RUN_FILE" "$@")
}

# step_definition STEP: the step's records, from a per-file cache filled on first use.
step_definition() {
  local cache="$WORK/cache/$(basename "$RUN_FILE")"
  [ -d "$cache" ] || pipeline steps "$RUN_FILE" "$cache" || return 1
  [ -f "$cache/$1" ] && cat "$cache/$1"
}

# run_step [-i ITEM] [-a ATTEMPT] [-x EXPECTED_EXIT] [-e NAME=VALUE]... [-b] STEP
#   -e sets a variable of the runner's own environment (knobs such as INJECT_FAIL); -b starts
#   the step in the background in a process group of its own (STEP_PID), as the runner does.
# After it: $LAST (directory with stdout, stderr, output, progress), $LAST_RC.
run_step() {
  local item="" attempt=1 expect=0 background=false opt OPTIND=1
  local -a extra=()
  while getopts "i:a:x:e:b" opt; do
    case $opt in
      i) item=$OPTARG ;; a) attempt=$OPTARG ;; x) expect=$OPTARG ;; e) extra+=("$OPTARG") ;; b) background=true ;;
      *) echo "run_step: bad option" >&2; return 2 ;;
    esac
  done
  shift $((OPTIND - 1))
  local name=$1 label=$1${item:+[$item]}
  local workdir="" run="" for_each=0 rec
  local -a argv=() step_env=() outputs=()
  while IFS= read -r -d '' rec; do
    case ${rec:0:2} in
      W:) workdir=${rec:2} ;; A:) argv+=("${rec:2}") ;; R:) run=${rec:2} ;; E:) step_env+=("${rec:2}") ;;
      O:) outputs+=("${rec:2}") ;; F:) for_each=${rec:2} ;;
    esac
  done < <(step_definition "$name")
  [ -n "$run" ] || { fail "$label: no such step in $RUN_FILE"; return 1; }
  # A pipeline with a `workspace` runs its steps in a checkout of the repository (workdir
  # relative to it): the working tree stands in for the checkout here, and the scripts fall
  # back to exporting targetRef's commit themselves (no RUNNER_WORKSPACE).
  local base=$PIPELINES
  grep -q '^workspace:' "$RUN_FILE" && base=$PIPELINES/..
  LAST="$WORK/steps/$RUN_ID/$label.$attempt"
  mkdir -p "$LAST"
  : > "$LAST/output"
  : > "$LAST/progress"
  local -a envs=("${extra[@]}" "${step_env[@]}" "${PARAMS[@]}")
  local key
  for key in "${!OUTS[@]}"; do envs+=("$key=${OUTS[$key]}"); done
  [ -n "$item" ] && envs+=("ITEM=$item")
  envs+=("RUNNER_RUN_ID=$RUN_ID" "RUNNER_PIPELINE=$(basename "$RUN_FILE" .yaml)" "RUNNER_STEP=$label"
         "RUNNER_ATTEMPT=$attempt" "RUNNER_TRIGGER=cli" "RUNNER_OUTPUT=$LAST/output" "RUNNER_PROGRESS=$LAST/progress"
         "RUNNER_PIPELINE_DIR=$PIPELINES")
  if [ "$background" = true ]; then
    set -m
    ( cd "$base/$workdir" && exec env "${envs[@]}" "${argv[@]}" "$run" ) >"$LAST/stdout" 2>"$LAST/stderr" &
    STEP_PID=$!
    set +m
    BACKGROUND+=("$STEP_PID")
    return 0
  fi
  ( cd "$base/$workdir" && exec env "${envs[@]}" "${argv[@]}" "$run" ) >"$LAST/stdout" 2>"$LAST/stderr"
  LAST_RC=$?
  if [ "$LAST_RC" != "$expect" ]; then
    fail "$label: exit $LAST_RC, expected $expect"
    sed 's/^/        | /' "$LAST/stderr" | tail -n 8
    return 1
  fi
  # Outputs: the declared keys only, the last line of each wins; for_each outputs stay with
  # their instance (the runner does not pass them on).
  if [ "$LAST_RC" = 0 ] && [ "$for_each" = 0 ]; then
    local pair value
    for pair in "${outputs[@]}"; do
      value=$(out "${pair%%=*}")
      OUTS[${pair#*=}]=$value
    done
  fi
  return 0
}
# out KEY: the value the last step wrote for KEY.
out() { grep -E "^$1=" "$LAST/output" | tail -n 1 | cut -d= -f2-; }
err() { cat "$LAST/stderr"; }
progress_values() { cut -d' ' -f1 "$LAST/progress" | tr '\n' ' ' | sed 's/ $//'; }
# climbs: progress is non-decreasing, starts at 0 and ends at 100
climbs() {
  python3 - "$LAST/progress" <<'PY'
import sys
values = [int(line.split()[0]) for line in open(sys.argv[1]) if line.strip()]
ok = len(values) >= 2 and values[0] == 0 and values[-1] == 100 and values == sorted(values)
if not ok:
    print(f"        progress {values}")
sys.exit(0 if ok else 1)
PY
}

scenario() {
  local name=$1
  echo "$name"
  if ! "$2"; then fail "$name: scenario stopped"; fi
}

# =============================================================================================
docs_publish() {
  local file=docs-publish.yaml site=$PUBLISH_ROOT
  check "DAG: build then deploy" eq "$(pipeline order "$PIPELINES/$file" main)" "docs_link_check quartz_build cdk_deploy switch invalidation"
  check "DAG: rollback steps" eq "$(pipeline order "$PIPELINES/$file" rollback)" "rollback_prepare rollback_switch rollback_verify"
  check "contract: switch is the commit point, invalidation's condition and retry" \
    eq "$(pipeline get "$PIPELINES/$file" step:switch.commit_point) $(pipeline get "$PIPELINES/$file" step:invalidation.if)" \
    'true "params.forceInvalidate || steps.cdk_deploy.outputs.changed == \"true\""'
  check "contract: error codes" eq "$(pipeline get "$PIPELINES/$file" concurrency.error),$(pipeline get "$PIPELINES/$file" step:quartz_build.error),$(pipeline get "$PIPELINES/$file" step:cdk_deploy.error),$(pipeline get "$PIPELINES/$file" step:invalidation.error),$(pipeline get "$PIPELINES/$file" params.targetRef.error)" \
    '"PUBLISH_ALREADY_ACTIVE","DOCS_BUILD_FAILED","DOCS_DEPLOY_FAILED","INVALIDATION_FAILED","INVALID_TARGET_REF"'

  # --- run 1: first publish of main
  begin_run "$file" targetRef=main "reason=first publish"
  run_step docs_link_check || return 1
  local commit
  commit=$(git -C "$ROOT" rev-parse main)
  check "link check reads the commit targetRef names" eq "$(out commit)" "$commit"
  run_step quartz_build || return 1
  local build
  build=$(out site_dir)
  check "build: manifest.json holds the sha256 of every file" python3 - "$build" <<'PY'
import hashlib, json, os, sys
site = sys.argv[1]
files = json.load(open(os.path.join(site, "manifest.json")))["files"]
actual = {os.path.relpath(os.path.join(b, n), site) for b, _, ns in os.walk(site) for n in ns} - {"manifest.json"}
assert set(files) == actual, (sorted(files), sorted(actual))
for rel, digest in files.items():
    assert hashlib.sha256(open(os.path.join(site, rel), "rb").read()).hexdigest() == digest, rel
PY
  check "build: README is /docs/index.html, docs/ pages and the schemas page exist" \
    test -f "$build/docs/index.html" -a -f "$build/docs/DECISIONS.html" -a -f "$build/openapi/index.html" -a -f "$build/openapi/pipeline.schema.json"
  check "build: links between documents point at their pages" contains "$(cat "$build/docs/index.html")" 'href="DIAGNOSTICS.html"'
  run_step cdk_deploy || return 1
  local first=$(out release)
  check "first deploy: changed=true, no previous release" eq "$(out changed),$(out previous)" "true,"
  check "release records commit and reason" python3 -c '
import json, sys; r = json.load(open(sys.argv[1]))
sys.exit(0 if (r["commit"], r["reason"]) == (sys.argv[2], "first publish") else 1)' "$site/releases/$first/release.json" "$commit"
  run_step switch || return 1
  check "switch: current -> the new release" eq "$(readlink "$site/current")" "releases/$first"
  # if: params.forceInvalidate || steps.cdk_deploy.outputs.changed == "true"  -> true
  run_step invalidation || return 1
  check "invalidation: CDN cache primed from the live release" cmp -s "$site/cdn-cache/docs/index.html" "$site/current/docs/index.html"
  check "invalidation recorded an id" contains "$(cat "$site/invalidations")" "$(out invalidation_id)"
  # finally: record_release's if (switch succeeded, invalidation succeeded) is true
  run_step record_release || return 1
  run_step cleanup || return 1
  check "history: switch then published" eq "$(awk '{print $4}' "$site/history" | tr '\n' ' ')" "switch published "

  # --- run 2: the same ref again
  begin_run "$file" targetRef=main
  run_step docs_link_check && run_step quartz_build && run_step cdk_deploy || return 1
  local second=$(out release)
  check "second deploy of the same content: changed=false, previous = first" eq "$(out changed),$(out previous)" "false,$first"
  run_step switch || return 1
  # invalidation's if is false (forceInvalidate false, changed false): skipped.
  # record_release's if: switch succeeded and invalidation skipped -> true
  run_step record_release && run_step cleanup || return 1
  check "second release is live" eq "$(readlink "$site/current")" "releases/$second"

  # --- run 3: new content, the CDN refuses every invalidation attempt -> rollback
  local docs=$WORK/docs-new
  mkdir -p "$docs/img"
  printf 'GIF89a' > "$docs/img/flow.gif"
  cat > "$docs/guide.md" <<'MD'
# Guide

Read the [other page](other.md#setting-up) first. ![flow](img/flow.gif)

| step | what |
| --- | --- |
| build | `quartz_build` |

- one
- two

```sh
echo "<not html>"
```
MD
  printf '# Other\n\n## Setting up\n\nBack to the [guide](guide.md).\n' > "$docs/other.md"
  begin_run "$file" targetRef=main forceInvalidate=true
  local knobs=(-e "DOCS_SOURCE=$docs" -e INJECT_FAIL=invalidation)
  run_step "${knobs[@]}" docs_link_check && run_step "${knobs[@]}" quartz_build && run_step "${knobs[@]}" cdk_deploy || return 1
  local third=$(out release)
  check "new content: changed=true, previous = second" eq "$(out changed),$(out previous)" "true,$second"
  local page="$site/releases/$third/docs/guide.html"
  check "converter: table, list, escaped code fence, image, link rewritten to .html#anchor" python3 - "$page" <<'PY'
import sys
html = open(sys.argv[1], encoding="utf-8").read()
for needle in ("<table>", "<th>step</th>", "<ul>", "<li>one</li>", '<pre><code class="language-sh">echo &quot;&lt;not html&gt;&quot;',
               'src="img/flow.gif"', 'href="other.html#setting-up"', '<h1 id="guide">'):
    if needle not in html:
        sys.exit(print(f"        missing {needle!r}") or 1)
PY
  run_step "${knobs[@]}" switch || return 1
  local attempt
  for attempt in 1 2 3; do   # retry: attempts 3; every attempt fails
    run_step "${knobs[@]}" -a "$attempt" -x 1 invalidation || return 1
  done
  check "invalidation fails with the CDN's error" contains "$(err)" "503 Service Unavailable"
  # switch (the commit point) succeeded, so the runner runs the rollback steps
  run_step "${knobs[@]}" rollback_prepare || return 1
  check "rollback_prepare resolves the previous successful release" eq "$(out previous),$(out failed_release)" "$second,$third"
  run_step "${knobs[@]}" rollback_switch || return 1
  check "rollback_switch: the previous release is live again" eq "$(readlink "$site/current")" "releases/$second"
  run_step "${knobs[@]}" rollback_verify || return 1
  check "rollback_verify: /docs/ and /openapi/ answer 200 over HTTP" contains "$(cat "$LAST/stdout")" "/openapi/: 200 OK"
  # finally: record_release's if is false (invalidation failed): skipped
  run_step "${knobs[@]}" -e KEEP_RELEASES=0 cleanup || return 1
  check "cleanup keeps only the live and the rollback-target releases" \
    eq "$(ls "$site/releases" | tr '\n' ' ')" "$(printf '%s\n' "$first" "$second" | sort | tr '\n' ' ')"
  check "history: the rollback is recorded" eq "$(tail -n 1 "$site/history" | awk '{print $2, $4}')" "$second rollback"

  # --- broken links stop the build
  local broken=$WORK/docs-broken
  mkdir -p "$broken"
  printf '# Guide\n\nSee [missing](nope.md),\n[an anchor](#no-such-heading) and ![img](pics/none.png).\n\n[ref]: gone.md\n' > "$broken/guide.md"
  begin_run "$file" targetRef=main
  run_step -e "DOCS_SOURCE=$broken" -x 1 docs_link_check || return 1
  local e
  e=$(err)
  check "link check: each broken link as file:line" contains "$e" "guide.md:3: broken link 'nope.md'"
  check "link check: a broken anchor" contains "$e" "guide.md:4: broken link '#no-such-heading'"
  check "link check: a broken image" contains "$e" "guide.md:4: broken link 'pics/none.png'"
  check "link check: reference definitions are checked" contains "$e" "guide.md:6: broken link 'gone.md'"

  # --- a ref that names no commit
  begin_run "$file" targetRef=no-such-branch
  run_step -x 3 docs_link_check || return 1
  check "an unknown targetRef exits 3 (class INVALID_TARGET_REF)" contains "$(err)" "does not name a commit"

  # --- rollback with nothing to go back to
  begin_run "$file" targetRef=main
  run_step -e "PUBLISH_ROOT=$WORK/empty-publish" -x 1 rollback_prepare || return 1
  check "rollback_prepare without history fails clearly" contains "$(err)" "nothing to roll back to"
}

# =============================================================================================
ingestion() {
  local file=ingestion.yaml db=$DEMO_ROOT/ingestion/ingestion.db
  check "DAG" eq "$(pipeline order "$PIPELINES/$file" main)" "plan_window fetch load supplement summary"
  check "contract: upstream table as error classes" yaml_is "$file" errors \
    '[{"code":"UPSTREAM_RATE_LIMIT","exit_codes":[75],"message":"the upstream rate limit was reached","retry":{"attempts":6,"backoff":{"factor":2,"initial":"1s","max":"30s"}}},{"code":"UPSTREAM_QUOTA_LIMIT","exit_codes":[76],"message":"the upstream daily quota is exhausted; resumes after 00:00 UTC","retry":{"at":"next_day_utc"}},{"code":"UPSTREAM_TIMEOUT","exit_codes":[77],"message":"the upstream timed out or failed with a 5xx","retry":{"attempts":4}},{"code":"UPSTREAM_TIMEOUT","message":"the upstream call exceeded the step timeout","retry":{"attempts":4},"timeout":true},{"code":"UPSTREAM_INVALID_RESPONSE","exit_codes":[78],"message":"the upstream response does not match the contract; investigate by hand","retry":"none"},{"code":"INTERNAL_ERROR"}]'
  check "contract: fan-out per target type, partial allowed, idempotency required" \
    eq "$(pipeline get "$PIPELINES/$file" step:fetch.for_each) $(pipeline get "$PIPELINES/$file" step:fetch.allow_partial) $(pipeline get "$PIPELINES/$file" idempotency.required)" '"params.target_types" true true'

  local since=2026-01-05T00:00:00Z   # from_published_at as the runner hands it over: UTC
  local expected
  expected=$(python3 - "$PIPELINES/fixtures/upstream" "$since" <<'PY'
import json, sys, os
n = 0
for t in ("official", "appearance"):
    for line in open(os.path.join(sys.argv[1], t + ".jsonl"), encoding="utf-8"):
        n += json.loads(line)["published_at"] >= sys.argv[2]
print(n)
PY
)
  local params=(trigger_mode=manual run_kind=appearance_supplement target_types=official,appearance "from_published_at=$since" trace_id=t-1)
  begin_run "$file" "${params[@]}"
  run_step plan_window || return 1
  run_step -i official fetch && local p_official=$LAST
  run_step -i appearance fetch || return 1
  check "fetch pages through the upstream with progress to 100" eq "$(cut -d' ' -f1 "$p_official/progress" | tail -n 1)" 100
  # if: !params.dry_run -> true; supplement: run_kind == appearance_supplement && !dry_run -> true
  run_step load || return 1
  check "load inserts the $expected items published since $since" eq "$(out inserted),$(out updated)" "$expected,0"
  check "database holds them" eq "$(sqlite3 "$db" 'SELECT count(*) FROM videos')" "$expected"
  run_step supplement || return 1
  local matched
  matched=$(sqlite3 "$db" "SELECT count(*) FROM supplements WHERE matches > 0")
  check "supplement counts 草|w|くさ|kusa per video" python3 - "$db" "$(out matched)" "$matched" <<'PY'
import re, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
counts = {}
for video, text in db.execute("SELECT video_id, message_text FROM records"):
    counts[video] = counts.get(video, 0) + bool(re.search("草|w|くさ|kusa", text))
stored = dict(db.execute("SELECT video_id, matches FROM supplements"))
matched = sum(1 for c in counts.values() if c)
sys.exit(0 if stored == counts and str(matched) == sys.argv[2] == sys.argv[3] and matched > 0 else 1)
PY
  run_step summary || return 1
  check "summary outputs fetched, inserted, updated" eq "$(out fetched),$(out inserted),$(out updated),$(out failed_targets)" "$expected,$expected,0,"
  run_step cleanup || return 1

  begin_run "$file" "${params[@]}"
  run_step plan_window && run_step -i official fetch && run_step -i appearance fetch && run_step load || return 1
  check "re-running inserts nothing (idempotent upsert)" eq "$(out inserted),$(out updated),$(out unchanged)" "0,0,$expected"
  check "each video is stored once" eq "$(sqlite3 "$db" 'SELECT count(*) FROM videos')" "$expected"

  begin_run "$file" trigger_mode=scheduled run_kind=incremental_update target_types=official,appearance dry_run=true
  run_step plan_window && run_step -i official fetch && run_step -i appearance fetch || return 1
  # dry_run: load's if is false (skipped), so is supplement's; summary runs
  run_step summary || return 1
  check "dry run: everything fetched, nothing written" eq "$(out fetched),$(out inserted),$(sqlite3 "$db" 'SELECT count(*) FROM videos')" "42,0,$expected"

  local mode code
  for mode in rate_limit:75:429 quota:76:quotaExceeded timeout:77:504 invalid:78:contract; do
    IFS=: read -r mode code text <<< "$mode"
    begin_run "$file" "${params[@]}"
    run_step plan_window || return 1
    run_step -e "UPSTREAM_FAIL=$mode" -x "$code" -i official fetch || return 1
    check "UPSTREAM_FAIL=$mode exits $code" contains "$(err)" "$text"
  done

  begin_run "$file" "${params[@]}"
  run_step plan_window || return 1
  local flaky=(-e UPSTREAM_FAIL=rate_limit -e UPSTREAM_FAIL_TIMES=2)
  run_step "${flaky[@]}" -a 1 -x 75 -i official fetch && run_step "${flaky[@]}" -a 2 -x 75 -i official fetch || return 1
  run_step "${flaky[@]}" -a 3 -i official fetch || return 1
  check "UPSTREAM_FAIL_TIMES=2: attempts 1 and 2 rate limited, attempt 3 succeeds" eq "$(out fetched)" 20

  begin_run "$file" trigger_mode=manual run_kind=official_ingestion target_types=official,appearance
  local partial=(-e UPSTREAM_FAIL=invalid -e UPSTREAM_FAIL_TARGET=appearance)
  run_step plan_window && run_step "${partial[@]}" -i official fetch && run_step "${partial[@]}" -x 78 -i appearance fetch || return 1
  # allow_partial: one instance succeeded, so load and summary run; the run ends partial
  run_step load && run_step summary || return 1
  check "UPSTREAM_FAIL_TARGET fails one instance; the report names it" eq "$(out failed_targets),$(out fetched)" "appearance,24"
}

# =============================================================================================
backup_restore() {
  local storage=$DEMO_ROOT/belayer/storage app=$DEMO_ROOT/belayer/app.db
  check "DAG: backup" eq "$(pipeline order "$PIPELINES/backup.yaml" main)" "prepare_source snapshot archive verify"
  # seed 003:L488, L525: paths are relative to STORAGE_DIR/[uid]; the runner confines them
  # (RunnerEngineTests' PathParamsTests), the scripts check again (below)
  local root='${DEMO_ROOT:-../.demo}/belayer/storage/{actor}'
  check "contract: dirPath is a path param under the caller's folder" \
    eq "$(pipeline get "$PIPELINES/backup.yaml" params.dirPath.type),$(pipeline get "$PIPELINES/backup.yaml" params.dirPath.root)" \
    "\"path\",\"$root\""
  check "contract: zipFilePath is a path param under the caller's folder that must exist" \
    eq "$(pipeline get "$PIPELINES/restore.yaml" params.zipFilePath.type),$(pipeline get "$PIPELINES/restore.yaml" params.zipFilePath.root),$(pipeline get "$PIPELINES/restore.yaml" params.zipFilePath.must_exist)" \
    "\"path\",\"$root\",true"

  begin_run backup.yaml dirPath=dump1
  run_step prepare_source || return 1
  check "sample database created (a few MB)" test "$(stat -c %s "$app")" -gt 2000000
  local orders
  orders=$(sqlite3 "$app" 'SELECT count(*) FROM orders')
  run_step snapshot || return 1
  check "snapshot: progress climbs 0..100 page batch by page batch ($(wc -l < "$LAST/progress") lines)" climbs
  check "snapshot: progress lines in the seed's format" contains "$(tail -n 1 "$LAST/progress")" "]progress:100.00%"
  run_step archive || return 1
  check "archive: progress 0..100" climbs
  local zip_rel=$(out zipFilePath)
  check "zipFilePath = dirPath/<job>/backup-<job>.zip, destDir = dirPath" eq "$zip_rel,$(out destDir)" "dump1/$RUN_ID/backup-$RUN_ID.zip,dump1"
  run_step verify || return 1
  check "verify: output [yyyy-MM-ddTHH:mm:ss]finish:success" python3 -c 'import re,sys; sys.exit(not re.fullmatch(r"\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\]finish:success", sys.argv[1]))' "$(out output)"
  run_step cleanup || return 1
  local x=$WORK/extract
  mkdir -p "$x"
  check "the zip is valid (unzip -t)" unzip -tqq "$storage/$zip_rel"
  unzip -q "$storage/$zip_rel" -d "$x"
  check "the archived database passes integrity_check and has every order" \
    eq "$(sqlite3 "$x/snapshot.db" 'PRAGMA integrity_check; SELECT count(*) FROM orders' | tr '\n' ' ')" "ok $orders "

  # cancel: a slowed-down backup is stopped with SIGTERM to its process group mid-way
  begin_run backup.yaml dirPath=dump2
  run_step -e BACKUP_THROTTLE_MS=150 -b snapshot
  local waited=0
  until [ "$(tail -n 1 "$LAST/progress" 2>/dev/null | cut -d' ' -f1)" -ge 20 ] 2>/dev/null || [ $waited -ge 100 ]; do
    sleep 0.1; waited=$((waited + 1))
  done
  local at
  at=$(tail -n 1 "$LAST/progress" | cut -d' ' -f1)
  kill -TERM -- "-$STEP_PID"
  wait "$STEP_PID"
  local rc=$?
  check "cancel mid-backup (at $at%): the step ends on SIGTERM (exit 143)" test "$rc" -eq 143 -a "$at" -lt 100
  check "cancel leaves no partial snapshot" eq "$(ls -A "$DEMO_ROOT/belayer/runs/$RUN_ID" 2>/dev/null | tr '\n' ' ')" ""
  check "the source database is untouched" eq "$(sqlite3 "$app" 'PRAGMA integrity_check; SELECT count(*) FROM orders' | tr '\n' ' ')" "ok $orders "

  # restore the first backup over a damaged database
  sqlite3 "$app" 'DELETE FROM orders'
  begin_run restore.yaml "zipFilePath=$zip_rel"
  run_step check && run_step restore || return 1
  check "restore: progress 0..100" climbs
  check "restore: every order is back" eq "$(out orders),$(sqlite3 "$app" 'SELECT count(*) FROM orders')" "$orders,$orders"
  check "restore: outputs zipFilePath and the finish line" eq "$(out zipFilePath),$(out output | sed 's/^\[.*\]//')" "$zip_rel,finish:success"
  check "restore: no temporary database left" eq "$(ls "$(dirname "$app")" | grep -c restoring)" 0

  begin_run restore.yaml zipFilePath=dump1/nope.zip
  run_step -x 4 check || return 1
  check "restore of a missing file: exit 4, 'Invalid path. path:dump1/nope.zip'" contains "$(err)" "Invalid path. path:dump1/nope.zip"
  local escape
  for escape in ../../../etc/passwd.zip /etc/x.zip dump1/../../x.zip; do
    begin_run restore.yaml "zipFilePath=$escape"   # the runner's pattern would refuse it first
    run_step -x 4 check || return 1
  done
  check "paths leaving the storage area are refused by the step too (exit 4)" contains "$(err)" "Invalid path. path:dump1/../../x.zip"
  begin_run backup.yaml dirPath=../../etc
  run_step -x 4 archive || return 1
  check "backup with a dirPath leaving the storage area: exit 4, nothing written" \
    eq "$(err | grep -c 'Invalid path. path:../../etc'),$(test -e "$DEMO_ROOT/etc" && echo written)" "1,"
}

# =============================================================================================
promotion() {
  local file=promotion.yaml apps=$DEMO_ROOT/promotion/apps
  check "DAG" eq "$(pipeline order "$PIPELINES/$file" main)" "resolve_source promote report"
  check "contract: one instance per target, partial allowed" \
    eq "$(pipeline get "$PIPELINES/$file" step:promote.for_each) $(pipeline get "$PIPELINES/$file" step:promote.allow_partial)" '"params.targets" true'
  (cd "$PIPELINES" && scripts/promotion-demo-setup.sh >/dev/null) || { fail "demo setup failed"; return 1; }
  local dev_release
  dev_release=$(basename "$(readlink "$apps/my-app-development/current")")
  check "demo apps: development runs a release, staging and production none" \
    eq "$(ls "$apps" | tr '\n' ' ')$(test -e "$apps/my-app-staging/current" || echo no-staging)" "my-app-development my-app-production my-app-staging no-staging"

  begin_run "$file" source_app=my-app-development targets=my-app-staging,my-app-production
  run_step resolve_source || return 1
  check "resolve_source: the source's current release" eq "$(out release)" "$dev_release"
  run_step -i my-app-staging promote && run_step -i my-app-production promote || return 1
  run_step report || return 1
  check "both targets promoted" eq "$(out summary)" "my-app-staging=succeeded,my-app-production=succeeded"
  local target
  for target in my-app-staging my-app-production; do
    check "$target runs a copy of $dev_release recording its source" python3 - "$apps" "$target" "$dev_release" <<'PY'
import filecmp, json, os, sys
apps, target, release = sys.argv[1:]
current = os.path.join(apps, target, "current")
record = json.load(open(os.path.join(current, "release.json")))
cmp = filecmp.dircmp(os.path.join(apps, "my-app-development", "releases", release), current, ignore=["release.json"])
sys.exit(0 if record["source"] == {"app": "my-app-development", "release": release} and not cmp.diff_files
         and not cmp.left_only and not cmp.right_only else 1)
PY
  done
  local production_before
  production_before=$(readlink "$apps/my-app-production/current")

  (cd "$PIPELINES" && scripts/promotion-demo-setup.sh --new-release >/dev/null) || { fail "new release failed"; return 1; }
  begin_run "$file" source_app=my-app-development targets=my-app-staging,my-app-production
  run_step resolve_source || return 1
  local fail_production=(-e PROMOTE_FAIL_TARGETS=my-app-production)
  run_step "${fail_production[@]}" -i my-app-staging promote || return 1
  run_step "${fail_production[@]}" -x 1 -i my-app-production promote || return 1
  check "the failing target reports its own error message" contains "$(err)" "maintenance mode"
  # allow_partial: staging succeeded, so report runs and the run ends partial
  run_step report || return 1
  check "per-target status: staging succeeded, production failed" eq "$(out summary)" "my-app-staging=succeeded,my-app-production=failed"
  check "per-target error_message, like Heroku's promotion targets" contains "$(out targets)" '"app": "my-app-production", "status": "failed", "release": null, "error_message": "Release could not be created on my-app-production: the app is in maintenance mode"'
  check "production still runs its previous release" eq "$(readlink "$apps/my-app-production/current")" "$production_before"

  # Heroku names apps by id (001:L146): the UUIDs the demo setup wrote in each app.json
  local dev_id staging_id
  dev_id=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$apps/my-app-development/app.json")
  staging_id=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$apps/my-app-staging/app.json")
  begin_run "$file" source_app="$dev_id" targets="$staging_id"
  run_step resolve_source && run_step -i "$staging_id" promote && run_step report || return 1
  check "apps named by their ids: staging (by id) runs a copy of the development release" \
    eq "$(out summary)|$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["source"]["app"])' \
      "$apps/my-app-staging/current/release.json")" "my-app-staging=succeeded|my-app-development"
  local unknown_id
  unknown_id=$(printf '%s' "$dev_id" | tr '0-9a-f' '1-9a-f0')   # every digit moved on: no app's id
  begin_run "$file" source_app="$unknown_id" targets="$staging_id"
  run_step -x 1 resolve_source || return 1
  check "an id no app has fails clearly" contains "$(err)" "source app '$unknown_id' does not exist"

  begin_run "$file" source_app=no-such-app targets=my-app-staging
  run_step -x 1 resolve_source || return 1
  check "an unknown source app fails clearly" contains "$(err)" "source app 'no-such-app' does not exist"
  begin_run "$file" source_app=my-app-development targets=my-app-staging
  OUTS[STEP_RESOLVE_SOURCE_RELEASE]=$dev_release
  run_step -x 2 -i ../../etc promote || return 1
  check "a target that is not an app name never becomes a path (exit 2)" test ! -e "$DEMO_ROOT/etc"
}

START=$SECONDS
scenario "docs-publish (seed 000)" docs_publish
scenario "ingestion (seed 002)" ingestion
scenario "backup and restore (seed 003)" backup_restore
scenario "promotion (seed 001)" promotion
echo "seed-scripts: $PASSED passed, $FAILED failed in $((SECONDS - START)) s"
[ "$FAILED" -eq 0 ]
