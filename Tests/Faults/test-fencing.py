#!/usr/bin/env -S python3 -B
"""Issue 16, item 3: a paused owner never runs a step another runner has taken over.

`runner apply` (lease 3 s: RUNNER_LEASE=3) is stopped with SIGSTOP while its first step runs,
for longer than its lease; `runner runs resume` takes the run over and finishes its second
step; then the first runner gets SIGCONT. It must launch nothing more, stop what it still
runs, and exit with a clear message (RUN4007, exit 3), while the run finishes under the
runner that took it over, each step after the first run once."""
import os
import signal
import subprocess
import time

from faults import FaultWork, chain, check, checks, communicate, wait_until

env = {"RUNNER_LEASE": "3"}

with FaultWork("fencing", {"four.yaml": chain("four", 4, 1.5)}) as work:
    first = work.popen("apply", os.path.join(work.pipelines, "four.yaml"), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check("the first runner starts s1", wait_until(lambda: work.counts().get("s1") == 1, interval=0.05))
    os.kill(first.pid, signal.SIGSTOP)
    time.sleep(4.5)  # past the 3 s lease
    run_id = work.runs()[0]["id"]
    second = work.popen("runs", "resume", run_id, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    took_over = wait_until(lambda: work.show(run_id).get("steps", [{}] * 2)[1].get("status") == "succeeded", 30,
                           interval=0.05)
    check("the second runner takes the run over and records s2 succeeded", took_over)
    os.kill(first.pid, signal.SIGCONT)
    out, err = communicate(first, 20)
    check("the paused runner exits 3 once it wakes", first.returncode == 3, f"exit {first.returncode}\n{err[-1500:]}")
    check("it says another runner took the run over (RUN4007)", "RUN4007" in err and "taken over" in err, err[-1500:])
    out2, err2 = communicate(second, 40)
    check("the runner that took it over finishes it", second.returncode == 0, f"exit {second.returncode}\n{err2[-1500:]}")
    final = work.show(run_id)
    check("the run succeeded", final and final["status"] == "succeeded", final and final["status"])
    counts = work.counts()
    check("s2, s3 and s4 ran exactly once (the paused runner launched none of them)",
          all(counts.get(f"s{i}") == 1 for i in (2, 3, 4)) and counts.get("s1", 0) <= 2, f"{counts}")
checks.finish("test-fencing")
