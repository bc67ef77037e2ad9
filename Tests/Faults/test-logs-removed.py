#!/usr/bin/env -S python3 -B
"""Issue 16, item 15: deleting the logs folder mid-run loses nothing silently.

While a step prints a line every 0.1 s, the run's whole logs folder is removed. The folder
is made again: the step's later lines reach its log after a line saying what was lost, its
outputs are recorded, the launch journal keeps the launches that follow (a resume could find
them), and the next step's log and outputs are whole."""
import os
import shutil
import subprocess
import time

from faults import FaultWork, check, checks, communicate, wait_until

PIPELINE = """version: 1
name: logs
steps:
  - name: talk
    outputs: [said]
    run: |
      for i in $(seq 1 25); do echo "line $i"; sleep 0.1; done
      echo "said=yes" >> "$RUNNER_OUTPUT"
  - name: after
    needs: [talk]
    outputs: [done]
    run: |
      echo "after starts"
      echo "done=yes" >> "$RUNNER_OUTPUT"
"""


def talk_log_started(logs):
    return any(f.startswith("talk.") for d in (os.listdir(logs) if os.path.isdir(logs) else [])
               for f in os.listdir(os.path.join(logs, d)))


with FaultWork("logs-removed", {"logs.yaml": PIPELINE}) as work:
    apply = work.popen("apply", os.path.join(work.pipelines, "logs.yaml"),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    logs = os.path.join(work.home, "logs")
    wait_until(lambda: talk_log_started(logs), 20, interval=0.05)
    time.sleep(0.8)
    shutil.rmtree(logs)
    out, err = communicate(apply, 60)
    check("the run succeeds", apply.returncode == 0, err[-1500:])
    run_id = work.runs()[0]["id"]
    shown = work.show(run_id)
    outputs = {s["name"]: s.get("outputs") for s in shown["steps"]}
    check("the step's outputs are recorded", outputs.get("talk") == {"said": "yes"} and outputs.get("after") == {"done": "yes"}, outputs)
    talk = work.cli("runs", "logs", run_id, "talk").stdout
    check("the step's later lines reach its log after a note of what was lost",
          "this log was removed while the step ran" in talk and "line 25" in talk, talk[-600:])
    after = work.cli("runs", "logs", run_id, "after").stdout
    check("the next step's log is whole", "after starts" in after, after)
    journal = os.path.join(logs, run_id, "launches")
    check("the launch journal is kept again for the launches that follow",
          os.path.exists(journal) and "after" in open(journal).read(), os.listdir(os.path.join(logs, run_id)) if os.path.isdir(os.path.join(logs, run_id)) else "no folder")
checks.finish("test-logs-removed")
