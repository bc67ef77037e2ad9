#!/usr/bin/env bash
# The HTTP API under load, with wrk on loopback: GET /api/v1/runs/{id} throughput and p99 at 50
# connections, the same run through a pipeline's contract route (a response template, a status
# vocabulary, a time format, a step loop), launches/s of a one-step pipeline, and the server's
# peak RSS with 200 runs in flight. Writes its section of bench/RESULTS.md (<!-- serve:begin --> … <!-- serve:end -->).
# Usage: bench/serve.sh [RUNNER]   (default .build/release/runner)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNNER=${1:-.build/release/runner}
case $RUNNER in /*) ;; *) RUNNER=$ROOT/$RUNNER ;; esac
[ -x "$RUNNER" ] || { echo "bench/serve.sh: no runner at $RUNNER (make release)" >&2; exit 2; }
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || { echo "bench/serve.sh: wrk is required (Debian wrk)" >&2; exit 2; }; }
DURATION=${DURATION:-10}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-serve.XXXXXX")
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
mkdir -p "$WORK/pipelines"
cat > "$WORK/pipelines/noop.yaml" <<'EOF'
version: 1
name: noop
api:
  time_format: "yyyy-MM-dd'T'HH:mm:ss.SSSxxx"
  statuses:
    run: {queued: RUNNING, running: RUNNING, waiting: RUNNING, rollback_pending: RUNNING, succeeded: COMPLETED,
          failed: FAILED, partial: FAILED, cancelled: CANCELED, rolled_back: FAILED, skipped: CANCELED}
  routes:
    - method: GET
      path: /api/jobs/{jobId}
      operation: show
      response:
        jobId: run.id
        uid: run.actor
        type: "'noop'"
        status: run.status
        progress: "run.status == 'RUNNING' ? run.progress : 100"
        startTime: run.created_at
        endTime: run.finished_at
        errorMessage: "run.status == 'FAILED' ? run.error_message : null"
        output: run.progress_message ?? ''
        steps: {for_each: steps, item: {name: step.name, status: step.status}}
steps:
  - {name: step, run: "true"}
EOF
cat > "$WORK/pipelines/sleeper.yaml" <<'EOF'
version: 1
name: sleeper
steps:
  - {name: step, run: "sleep 20"}
EOF
export RUNNER_HOME=$WORK/home
TOKEN=$("$RUNNER" token create --role operator --name bench 2>/dev/null)
"$RUNNER" serve --pipelines "$WORK/pipelines" --listen 127.0.0.1:0 --threads "$(nproc)" --shutdown-grace 0s > "$WORK/serve.out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break; sleep 0.05; done
PORT=$(grep -o '127\.0\.0\.1:[0-9]*' "$WORK/serve.out" | cut -d: -f2)
URL=http://127.0.0.1:$PORT
AUTH="Authorization: Bearer $TOKEN"

# A finished run to read.
RUN=$(curl -s -H "$AUTH" -X POST "$URL/api/v1/pipelines/noop/runs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
for _ in $(seq 100); do curl -s -H "$AUTH" "$URL/api/v1/runs/$RUN" | grep -q '"status" : "succeeded"' && break; sleep 0.05; done

wrk_figures() {  # requests/s and p99 (ms) from wrk --latency output
  python3 -c '
import re, sys
text = sys.stdin.read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{rps:.0f} {p99:.1f} {non2xx.group(1) if non2xx else 0}")'
}

echo "bench/serve.sh: GET /api/v1/runs/{id}, 50 connections, ${DURATION}s" >&2
read -r GET_RPS GET_P99 GET_BAD < <(wrk -t2 -c50 -d"${DURATION}s" --latency -H "$AUTH" "$URL/api/v1/runs/$RUN" | wrk_figures)

echo "bench/serve.sh: GET /api/jobs/{jobId} (the contract route), 50 connections, ${DURATION}s" >&2
curl -sf -H "$AUTH" "$URL/api/jobs/$RUN" | grep -q '"status" : "COMPLETED"' || { echo "bench/serve.sh: the contract route does not answer" >&2; exit 1; }
read -r CONTRACT_RPS CONTRACT_P99 CONTRACT_BAD < <(wrk -t2 -c50 -d"${DURATION}s" --latency -H "$AUTH" "$URL/api/jobs/$RUN" | wrk_figures)
CONTRACT_RATIO=$(python3 -c "print(f'{$CONTRACT_RPS / $GET_RPS:.2f}')")

echo "bench/serve.sh: POST /api/v1/pipelines/noop/runs, 10 connections, 5s" >&2
cat > "$WORK/post.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"params": {}}'
wrk.headers["Content-Type"] = "application/json"
EOF
read -r POST_RPS POST_P99 POST_BAD < <(wrk -t2 -c10 -d5s --latency -s "$WORK/post.lua" -H "$AUTH" "$URL/api/v1/pipelines/noop/runs" | wrk_figures)
# Let the launched runs drain before the memory part.
for _ in $(seq 600); do
  curl -s -H "$AUTH" "$URL/healthz" | grep -q '"executing" : 0' && break; sleep 0.1
done
LAUNCHED=$(sqlite3 "$RUNNER_HOME/state.db" "SELECT count(*) FROM runs WHERE pipeline = 'noop'")
SUCCEEDED=$(sqlite3 "$RUNNER_HOME/state.db" "SELECT count(*) FROM runs WHERE pipeline = 'noop' AND status = 'succeeded'")

echo "bench/serve.sh: 200 runs in flight" >&2
python3 - "$URL" "$TOKEN" <<'EOF'
import concurrent.futures, sys, urllib.request
url, token = sys.argv[1], sys.argv[2]
def launch(_):
    req = urllib.request.Request(f"{url}/api/v1/pipelines/sleeper/runs", data=b'{"params": {}}', method="POST")
    req.add_header("Authorization", f"Bearer {token}")
    return urllib.request.urlopen(req, timeout=30).status
with concurrent.futures.ThreadPoolExecutor(20) as pool:
    assert all(s == 202 for s in pool.map(launch, range(200)))
EOF
for _ in $(seq 100); do
  n=$(curl -s -H "$AUTH" "$URL/api/v1/runs?pipeline=sleeper&status=running&limit=1000" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))')
  [ "$n" -ge 200 ] && break; sleep 0.1
done
RUNNING=$n
RSS_MB=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER_PID/status")
NOW_MB=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER_PID/status")
for id in $(curl -s -H "$AUTH" "$URL/api/v1/runs?pipeline=sleeper&limit=1000" | python3 -c 'import json,sys; print(" ".join(r["id"] for r in json.load(sys.stdin)["runs"]))'); do
  curl -s -o /dev/null -H "$AUTH" -X POST "$URL/api/v1/runs/$id/cancel"
done

verdict() { python3 -c "import sys; print('met' if $1 else 'not met')"; }
section=$(cat <<EOF
<!-- serve:begin -->
## HTTP API under load (wrk, loopback)

Produced by \`bench/serve.sh ${1:-.build/release/runner}\` on $(date -u '+%Y-%m-%d %H:%M') UTC — $(nproc) cores, Linux $(uname -r),
$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); 1-minute load average $(cut -d' ' -f1 /proc/loadavg) at the end. The server runs with
\`--threads $(nproc)\`, a bearer token on every request (SHA-256 + SQLite lookup each time), state in SQLite.

| measure | result | target | |
| --- | --- | --- | --- |
| \`GET /api/v1/runs/{id}\` (a finished one-step run), 50 connections, ${DURATION} s | ${GET_RPS} req/s, p99 ${GET_P99} ms (${GET_BAD} non-2xx) | ≥ 5,000 req/s, p99 < 20 ms | $(verdict "$GET_RPS >= 5000 and $GET_P99 < 20") |
| \`GET /api/jobs/{jobId}\`, the same run through a contract route (template of 10 fields, status words, time format, a step loop), 50 connections, ${DURATION} s | ${CONTRACT_RPS} req/s, p99 ${CONTRACT_P99} ms (${CONTRACT_BAD} non-2xx): ${CONTRACT_RATIO}× the generic route | ≥ 0.90× the generic route, ≥ 5,000 req/s, p99 < 20 ms | $(verdict "$CONTRACT_RPS >= 0.9 * $GET_RPS and $CONTRACT_RPS >= 5000 and $CONTRACT_P99 < 20") |
| \`POST /api/v1/pipelines/noop/runs\` (one step \`true\`), 10 connections, 5 s | ${POST_RPS} launches/s accepted, p99 ${POST_P99} ms (${POST_BAD} non-2xx); ${LAUNCHED} runs recorded, ${SUCCEEDED} succeeded once drained | ≥ 200 launches/s | $(verdict "$POST_RPS >= 200") |
| server peak RSS with ${RUNNING} runs in flight (\`sleep 20\` each) | ${RSS_MB} MB (the peak since the server started, launch test included; ${NOW_MB} MB at that moment) | < 100 MB | $(verdict "$RSS_MB < 100") |
<!-- serve:end -->
EOF
)
echo "$section"
results=$ROOT/bench/RESULTS.md
python3 - "$results" "$section" <<'EOF'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
if "<!-- serve:begin -->" in text:
    text = re.sub(r"<!-- serve:begin -->.*?<!-- serve:end -->", lambda _: section, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
EOF
