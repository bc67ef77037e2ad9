#!/usr/bin/env -S python3 -B
"""Issue 16, item 2: when the store cannot record, `runner apply` launches nothing it cannot
record; it waits for the store (bounded), then stops cleanly, and resume continues exactly.

A. The database is locked by another process for longer than the runner waits
   (RUNNER_STORE_WAIT=3): apply stops with exit 75 and says how to continue, no step is
   launched once the store stopped recording, and `runs resume` finishes the run without
   running again any step whose success was recorded.
B. The disk (a 4 MB tmpfs holding RUNNER_HOME) fills up mid-run and is freed 4 s later:
   apply says it waits for the store, goes on, and every step runs exactly once."""
import os
import subprocess
import sys
import time

from faults import FaultWork, chain, check, checks, communicate, hold_database, wait_until

if os.geteuid() != 0 and not os.environ.get("FAULTS_IN_NAMESPACE"):
    # A tmpfs needs a mount: in a user and mount namespace of our own, as its root.
    os.environ["FAULTS_IN_NAMESPACE"] = "1"
    os.execvp("unshare", ["unshare", "-rm", sys.executable, "-B", *sys.argv])


def wait_for_count(work, n):
    return wait_until(lambda: sum(work.counts().values()) >= n, interval=0.05)


# A. Locked for longer than the runner waits.
with FaultWork("store-full-a", {"ten.yaml": chain("ten", 10, 0.3)}) as work:
    apply = work.popen("apply", os.path.join(work.pipelines, "ten.yaml"), env={"RUNNER_STORE_WAIT": "3"},
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check("A: two steps ran before the lock", wait_for_count(work, 2))
    lock = hold_database(work.database, 16)
    started_at_lock = sum(work.counts().values())
    out, err = communicate(apply, 40)
    launched = sum(work.counts().values())
    check("A: apply stops with exit 75 (the store did not record for too long)", apply.returncode == 75,
          f"exit {apply.returncode}\n{err[-2000:]}")
    check("A: it says why and how to continue", "RUN4006" in err and "runs resume" in err, err[-2000:])
    check("A: at most one launch after the store stopped recording", launched <= started_at_lock + 1,
          f"{started_at_lock} started when the lock was taken, {launched} in the end")
    lock.wait()
    run_id = work.runs()[0]["id"]
    before = work.show(run_id)
    recorded = {s["name"] for s in before["steps"] if s["status"] == "succeeded"} if before else set()
    counts_before = work.counts()
    resumed = work.cli("runs", "resume", run_id)
    check("A: runs resume finishes the run", resumed.returncode == 0, resumed.stderr[-2000:])
    after = work.show(run_id)
    check("A: the run succeeded", after and after["status"] == "succeeded", after and after["status"])
    counts = work.counts()
    check("A: no step whose success was recorded ran again", all(counts.get(s) == counts_before.get(s) == 1 for s in recorded),
          f"recorded {sorted(recorded)}, counts {counts}")
    check("A: every step ran, none more than twice", all(1 <= counts.get(f"s{i}", 0) <= 2 for i in range(1, 11)), f"{counts}")

# B. The disk fills up, then is freed within the wait.
work = FaultWork("store-full-b", {"ten.yaml": chain("ten", 10, 0.3)})
mounted = False
try:
    os.makedirs(work.home)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", work.home]).returncode == 0
    check("B: a 4 MB tmpfs for RUNNER_HOME", mounted)
    apply = work.popen("apply", os.path.join(work.pipelines, "ten.yaml"), env={"RUNNER_STORE_WAIT": "30"},
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check("B: two steps ran before the disk filled", wait_for_count(work, 2))
    filler = os.path.join(work.home, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 4096) > 0:
            pass
    except OSError:
        pass
    os.close(fd)
    full_at = sum(work.counts().values())
    time.sleep(4)
    during = sum(work.counts().values())
    os.remove(filler)
    out, err = communicate(apply, 60)
    check("B: apply succeeds once the disk has room again", apply.returncode == 0, f"exit {apply.returncode}\n{err[-2000:]}")
    check("B: it said it waited for the store", "waiting" in (out + err) and "state store" in (out + err), (out + err)[-2000:])
    check("B: at most one launch while the disk was full", during <= full_at + 1, f"{full_at} when full, {during} 4 s later")
    counts = work.counts()
    check("B: every step ran exactly once", counts == {f"s{i}": 1 for i in range(1, 11)}, f"{counts}")
finally:
    if mounted:
        subprocess.run(["umount", "-l", work.home])
    work.cleanup()
checks.finish("test-store-full")
