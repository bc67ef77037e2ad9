#!/usr/bin/env bash
# The process-level fault tests (issue 16): each Tests/Faults/test-* file is run with the
# runner binary as its only argument; every one must exit 0. Each prints its checks.
set -uo pipefail
# The binary's path is made absolute before the cd: make passes .build/debug/runner.
RUNNER="$(cd "$(dirname "${1:?usage: run-all.sh RUNNER}")" && pwd)/$(basename "$1")"
cd "$(dirname "$0")"
failed=()
for test in test-*; do
  [ -x "$test" ] || continue
  echo "== Tests/Faults/$test"
  start=$(date +%s)
  if ! "./$test" "$RUNNER"; then failed+=("$test"); fi
  echo "   ($(( $(date +%s) - start )) s)"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "faults: FAILED: ${failed[*]}"
  exit 1
fi
echo "faults: all passed"
