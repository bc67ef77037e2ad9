#!/usr/bin/env -S python3 -B
"""Issue 16, item 10: a backward step of the wall clock (-30 s, as NTP or an operator may set
it) neither stalls a run nor lets a step outlive its timeout.

`runner apply` runs under libfaketime with only the wall clock faked (the monotonic clock is
left alone, as a real clock step leaves it). Once the first step has started, the wall clock
is stepped back 30 s. The second step fails once and is retried after its 2 s backoff; the
third has a 3 s timeout and sleeps 30 s. The retry must come after about 2 s and the timeout
must stop the third step after about 3 s: the whole run takes well under the 30 s step."""
import os
import subprocess
import sys
import time

from faults import FaultWork, check, checks, communicate, wait_until

LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
PIPELINE = """version: 1
name: clock
steps:
  - name: first
    run: echo first >> "$COUNT_FILE"; sleep 1
  - name: flaky
    needs: [first]
    retry: {attempts: 2, backoff: {initial: 2s, factor: 1, max: 2s}}
    run: |
      echo flaky >> "$COUNT_FILE"
      [ -e "$COUNT_FILE.flaky" ] && exit 0
      touch "$COUNT_FILE.flaky"; exit 1
  - name: slow
    needs: [flaky]
    timeout: 3s
    error: SLOW_STEP
    run: echo slow >> "$COUNT_FILE"; sleep 30
"""
if not os.path.exists(LIB):
    print(f"  FAIL  libfaketime is installed ({LIB}; Debian package faketime)")
    sys.exit(1)
with FaultWork("clock-step", {"clock.yaml": PIPELINE}) as work:
    offset = work.write("offset", "+0s\n")
    env = {"LD_PRELOAD": LIB, "FAKETIME_TIMESTAMP_FILE": offset, "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    started = time.monotonic()
    apply = work.popen("apply", os.path.join(work.pipelines, "clock.yaml"), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: "first" in work.counts(), 20, interval=0.05)
    work.write("offset", "-30s\n")
    out, err = communicate(apply, 60)
    took = time.monotonic() - started
    check("the run ends (failed: the slow step timed out)", apply.returncode == 1, f"exit {apply.returncode}\n{err[-1000:]}")
    check("it took well under the 30 s the clock stepped back", took < 20, f"{took:.1f} s")
    counts = work.counts()
    check("the flaky step was retried once", counts.get("flaky") == 2, counts)
    shown = work.show(work.runs()[0]["id"])
    slow = [a for a in shown.get("attempts", []) if a.get("step") == "slow"]
    check("the slow step was stopped by its timeout", slow and slow[0].get("timed_out") is True and
          next((s for s in shown["steps"] if s["name"] == "slow"), {}).get("error_code") == "SLOW_STEP", slow)
checks.finish("test-clock-step")
