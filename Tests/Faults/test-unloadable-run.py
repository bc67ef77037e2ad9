#!/usr/bin/env -S python3 -B
"""Issue 16, item 4 (the stored-run half): a run whose stored definition no longer loads
never takes the server down and never stays unfinished.

A runner is killed (SIGKILL) while its run's first step sleeps; the run's stored definition is
then made unloadable. `runner serve` starts, answers, and ends the run `failed` with
DEFINITION_UNLOADABLE, killing what the dead runner left running. A second such run is
ended by `runner runs cancel` alone (nobody executes it): `cancelled`, exit 0."""
import os
import signal
import sqlite3
import subprocess
import time

from faults import FaultWork, Serve, check, checks, wait_until

PIPELINE = """version: 1
name: two
steps:
  - name: a
    run: echo a >> "$COUNT_FILE"; echo $$ > "$COUNT_FILE.pid"; sleep 60
  - name: b
    needs: [a]
    run: echo b >> "$COUNT_FILE"
"""
work = FaultWork("unloadable", {"two.yaml": PIPELINE})


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def interrupted_run():
    """A run whose runner was killed while `a` sleeps, its definition then made unloadable."""
    if os.path.exists(work.count_file):
        os.remove(work.count_file)
    apply = work.popen("apply", os.path.join(work.pipelines, "two.yaml"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: os.path.exists(work.count_file + ".pid"))
    time.sleep(0.3)
    os.kill(apply.pid, signal.SIGKILL)
    apply.wait()
    pid = int(open(work.count_file + ".pid").read())
    os.remove(work.count_file + ".pid")
    run_id = work.runs()[0]["id"]
    db = sqlite3.connect(work.database)
    db.execute("UPDATE definitions SET text = ? WHERE run_id = ?", ("version: 1\nname: [\n", run_id))
    db.commit()
    db.close()
    return run_id, pid


try:
    run_id, step_pid = interrupted_run()
    check("the dead runner's step is still running", alive(step_pid))
    server = Serve(work)
    check("the server starts and answers", server.request("GET", "/healthz")[0] == 200)
    check("the run ends failed with DEFINITION_UNLOADABLE",
          wait_until(lambda: work.show(run_id).get("status") == "failed"
                     and work.show(run_id).get("error_code") == "DEFINITION_UNLOADABLE", 20),
          f"{work.show(run_id).get('status')} {work.show(run_id).get('error_code')} "
          f"{work.show(run_id).get('error_message')}")
    check("its message says why", "no longer loads" in (work.show(run_id).get("error_message") or ""))
    check("what the dead runner left running is killed", wait_until(lambda: not alive(step_pid), 10))
    check("the server still answers", server.request("GET", "/healthz")[0] == 200)
    server.stop()
    check("b never ran", "b" not in work.counts())

    run_id, step_pid = interrupted_run()
    cancelled = work.cli("runs", "cancel", run_id)
    check("runs cancel ends a run nobody executes: exit 0", cancelled.returncode == 0, cancelled.stdout + cancelled.stderr)
    check("the run is cancelled", work.show(run_id).get("status") == "cancelled", work.show(run_id).get("status"))
    check("its step's process is killed", wait_until(lambda: not alive(step_pid), 10))
finally:
    work.cleanup()
checks.finish("test-unloadable-run")
