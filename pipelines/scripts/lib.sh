# Shared helpers for the example pipelines' steps. Sourced, never executed.
# Values from outside reach scripts only as environment variables: quote every expansion,
# never eval, and confine paths with safe_relpath.

DEMO_ROOT=${DEMO_ROOT:-../.demo}

die() {
  printf '%s: error: %s\n' "${RUNNER_STEP:-step}" "$*" >&2
  exit "${2:-1}"
}

# Fails the step when its name is listed in INJECT_FAIL (comma-separated), for tests and demos.
inject_failure() {
  local step=${RUNNER_STEP:-}
  step=${step%%\[*}
  case ",${INJECT_FAIL:-}," in
    *",$step,"*) printf '%s: error: %s (injected by INJECT_FAIL)\n' "$step" "${1:-injected failure}" >&2; exit "${2:-1}" ;;
  esac
}

# output KEY VALUE: records a step output (one line; the runner reads key=value lines).
output() {
  if [ -n "${RUNNER_OUTPUT:-}" ]; then printf '%s=%s\n' "$1" "$2" >> "$RUNNER_OUTPUT"; fi
  printf 'output %s=%s\n' "$1" "$2"
}

# progress PERCENT [MESSAGE]
progress() {
  if [ -n "${RUNNER_PROGRESS:-}" ]; then printf '%s %s\n' "$1" "${2:-}" >> "$RUNNER_PROGRESS"; fi
}

# safe_relpath VALUE NAME: accepts only relative paths of [A-Za-z0-9._-] segments, no '..'.
safe_relpath() {
  local value=$1 name=$2
  case "$value" in
    ""|/*) die "invalid $name '$value': an absolute or empty path is not allowed" 4 ;;
  esac
  if ! printf '%s' "$value" | grep -Eq '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$'; then
    die "invalid $name '$value': only letters, digits, '.', '_', '-' and '/' are allowed" 4
  fi
  case "/$value/" in
    */../*|*/./*) die "invalid $name '$value': '.' and '..' segments are not allowed" 4 ;;
  esac
}

# A per-run scratch directory under DEMO_ROOT.
run_dir() {
  local dir="$DEMO_ROOT/$1/runs/${RUNNER_RUN_ID:-manual}"
  mkdir -p "$dir"
  printf '%s' "$dir"
}
