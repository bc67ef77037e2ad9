#!/bin/sh
# One step of ledger.yaml. LEDGER_DIR comes from the crash test's environment.
set -u
name=$(printf '%s' "$RUNNER_STEP" | tr -c 'A-Za-z0-9_\n' '_')
exec 9>>"$LEDGER_DIR/$RUNNER_RUN_ID.$name.lock"
if ! flock -n 9; then
  # An earlier attempt of this very step is still running: the violation the test looks for.
  echo "overlap $RUNNER_RUN_ID $RUNNER_STEP $RUNNER_ATTEMPT" >> "$LEDGER_DIR/ledger"
  flock 9
fi
echo "start $RUNNER_RUN_ID $RUNNER_STEP $RUNNER_ATTEMPT $$" >> "$LEDGER_DIR/ledger"
sleep "$NAP"
echo "value=$RUNNER_STEP" >> "$RUNNER_OUTPUT"
echo "end $RUNNER_RUN_ID $RUNNER_STEP $RUNNER_ATTEMPT $$" >> "$LEDGER_DIR/ledger"
