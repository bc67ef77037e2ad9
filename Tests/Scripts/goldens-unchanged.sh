#!/usr/bin/env bash
# Re-records every golden file into the working tree (RECORD_GOLDENS=1: the rendered
# diagnostics of Tests/Fixtures/pipelines, the help snapshots of Tests/Fixtures/cli, the
# scenario results of Tests/Fixtures/scenarios, docs/DIAGNOSTICS.md) and fails with the diff
# when the recording changed any of them: a change that alters a golden re-records it and is
# reviewed with it. The suites that record are the ones declared in the test files that read
# RECORD_GOLDENS, so a new golden test is covered without editing this script.
#
# What the recording is compared with is the goldens as they were in the working tree before
# it (kept in a temporary git index; the repository's own index is not touched), so
# uncommitted goldens are checked as they stand. On success the tree is as it was; on failure
# the re-recorded files stay for review (`git diff`), to commit or to check out again.
# Outside a git checkout there is nothing to diff against: it says so and skips.
#
# Usage: Tests/Scripts/goldens-unchanged.sh   (after `swift build --build-tests`; SWIFT=swift)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 2
SWIFT=${SWIFT:-swift}
GOLDENS=(Tests/Fixtures docs/DIAGNOSTICS.md)

if ! command -v git >/dev/null || ! git rev-parse --is-inside-work-tree >/dev/null 2>&1 \
   || ! git ls-files --error-unmatch -- "${GOLDENS[@]}" >/dev/null 2>&1; then
  echo "goldens-unchanged: skipped: $ROOT is not a git checkout, so there is nothing to diff the goldens against"
  exit 0
fi

suites=$(grep -l RECORD_GOLDENS Tests/*/*.swift | xargs sed -nE 's/^@Suite.* struct ([A-Za-z0-9_]+).*/\1/p' | paste -sd'|')
if [ -z "$suites" ]; then
  echo "goldens-unchanged: no test suite reads RECORD_GOLDENS" >&2
  exit 2
fi

index=$(mktemp "${TMPDIR:-/tmp}/goldens-index.XXXXXX")
trap 'rm -f -- "$index"' EXIT
real_index=$(git rev-parse --git-path index)
if [ -f "$real_index" ]; then cp -- "$real_index" "$index"; else rm -f -- "$index"; fi
export GIT_INDEX_FILE=$index
git add -A -- "${GOLDENS[@]}" || exit 2

echo "goldens-unchanged: re-recording ($suites)"
if ! RECORD_GOLDENS=1 "$SWIFT" test --skip-build --filter "$suites" >"$index.log" 2>&1; then
  tail -40 "$index.log"
  rm -f -- "$index.log"
  echo "goldens-unchanged: the tests failed while re-recording" >&2
  exit 1
fi
rm -f -- "$index.log"

# Goldens the recording created: shown in the diff as new files.
git ls-files -z --others --exclude-standard -- "${GOLDENS[@]}" | xargs -0 -r git add -N --
if ! git diff --quiet -- "${GOLDENS[@]}"; then
  git --no-pager diff --stat -- "${GOLDENS[@]}"
  git --no-pager diff -- "${GOLDENS[@]}" | head -200
  echo "goldens-unchanged: re-recording changed the goldens above; review them (git diff) and commit them" \
       "with the change that altered them, or check them out again" >&2
  exit 1
fi
echo "goldens-unchanged: every golden re-recorded, none changed"
