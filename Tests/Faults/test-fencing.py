#!/usr/bin/env python3
"""Issue 16, item 3: a paused owner never runs a step another runner has taken over.

`runner apply` (lease 3 s: RUNNER_LEASE=3) is stopped with SIGSTOP while its first step runs,
for longer than its lease; `runner runs resume` takes the run over and finishes its second
step; then the first runner gets SIGCONT. It must launch nothing more, stop what it still
runs, and exit with a clear message (RUN4007, exit 3), while the run finishes under the
runner that took it over, each step after the first run once."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import Checks, Work, chain  # noqa: E402

checks = Checks()
check = checks.check
work = Work("fencing", {"four.yaml": chain("four", 4, 1.5)})
env = {"RUNNER_LEASE": "3"}


def wait_until(predicate, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def show(run_id):
    out = work.cli("runs", "show", run_id, "--json")
    return json.loads(out.stdout) if out.returncode == 0 else None


try:
    first = work.popen("apply", os.path.join(work.pipelines, "four.yaml"), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check("the first runner starts s1", wait_until(lambda: work.counts().get("s1") == 1))
    os.kill(first.pid, signal.SIGSTOP)
    time.sleep(4.5)  # past the 3 s lease
    listed = json.loads(work.cli("runs", "list", "--json").stdout)
    run_id = (listed if isinstance(listed, list) else listed["runs"])[0]["id"]
    second = work.popen("runs", "resume", run_id, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    took_over = wait_until(lambda: (show(run_id) or {}).get("steps", [{}] * 2)[1].get("status") == "succeeded", 30)
    check("the second runner takes the run over and records s2 succeeded", took_over)
    os.kill(first.pid, signal.SIGCONT)
    try:
        out, err = first.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        first.kill()
        out, err = first.communicate()
    check("the paused runner exits 3 once it wakes", first.returncode == 3, f"exit {first.returncode}\n{err[-1500:]}")
    check("it says another runner took the run over (RUN4007)", "RUN4007" in err and "taken over" in err, err[-1500:])
    try:
        out2, err2 = second.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        second.kill()
        out2, err2 = second.communicate()
    check("the runner that took it over finishes it", second.returncode == 0, f"exit {second.returncode}\n{err2[-1500:]}")
    final = show(run_id)
    check("the run succeeded", final and final["status"] == "succeeded", final and final["status"])
    counts = work.counts()
    check("s2, s3 and s4 ran exactly once (the paused runner launched none of them)",
          all(counts.get(f"s{i}") == 1 for i in (2, 3, 4)) and counts.get("s1", 0) <= 2, f"{counts}")
finally:
    work.cleanup()
sys.exit(1 if checks.failed else 0)
