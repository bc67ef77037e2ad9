#!/usr/bin/env bash
# Benchmark: running DAGs of trivial steps (every command is `true`) with `runner apply`, side
# by side in one hyperfine invocation per workload with ninja, GNU make, go-task and the spawn
# floor (a C program that posix_spawns `/bin/sh -c true` once per step, at most 2 at a time,
# layer by layer). All at parallelism 2. Peak RSS by GNU time (median of 3 runs).
# Replaces the section between <!-- dag:begin --> and <!-- dag:end --> in bench/RESULTS.md.
#
# Usage, from the repo root:  bench/run.sh [RUNNER_BINARY]
#   RUNNER_BINARY  default .build/release/runner; never built here
#   RUNS=N         hyperfine runs for W1-W3 (default 10; W4 always gets 30)
#   ROUNDS=N       split each workload's runs into N rounds, every tool in each (default 5)
#   TASK_W3_RUNS=N go-task on W3 (default 1, no warmup: 30-75 s and about 4.4 GB a run)
#   BASELINE=PATH  another runner binary (e.g. main's before a change), timed beside RUNNER in
#                  every round as "runner (before)", with its own ratio and peak RSS
set -euo pipefail
RUNNER=${1:-}
case "$RUNNER" in "" | /*) ;; *) RUNNER=$PWD/$RUNNER ;; esac
cd "$(dirname "$0")/.."
RUNNER=${RUNNER:-$PWD/.build/release/runner}
RUNS=${RUNS:-10}
ROUNDS=${ROUNDS:-5}
TASK_W3_RUNS=${TASK_W3_RUNS:-1}
BASELINE=${BASELINE:-}
case "$BASELINE" in "" | /*) ;; *) BASELINE=$PWD/$BASELINE ;; esac
command_line="bench/run.sh${1:+ $1}"
[ -x "$RUNNER" ] || { echo "bench: no runner binary at $RUNNER (make release builds it)" >&2; exit 64; }
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || { echo "bench: no baseline binary at $BASELINE" >&2; exit 64; }
binary_id() { echo "$(sha256sum "$RUNNER" | cut -c1-12), $(( $(stat -c %s "$RUNNER") / 1000000 )) MB, built $(date -u -r "$RUNNER" '+%Y-%m-%d %H:%M') UTC"; }
binary_before=$(binary_id)  # the binary is someone's build output: note which one was measured
load_before=$(cut -d' ' -f1 /proc/loadavg)   # other work on the machine makes every number noisy
awk -v l="$load_before" 'BEGIN { exit !(l > 0.5) }' && echo "bench: warning: load average $load_before at start: the machine is not quiet" >&2

# --- what is missing -------------------------------------------------------------------------
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
need=""
command -v ninja >/dev/null || need="$need ninja-build"
command -v hyperfine >/dev/null || need="$need hyperfine"
command -v make >/dev/null || need="$need make"
command -v cc >/dev/null || need="$need gcc"
[ -x /usr/bin/time ] || need="$need time"
if [ -n "$need" ]; then
  echo "bench: installing$need"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need
fi
# go-task's `task` binary, by its real path: pip puts it in the interpreter's scripts dir (or
# ~/.local/bin), and a `task` found on PATH may be a pyenv shim, a bash script costing ~200 ms.
find_task() {
  local dir
  for dir in "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')" "$(python3 -m site --user-base)/bin"; do
    [ -x "$dir/task" ] && { echo "$dir/task"; return; }
  done
  command -v task || true
}
TASK=$(find_task)
if [ -z "$TASK" ]; then
  echo "bench: installing go-task-bin"
  python3 -m pip install -q go-task-bin || python3 -m pip install -q --break-system-packages go-task-bin
  TASK=$(find_task)
fi
"$TASK" --version >/dev/null

out=bench/out gen=bench/gen/dag check=bench/gen/dag-check
mkdir -p "$out" "$gen"
export RUNNER_HOME=$PWD/$out/dag-state   # the runner's store; emptied before every timed run

# --- the spawn floor -------------------------------------------------------------------------
cat > "$out/spawn_floor.c" <<'C'
/* spawn_floor [-j P] LxW...: posix_spawn `/bin/sh -c true` L layers of W times, at most P
   running at once; every layer waits for the whole previous one (what a DAG's needs impose). */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
extern char **environ;
static int running;
static void reap(void) {
  int status;
  if (wait(&status) < 0) { perror("wait"); exit(1); }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { fprintf(stderr, "child failed\n"); exit(1); }
  running--;
}
int main(int argc, char **argv) {
  int jobs = 1, i = 1;
  char *args[] = {"sh", "-c", "true", NULL};
  if (argc > 2 && strcmp(argv[1], "-j") == 0) { jobs = atoi(argv[2]); i = 3; }
  for (; i < argc; i++) {
    long layers, width;
    if (sscanf(argv[i], "%ldx%ld", &layers, &width) != 2) { fprintf(stderr, "usage: spawn_floor [-j P] LxW...\n"); return 64; }
    for (long l = 0; l < layers; l++) {
      for (long w = 0; w < width; w++) {
        pid_t pid;
        if (running == jobs) reap();
        int e = posix_spawn(&pid, "/bin/sh", NULL, NULL, args, environ);
        if (e) { fprintf(stderr, "posix_spawn: %s\n", strerror(e)); return 1; }
        running++;
      }
      while (running) reap();
    }
  }
  return 0;
}
C
cc -O2 -o "$out/spawn_floor" "$out/spawn_floor.c"
declare -A floor=([w1]=1000x1 [w2]=1x1000 [w3]=10x100 [w4]="1x1 1x4 1x1")

# Untimed, before every timed run: an empty runner store and no ninja log.
cat > "$out/dag-prepare.sh" <<'SH'
#!/bin/sh
rm -rf "$RUNNER_HOME" "bench/gen/dag/$1/.ninja_log" && mkdir -p "$RUNNER_HOME"
SH
chmod +x "$out/dag-prepare.sh"

# --- the workloads, checked ------------------------------------------------------------------
python3 bench/gen_dag.py --out "$gen"
for w in w1 w2 w3 w4 w5; do "$RUNNER" validate "$gen/$w/pipeline.yaml" >/dev/null; done

run_tool() {  # run_tool TOOL DIR: one run of TOOL on the workload in DIR, output discarded
  case $1 in
    runner) timeout 300 "$RUNNER" apply "$2/pipeline.yaml" -j 2 --json ;;
    ninja) ninja -C "$2" -j 2 ;;
    make) make -s -j2 -C "$2" ;;
    go-task) "$TASK" -d "$2" --concurrency 2 -s ;;
  esac >/dev/null
}

# Every tool runs every step exactly once, after its needs: the same DAGs with a command that
# appends the step's name to a log. go-task on W3 is left out here (about 70 s a run).
echo "bench: checking that every tool runs every step once, in order"
python3 bench/gen_dag.py --out "$check" --cmd '/bin/echo $STEP >> "$COUNT_FILE"' --only w1,w2,w3,w4 >/dev/null
for w in w1 w2 w3 w4; do
  for tool in runner ninja make go-task; do
    [ "$w/$tool" = w3/go-task ] && continue
    export COUNT_FILE=$PWD/$check/$w/$tool.log
    rm -rf "$COUNT_FILE" "$RUNNER_HOME" "$check/$w/.ninja_log"
    run_tool "$tool" "$check/$w" || { echo "bench: $tool failed on $w" >&2; exit 1; }
    python3 bench/gen_dag.py --check "$COUNT_FILE" --only "$w" >/dev/null || { python3 bench/gen_dag.py --check "$COUNT_FILE" --only "$w"; exit 1; }
  done
done
unset COUNT_FILE

# --- wall time -------------------------------------------------------------------------------
# The machine's speed drifts (other tenants of the host): one block of runs per tool, one tool
# after the other, let a drift of a few percent fall between two tools. So a workload's runs
# are split into rounds, each a hyperfine invocation running every tool in turn; the rounds'
# runs are pooled per tool (`dag-W.rK.json`), and a drift touches every tool alike.
bench() {  # bench W RUNS WARMUP TOOL...: RUNS runs of every TOOL on workload W, in ROUNDS rounds
  local w=$1 runs=$2 warmup=$3; shift 3
  rm -f "$out"/dag-"$w".r*.json
  local rounds=$ROUNDS
  [ "$runs" -ge "$rounds" ] || rounds=$runs
  local k
  for k in $(seq 1 "$rounds"); do
    # Runs shared out over the rounds (the first ones take the remainder); warmup in the first.
    local n=$(( runs / rounds + (k <= runs % rounds ? 1 : 0) ))
    bench_round "$w" "$n" "$([ "$k" = 1 ] && echo "$warmup" || echo 0)" "$out/dag-$w.r$k.json" "$@"
  done
}
bench_round() {  # bench_round W RUNS WARMUP JSON TOOL...: one hyperfine invocation
  local w=$1 runs=$2 warmup=$3 json=$4; shift 4
  local args=()
  for tool in "$@"; do
    case $tool in
      runner) args+=(-n runner "$RUNNER apply $gen/$w/pipeline.yaml -j 2 --json") ;;
      baseline) args+=(-n "runner (before)" "$BASELINE apply $gen/$w/pipeline.yaml -j 2 --json") ;;
      ninja) args+=(-n ninja "ninja -C $gen/$w -j 2") ;;
      make) args+=(-n make "make -s -j2 -C $gen/$w") ;;
      go-task) args+=(-n go-task "$TASK -d $gen/$w --concurrency 2 -s") ;;
      go-task-rss) json=$out/dag-$w-go-task.json  # wall time and peak RSS from the same run
        args+=(-n go-task "/usr/bin/time -o $out/dag-rss-go-task-$w.txt -f %M $TASK -d $gen/$w --concurrency 2 -s") ;;
      floor) args+=(-n "spawn floor" "$out/spawn_floor -j 2 ${floor[$w]}") ;;
    esac
  done
  echo "bench: $w ($*; $runs run(s))"
  hyperfine -N --style basic --warmup "$warmup" --runs "$runs" --prepare "$out/dag-prepare.sh $w" \
    --export-json "$json" "${args[@]}" &
  local hf=$!
  # A runner that hangs (a run seen once stuck in `running` after its last step exited) would
  # stall hyperfine for ever: kill such a child of this hyperfine after 300 s, so it fails.
  ( while sleep 10; do
      ps -o pid=,etimes=,comm= --ppid "$hf" | while read -r pid secs comm; do
        if [ "$comm" = runner ] && [ "$secs" -gt 300 ]; then
          echo "bench: runner $pid hung for ${secs}s: killing it" >&2; kill "$pid" || true
        fi
      done || true
    done ) &
  local dog=$!
  local rc=0
  wait "$hf" || rc=$?
  kill "$dog" 2>/dev/null || true; wait "$dog" 2>/dev/null || true
  [ "$rc" = 0 ] || { echo "bench: hyperfine failed on $w (exit $rc)" >&2; exit 1; }
}
started=$(date +%s)
B=${BASELINE:+baseline}
bench w1 "$RUNS" 1 runner $B ninja make go-task floor
bench w2 "$RUNS" 1 runner $B ninja make go-task floor
bench w3 "$RUNS" 1 runner $B ninja make floor
bench_round w3 "$TASK_W3_RUNS" 0 "$out/dag-w3-go-task.json" go-task-rss
bench w4 30 1 runner $B ninja make go-task floor

# --- peak RSS (KB, median of 3) --------------------------------------------------------------
rss_kb() {  # rss_kb W TOOL
  local file=$out/dag-time.txt
  for _ in 1 2 3; do
    "$out/dag-prepare.sh" "$1"
    case $2 in
      runner) /usr/bin/time -o "$file" -f '%x %M' "$RUNNER" apply "$gen/$1/pipeline.yaml" -j 2 --json ;;
      baseline) /usr/bin/time -o "$file" -f '%x %M' "$BASELINE" apply "$gen/$1/pipeline.yaml" -j 2 --json ;;
      ninja) /usr/bin/time -o "$file" -f '%x %M' ninja -C "$gen/$1" -j 2 ;;
      make) /usr/bin/time -o "$file" -f '%x %M' make -s -j2 -C "$gen/$1" ;;
    esac >/dev/null || { echo "bench: $2 failed on $1" >&2; exit 1; }
    tail -1 "$file" | cut -d' ' -f2
  done | sort -n | sed -n 2p
}
echo "bench: peak RSS"
rss=$out/dag-rss.tsv
: > "$rss"
for wt in w1/runner w3/runner w3/ninja w3/make w5/runner w5/ninja ${BASELINE:+w3/baseline w5/baseline}; do
  kb=$(rss_kb "${wt%/*}" "${wt#*/}")
  printf '%s\t%s\t%s\n' "${wt%/*}" "${wt#*/}" "$kb" >> "$rss"
done
printf 'w3\tgo-task\t%s\n' "$(cat "$out/dag-rss-go-task-w3.txt")" >> "$rss"
load_after=$(cut -d' ' -f1 /proc/loadavg)
binary_after=$(binary_id)
[ "$binary_after" = "$binary_before" ] || echo "bench: warning: $RUNNER changed during the benchmark ($binary_before, then $binary_after)" >&2
echo "bench: timed part took $(( $(date +%s) - started )) s"

# --- bench/RESULTS.md ------------------------------------------------------------------------
section=$out/dag-section.md
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Package.swift || echo ' with uncommitted changes in Sources/')"
export BINARY="\`${RUNNER#$PWD/}\` (sha256 $binary_before; working tree at $commit)"
[ "$binary_after" = "$binary_before" ] || BINARY="$BINARY — CHANGED during the benchmark, to sha256 $binary_after: numbers mix two binaries"
command_line="${BASELINE:+BASELINE=${BASELINE#$PWD/} }$command_line"
export BASELINE_ID=""
[ -z "$BASELINE" ] || BASELINE_ID="\`${BASELINE#$PWD/}\` (sha256 $(sha256sum "$BASELINE" | cut -c1-12))"
export COMMAND_LINE=$command_line RUNS ROUNDS TASK_W3_RUNS LOAD="$load_before at the start, $load_after at the end"
export MACHINE="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"
export VERSIONS="$("$RUNNER" --version | cut -d' ' -f1-2), ninja $(ninja --version), $(make --version | head -1), go-task $("$TASK" --version), $(hyperfine --version), $(readlink -f /bin/sh) as /bin/sh"
python3 - "$out" > "$section" <<'PY'
import datetime, glob, json, os, statistics, sys
out = sys.argv[1]
baseline = bool(os.environ.get("BASELINE_ID"))
tools = ["runner"] + (["runner (before)"] if baseline else []) + ["ninja", "make", "go-task", "spawn floor"]
res = {}
rounds = {}
for w in ["w1", "w2", "w3", "w4"]:
    # Every round's runs pooled per tool; the mean and σ are those of all of them.
    paths = sorted(glob.glob(f"{out}/dag-{w}.r*.json"), key=lambda p: int(p.rsplit(".r", 1)[1].split(".")[0]))
    rounds[w] = len(paths)
    for path in paths + [f"{out}/dag-{w}-go-task.json"]:
        if os.path.exists(path):
            for r in json.load(open(path))["results"]:
                res.setdefault((w, r["command"]), {"times": [], "rounds": []})
                res[(w, r["command"])]["times"] += r["times"]
                res[(w, r["command"])]["rounds"].append(statistics.mean(r["times"]))
for r in res.values():
    r["mean"] = statistics.mean(r["times"])
    r["stddev"] = statistics.stdev(r["times"]) if len(r["times"]) > 1 else 0.0
rss = {}
for line in open(f"{out}/dag-rss.tsv"):
    w, tool, kb = line.split()
    rss[(w, tool)] = int(kb) / 1024

def cell(w, tool):
    r = res.get((w, tool))
    if r is None:
        return "—"
    if len(r["times"]) == 1:
        return f"{r['mean'] * 1000:.0f} (1 run)"
    return f"{r['mean'] * 1000:.1f} ± {r['stddev'] * 1000:.1f}"

E = os.environ
runs, task_runs = E["RUNS"], int(E["TASK_W3_RUNS"])
print("<!-- dag:begin -->")
print("## Running a DAG of `true` steps\n")
print(f"Produced by `{E['COMMAND_LINE']}` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC — {E['MACHINE']};")
print(f"{E['VERSIONS']}. 1-minute load average: {E['LOAD']} (the benchmark itself keeps 2 cores busy).")
print(f"Binary measured: {E['BINARY']}" + (f"; beside it, as *runner (before)*, {E['BASELINE_ID']}." if baseline else ".") + "\n")
print("`bench/gen_dag.py` writes each workload as a runner pipeline, a `build.ninja` (edges whose")
print("outputs are never created, so all run every time), a `Makefile` (`.PHONY` targets) and a")
print("`Taskfile.yml` (`deps:`, `run: once`, no `sources:`). Every step's command is `true`; every")
print("tool runs at parallelism 2 (`runner apply -j 2 --json`, `ninja -j 2`, `make -j2`,")
print("`task --concurrency 2`, by its real path: a pyenv shim in front of it costs ~200 ms).")
print("Before each timed run (untimed, hyperfine `--prepare`) the runner's")
print("store (`RUNNER_HOME`) and ninja's `.ninja_log` are deleted, so every run starts empty; the")
print("runner records the run, each step and each attempt in SQLite, durably; of the peers only")
print("ninja keeps anything (a line per edge appended to `.ninja_log`).")
print("Before timing, the script runs the same DAGs with a command that appends the step's name to")
print("a log and checks that each tool ran every step exactly once and after its needs (go-task")
print("on W3 excepted, for time). *spawn floor* is a C program (built by the script) that")
print("`posix_spawn`s `/bin/sh -c true` once per step, at most 2 at a time, waiting for each layer")
print("before the next (W1: 1,000 layers of 1; W2: 1 of 1,000; W3: 10 of 100; W4: 1, 4, 1).\n")
print(f"Wall time, mean ± σ in ms (hyperfine `-N`, warmup 1, {runs} runs for W1–W3, 30 for W4; JSON in")
print(f"`bench/out/dag-*.json`). Each workload's runs are made in {E['ROUNDS']} rounds, every tool in turn in each")
print("(a hyperfine invocation per round), and pooled: the machine's speed drifts by a few percent")
print("over minutes, and rounds make a drift touch every tool alike instead of falling between two.")
print("The ratio's range is that of the rounds' own ratios.\n")
print("| workload | " + " | ".join(tools) + " | runner / ninja |" + (" runner / before |" if baseline else ""))
print("| --- |" + " --- |" * (len(tools) + 1 + baseline))
names = {"w1": "W1 chain of 1,000", "w2": "W2 1,000 independent", "w3": "W3 10 × 100, all-to-all between layers", "w4": "W4 diamond of 6"}
ratio = {}
for w in ["w1", "w2", "w3", "w4"]:
    ratio[w] = res[(w, "runner")]["mean"] / res[(w, "ninja")]["mean"]
    per_round = [a / b for a, b in zip(res[(w, "runner")]["rounds"], res[(w, "ninja")]["rounds"])]
    spread = f" ({min(per_round):.2f}–{max(per_round):.2f})" if len(per_round) > 1 else ""
    versus = ""
    if baseline:
        per = [a / b for a, b in zip(res[(w, "runner")]["rounds"], res[(w, "runner (before)")]["rounds"])]
        before = res[(w, "runner")]["mean"] / res[(w, "runner (before)")]["mean"]
        versus = f" {before:.2f}×" + (f" ({min(per):.2f}–{max(per):.2f})" if len(per) > 1 else "") + " |"
    print(f"| {names[w]} | " + " | ".join(cell(w, t) for t in tools) + f" | {ratio[w]:.2f}×{spread} |" + versus)
print()
task3 = res.get(("w3", "go-task"))
if task3:
    runs3 = "once, without warmup," if task_runs == 1 else f"{task_runs} times, without warmup,"
    print(f"go-task on W3 ran {runs3} in its own hyperfine invocation right after the others',")
    print("under GNU time, which gave its peak RSS too: on the 90,000 edges of W3 it took")
    print(f"{task3['mean']:.0f} s and {rss[('w3', 'go-task')] / 1024:.1f} GB a run.\n")
print("Peak RSS, MB (GNU time `%M`; median of 3 runs, go-task: its timed run):\n")
print("| workload | tool | peak RSS (MB) |\n| --- | --- | --- |")
rss_name = {"baseline": "runner (before)"}
for (w, tool), mb in sorted(rss.items(), key=lambda kv: (kv[0][0], tools.index(rss_name.get(kv[0][1], kv[0][1])))):
    tool = rss_name.get(tool, tool)
    label = {"w1": "W1", "w3": "W3", "w5": "W5 10,000 independent"}[w]
    print(f"| {label} | {tool} | {mb:.1f} |")
print()
w4 = res[("w4", "runner")]["mean"] * 1000
checks = [(f"{w.upper()}: runner within 1.2× of ninja in the same run", f"{ratio[w]:.2f}×", ratio[w] <= 1.2) for w in ["w1", "w2", "w3"]]
w4sd = res[("w4", "runner")]["stddev"] * 1000
checks.append(("W4: runner under 25 ms", f"{w4:.1f} ± {w4sd:.1f} ms", "met, narrowly: mean + σ is over" if w4 < 25 <= w4 + w4sd else w4 < 25))
checks.append(("W5: runner peak RSS under 50 MB at 10,000 steps", f"{rss[('w5', 'runner')]:.1f} MB", rss[("w5", "runner")] < 50))
print("Targets:\n\n| target | measured | result |\n| --- | --- | --- |")
for what, value, ok in checks:
    print(f"| {what} | {value} | {ok if isinstance(ok, str) else 'met' if ok else 'NOT met'} |")
print()
print("Not like for like: ninja and the runner run each step as `/bin/sh -c true`; make runs a")
print("recipe without shell metacharacters by exec'ing it directly (`true` from `PATH`); go-task")
print("interprets commands in process (mvdan/sh, where `true` is a builtin), so it starts no process")
print("for a step at all. go-task needs `run: once`: by default it runs a task once per task that")
print("depends on it (in the diamond, `a` ran 4 times).")
print("<!-- dag:end -->")
PY

results=bench/RESULTS.md
python3 - "$results" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], open(sys.argv[2]).read().rstrip("\n")
text = open(path).read() if __import__("os").path.exists(path) else "# Benchmark results\n"
pattern = re.compile(r"<!-- dag:begin -->.*?<!-- dag:end -->", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
PY
cat "$section"
