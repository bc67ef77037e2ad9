#!/usr/bin/env bash
# The optimized binary users run (make release, make demo), checked where optimization can
# change what the debug build does: an object whose last use the optimizer moves earlier is
# released earlier. `runner serve` lost its signal sources that way (SIGTERM was ignored and
# SIGHUP did nothing) while every test of the debug binary passed.
#   - serve: SIGHUP reloads, SIGTERM stops it within 10 s saying so;
#   - apply: Ctrl-C cancels the run, its finally step runs, exit 1;
#   - apply --json: the finished run as JSON.
# Usage: Tests/E2E/release-smoke.sh RUNNER   (the release binary)
set -uo pipefail
RUNNER=$(cd "$(dirname "${1:?usage: release-smoke.sh RUNNER}")" && pwd)/$(basename "$1")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/release-smoke.XXXXXX")
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
export RUNNER_HOME=$WORK/home NO_COLOR=1
unset "${!PARAM_@}" "${!INJECT_@}"
passed=0 failed=0
check() {  # check NAME CONDITION-EXIT-STATUS [DETAIL]
  if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "  ok    $1"
  else failed=$((failed + 1)); echo "  FAIL  $1${3:+
        $3}"; fi
}
mkdir -p "$WORK/pipelines"
printf 'version: 1\nname: noop\nsteps:\n  - {name: s, run: "true"}\n' > "$WORK/pipelines/noop.yaml"
printf 'version: 1\nname: slow\nsteps:\n  - {name: s, run: "sleep 30"}\nfinally:\n  steps:\n    - {name: f, run: "echo finally-ran"}\n' \
  > "$WORK/slow.yaml"

"$RUNNER" serve --pipelines "$WORK/pipelines" --listen 127.0.0.1:0 > "$WORK/serve.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/serve.out" && break; sleep 0.1; done
kill -HUP "$pid"
for _ in $(seq 50); do grep -q "reloaded" "$WORK/serve.out" && break; sleep 0.1; done
grep -q "reloaded 1 pipelines" "$WORK/serve.out"; check "serve: SIGHUP reloads the pipelines" $? "$(cat "$WORK/serve.out")"
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; stopped=1; else stopped=0; fi
check "serve: SIGTERM stops it within 10 s" "$stopped"
grep -q "runner serve: stopped" "$WORK/serve.out"; check "serve: it says it stopped" $? "$(cat "$WORK/serve.out")"

"$RUNNER" apply "$WORK/slow.yaml" > "$WORK/apply.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "▶ s" "$WORK/apply.out" && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"; status=$?
[ "$status" = 1 ]; check "apply: Ctrl-C cancels the run (exit 1)" $? "exit $status: $(cat "$WORK/apply.out")"
grep -q "cancelling: running steps are being stopped" "$WORK/apply.out"; check "apply: it says it is cancelling" $?
grep -q "finally-ran" "$WORK/apply.out"; check "apply: the finally step ran" $? "$(cat "$WORK/apply.out")"

"$RUNNER" apply "$WORK/pipelines/noop.yaml" --json > "$WORK/run.json" 2>"$WORK/run.err"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(r["status"] != "succeeded")' "$WORK/run.json"
check "apply --json: the finished run as JSON" $? "$(head -c 300 "$WORK/run.json") $(cat "$WORK/run.err")"

echo "release-smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
