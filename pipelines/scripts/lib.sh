# Shared helpers for the example pipelines' steps. Sourced, never executed.
# Values from outside reach scripts only as environment variables: quote every expansion,
# never eval, and confine paths with safe_relpath.

# Next to the pipelines' folder, also when a step runs in a run's workspace (a checkout).
DEMO_ROOT=${DEMO_ROOT:-${RUNNER_PIPELINE_DIR:-.}/../.demo}

die() {
  printf '%s: error: %s\n' "${RUNNER_STEP:-step}" "$1" >&2
  exit "${2:-1}"
}

# Fails the step when its name is listed in INJECT_FAIL (comma-separated), for tests and
# demos; with INJECT_FAIL_TIMES=N only attempts 1..N fail, so a retry then succeeds.
# inject_failure MESSAGE [EXIT_CODE]
inject_failure() {
  local step=${RUNNER_STEP:-}
  step=${step%%\[*}
  case ",${INJECT_FAIL:-}," in
    *",$step,"*) ;;
    *) return 0 ;;
  esac
  if [ -n "${INJECT_FAIL_TIMES:-}" ] && [ "${RUNNER_ATTEMPT:-1}" -gt "$INJECT_FAIL_TIMES" ]; then
    return 0
  fi
  printf '%s: error: %s (injected by INJECT_FAIL)\n' "${RUNNER_STEP:-$step}" "${1:-injected failure}" >&2
  exit "${2:-1}"
}

# output KEY VALUE: records a step output (one line; the runner reads key=value lines).
output() {
  case "$2" in *$'\n'*) die "output $1 would span several lines" ;; esac
  if [ -n "${RUNNER_OUTPUT:-}" ]; then printf '%s=%s\n' "$1" "$2" >> "$RUNNER_OUTPUT"; fi
  printf 'output %s=%s\n' "$1" "$2"
}

# progress PERCENT [MESSAGE]: the runner shows the last line of RUNNER_PROGRESS.
progress() {
  if [ -n "${RUNNER_PROGRESS:-}" ]; then printf '%s %s\n' "$1" "${2:-}" >> "$RUNNER_PROGRESS"; fi
}

# safe_relpath VALUE NAME: accepts only relative paths of [A-Za-z0-9._-] segments, none of
# them '.' or '..'; anything else ends the step with exit 4 and a message on stderr.
safe_relpath() {
  local value=$1 name=$2
  case "$value" in
    "") die "invalid $name: the path is empty" 4 ;;
    /*) die "invalid $name '$value': an absolute path is not allowed" 4 ;;
  esac
  if ! printf '%s' "$value" | grep -Eq '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$'; then
    die "invalid $name '$value': only letters, digits, '.', '_', '-' and '/' between segments are allowed" 4
  fi
  case "/$value/" in
    */../*|*/./*) die "invalid $name '$value': '.' and '..' segments are not allowed" 4 ;;
  esac
}

# A per-run scratch directory under DEMO_ROOT: run_dir PIPELINE
run_dir() {
  local dir="$DEMO_ROOT/$1/runs/${RUNNER_RUN_ID:-manual}"
  mkdir -p "$dir"
  printf '%s' "$dir"
}

utc_now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
