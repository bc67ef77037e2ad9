#!/usr/bin/env bash
# Benchmark: what runner's post-receive hook adds to `git push`. Two bare repositories (made
# under a temp dir, `main` with one commit, a clone of each to push from); one has the hook
# (`runner hook install`, its own RUNNER_HOME), the other none. Each timed run pushes one new
# commit made in hyperfine's untimed --prepare, which first waits until the hooked repo's
# detached runs have finished, so no push (either repo's) competes with a run.
# ROUNDS hyperfine invocations of PER_ROUND runs (+1 warmup) each, the order of the two swapped
# every round. Then checks that every push to the hooked repo recorded exactly one run.
# Replaces the section between <!-- hook:begin --> and <!-- hook:end --> in bench/RESULTS.md.
#
# Usage, from the repo root:  bench/hook.sh [RUNNER_BINARY]   (default .build/release/runner)
#   ROUNDS=N (default 4), PER_ROUND=N (default 5): timed pushes per repo = ROUNDS × PER_ROUND
set -euo pipefail
RUNNER=${1:-}
case "$RUNNER" in "" | /*) ;; *) RUNNER=$PWD/$RUNNER ;; esac
cd "$(dirname "$0")/.."
RUNNER=${RUNNER:-$PWD/.build/release/runner}
ROUNDS=${ROUNDS:-4} PER_ROUND=${PER_ROUND:-5} WARMUP=1
command_line="bench/hook.sh${1:+ $1}"
[ -x "$RUNNER" ] || { echo "bench: no runner binary at $RUNNER (make release builds it)" >&2; exit 64; }
for tool in git python3; do command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 64; }; done
if ! command -v hyperfine >/dev/null; then
  echo "bench: installing hyperfine"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq hyperfine
fi
binary_id() { echo "$(sha256sum "$RUNNER" | cut -c1-12), built $(date -u -r "$RUNNER" '+%Y-%m-%d %H:%M') UTC"; }
binary_before=$(binary_id) load_before=$(cut -d' ' -f1 /proc/loadavg)  # the tree may be rebuilt meanwhile

T=$(mktemp -d "${TMPDIR:-/tmp}/hook-bench.XXXXXX")
STATE=$T/state
unfinished() {  # ids of the hooked repo's runs that are not finished
  { RUNNER_HOME=$STATE "$RUNNER" runs list --json --limit 1000 2>/dev/null || echo '[]'; } | "$HB_PY" -c '
import json, sys
done = {"succeeded", "failed", "partial", "cancelled", "rolled_back", "skipped"}
print(" ".join(r["id"] for r in json.load(sys.stdin) if r["status"] not in done))'
}
cleanup() {  # cancel runs still going, end any detached runner of ours (by pid), remove $T
  local id pid
  if [ -d "$STATE" ]; then
    for id in $(unfinished); do RUNNER_HOME=$STATE "$RUNNER" runs cancel "$id" >/dev/null 2>&1 || true; done
    for pid in $(grep -lsxzF "RUNNER_HOME=$STATE" /proc/[0-9]*/environ | cut -d/ -f3); do
      [ "$pid" = $$ ] || kill "$pid" 2>/dev/null || true
    done
  fi
  rm -rf -- "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

unset RUNNER_HOME
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid \
  GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
export HB_PY HB_STATE=$STATE HB_RUNNER=$RUNNER
HB_PY=$(python3 -c 'import sys; print(sys.executable)')   # not a pyenv shim: --prepare polls with it
mkdir -p "$HOME"
git config --global init.defaultBranch main && git config --global commit.gpgsign false
for repo in plain hooked; do
  git init -q --bare "$T/$repo.git" && git init -q "$T/$repo"
  git -C "$T/$repo" remote add origin "$T/$repo.git"
  git -C "$T/$repo" commit --allow-empty -q -m init && git -C "$T/$repo" push -q -u origin main
done
cat > "$T/pipeline.yaml" <<YAML
version: 1
name: hook-bench
params:
  targetRef: {type: gitref, required: true, repo: $T/hooked.git}
triggers:
  git: {events: [post-receive], refs: [refs/heads/main], param: targetRef}
steps:
  - {name: noop, run: "true"}
YAML
RUNNER_HOME=$STATE "$RUNNER" hook install --repo "$T/hooked.git" --pipeline "$T/pipeline.yaml" >/dev/null
# --prepare (untimed): `prep CLONE` waits up to 30 s for the hooked repo's runs to finish, then
# makes the commit the timed push sends.
{ echo '#!/usr/bin/env bash'; declare -f unfinished; cat <<'SH'; } > "$T/prep"
set -euo pipefail
STATE=$HB_STATE RUNNER=$HB_RUNNER
while [ -n "$(unfinished)" ]; do
  [ "$SECONDS" -lt 30 ] || { echo "bench: runs unfinished after 30 s" >&2; exit 1; }
  sleep 0.02
done
exec git -C "$1" commit --allow-empty -q -m x
SH
chmod +x "$T/prep"

started=$SECONDS
for round in $(seq "$ROUNDS"); do
  order=(plain hooked); [ $((round % 2)) = 0 ] && order=(hooked plain)
  args=()
  for repo in "${order[@]}"; do args+=(-n "$repo" --prepare "$T/prep $T/$repo" "git -C $T/$repo push -q origin main"); done
  echo "bench: round $round of $ROUNDS (${order[*]})"
  hyperfine -N --style basic --warmup "$WARMUP" --runs "$PER_ROUND" --export-json "$T/round-$round.json" "${args[@]}"
done
# The last pushes' runs: wait for them (bounded), then compare runs with pushed commits.
for _ in $(seq 300); do [ -z "$(unfinished)" ] && break; sleep 0.2; done
echo "bench: timed part and settling took $((SECONDS - started)) s"
RUNNER_HOME=$STATE "$RUNNER" runs list --json --limit 1000 > "$T/runs.json"
for repo in plain hooked; do git -C "$T/$repo.git" rev-list --min-parents=1 main > "$T/$repo.pushed"; done  # all but `init`
binary_after=$(binary_id) load_after=$(cut -d' ' -f1 /proc/loadavg)
[ "$binary_after" = "$binary_before" ] || echo "bench: warning: $RUNNER changed during the benchmark" >&2

export T ROUNDS PER_ROUND WARMUP COMMAND_LINE=$command_line LOAD="$load_before at the start, $load_after at the end"
export BINARY="\`${RUNNER#$PWD/}\` (sha256 $binary_before$([ "$binary_after" = "$binary_before" ] || echo "; CHANGED during the run, to $binary_after"))"
export MACHINE="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"
export VERSIONS="$(git --version), $(hyperfine --version)"
python3 > "$T/section.md" <<'PY'
import datetime, json, os, statistics as st
E = os.environ; T = E["T"]; rounds = int(E["ROUNDS"])
times = {"plain": [], "hooked": []}
for r in range(1, rounds + 1):
    for res in json.load(open(f"{T}/round-{r}.json"))["results"]:
        times[res["command"]] += res["times"]
s = {k: {"median": st.median(v) * 1e3, "mean": st.mean(v) * 1e3, "min": min(v) * 1e3, "max": max(v) * 1e3, "n": len(v)} for k, v in times.items()}
added = s["hooked"]["median"] - s["plain"]["median"]
runs = json.load(open(f"{T}/runs.json"))
pushed = {k: open(f"{T}/{k}.pushed").read().split() for k in times}
expected = rounds * (int(E["PER_ROUND"]) + int(E["WARMUP"]))
shas = [r.get("params", {}).get("targetRef") for r in runs]
missing = [c for c in pushed["hooked"] if c not in shas]
statuses = ", ".join(f"{n} {k}" for k, n in sorted(__import__("collections").Counter(r["status"] for r in runs).items()))
ok = len(runs) == len(pushed["hooked"]) == expected and not missing
print("<!-- hook:begin -->\n## What the post-receive hook adds to `git push`\n")
print(f"Produced by `{E['COMMAND_LINE']}` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC — {E['MACHINE']};")
print(f"{E['VERSIONS']}. 1-minute load average: {E['LOAD']}.\nBinary measured: {E['BINARY']}.\n")
print("Two bare repositories on local disk, each with `main` and a clone to push from; one has runner's")
print("post-receive hook (`runner hook install`, a one-step pipeline whose step is `true`, its own")
print("`RUNNER_HOME`), the other no hook. A timed run is `git -C CLONE push -q origin main` sending one")
print("new empty commit, made untimed in hyperfine's `--prepare`. The hook admits the run (an SQLite")
print("insert) before git returns, and starts a detached runner to execute it: the push does not wait")
print("for the run. So that no timed push competes with a run, every `--prepare` (both repositories')")
print("first waits (polling `runner runs list`, up to 30 s) until all of the hooked repository's runs")
print("have finished: the figures are the hook alone, not the hook plus a run in the background.")
print(f"{rounds} hyperfine invocations (`-N`) of {E['PER_ROUND']} runs and {E['WARMUP']} warmup per repository, the order of the")
print("two swapped every invocation; figures over all timed runs.\n")
print("| push | median (ms) | mean (ms) | min (ms) | max (ms) | runs |\n| --- | --- | --- | --- | --- | --- |")
for k, label in (("plain", "without hook"), ("hooked", "with hook")):
    v = s[k]; print(f"| {label} | {v['median']:.1f} | {v['mean']:.1f} | {v['min']:.1f} | {v['max']:.1f} | {v['n']} |")
print(f"| **added** (difference of medians) | **{added:.1f}** | {s['hooked']['mean'] - s['plain']['mean']:.1f} | | | |\n")
print(f"Target: the hook adds under 50 ms to a push — **{'met' if added < 50 else 'NOT met'}** ({added:.1f} ms).\n")
print(f"Runs: {len(pushed['hooked'])} commits pushed to the hooked repository ({expected} expected, warmups included),")
print(f"{len(runs)} runs recorded ({statuses or 'none'}); {'one run per push' if ok else 'MISMATCH'}"
      + (f", {len(missing)} pushed commits without a run" if missing else "") + ".")
print("<!-- hook:end -->")
PY

python3 - bench/RESULTS.md "$T/section.md" <<'PY'
import os, re, sys
path, section = sys.argv[1], open(sys.argv[2]).read().rstrip("\n")
text = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
pattern = re.compile(r"<!-- hook:begin -->.*?<!-- hook:end -->", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
cat "$T/section.md"
