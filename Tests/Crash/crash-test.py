#!/usr/bin/env python3
"""Crash test: kill -9 the runner at random moments across many runs, resume, check invariants.

    Tests/Crash/crash-test.py [RUNNER] [--runs N] [--seed S]

Each run of ledger.yaml is started with `runner apply`; the runner is killed (SIGKILL, its
steps keep running as orphans) after a random delay, then `runner runs resume ID` is started
and maybe killed again, up to three times, and a last resume finishes the run. Every step
appends `start`/`end` lines to a ledger and holds a lock on its own name while it runs.

Invariants, each counted as a violation when broken:
  - every run ends terminal, and `succeeded` (every step of ledger.yaml succeeds);
  - a step recorded `succeeded` before a kill never starts again afterwards;
  - no step starts while an earlier attempt of itself still runs (the lock; an orphan must be
    killed before its step is re-run);
  - no record is lost: every attempt that started (ledger) has its attempt record, every
    succeeded step has its recorded attempt and its outputs;
  - `PRAGMA integrity_check` is ok.
A step in flight at a kill may run again (at-least-once): those re-runs are counted, not
violations. Exit 0 when there is no violation.
"""
import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
PIPELINE = os.path.join(HERE, "ledger.yaml")
TERMINAL = {"succeeded", "failed", "partial", "cancelled", "rolled_back", "skipped"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("runner", nargs="?", default=".build/debug/runner")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("CRASH_RUNS", "30")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("CRASH_SEED", str(int(time.time())))))
    args = parser.parse_args()
    runner = os.path.abspath(args.runner)
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="runner-crash-")
    env = dict(os.environ, RUNNER_HOME=os.path.join(work, "state"), LEDGER_DIR=work, NO_COLOR="1")
    ledger_path = os.path.join(work, "ledger")
    db_path = os.path.join(work, "state", "state.db")
    started = time.monotonic()

    figures = defaultdict(int)
    violations = []
    seen_runs = set()

    def db():
        connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
        connection.row_factory = sqlite3.Row
        return connection

    def ledger():
        try:
            with open(ledger_path) as f:
                return [line.split() for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def starts(run_id, step):
        return sum(1 for l in ledger() if l[0] == "start" and l[1] == run_id and l[2] == step)

    def new_run_id():
        if not os.path.exists(db_path):
            return None
        with db() as c:
            try:
                rows = [r["id"] for r in c.execute("SELECT id FROM runs ORDER BY created_at")]
            except sqlite3.OperationalError:
                # Killed while the new database was being made: the file holds no schema yet
                # (the next start migrates it), so no run was recorded.
                return None
        fresh = [r for r in rows if r not in seen_runs]
        return fresh[-1] if fresh else None

    def run_status(run_id):
        with db() as c:
            return c.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()["status"]

    def succeeded_steps(run_id):
        with db() as c:
            return {r["name"] for r in c.execute("SELECT name FROM steps WHERE run_id = ? AND status = 'succeeded'", (run_id,))}

    def start_and_maybe_kill(argv, kill_after):
        process = subprocess.Popen(argv, env=env, cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if kill_after is None:
            try:
                _, err = process.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                violations.append(f"{' '.join(argv[1:])}: did not finish within 120 s")
                return False
            if process.returncode not in (0,):
                violations.append(f"{' '.join(argv[1:])}: exit {process.returncode}: {err.decode(errors='replace').strip()[:500]}")
            return True
        try:
            process.wait(timeout=kill_after)
            process.stderr.read()
            return True  # finished before the kill point
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            figures["kill points"] += 1
            return False

    for index in range(args.runs):
        # Kill the apply itself; a kill before the run was created leaves nothing to resume.
        run_id = None
        while run_id is None:
            finished = start_and_maybe_kill([runner, "apply", PIPELINE, "-j", "2"], rng.uniform(0.0, 1.3))
            run_id = new_run_id()
            if run_id is None:
                figures["kills before the run was recorded"] += 1
        seen_runs.add(run_id)
        figures["runs"] += 1
        kills = 0 if finished else 1
        while run_status(run_id) not in TERMINAL:
            recorded = succeeded_steps(run_id)
            before = {step: starts(run_id, step) for step in recorded}
            kill_after = rng.uniform(0.0, 1.0) if kills < 3 and rng.random() < 0.6 else None
            start_and_maybe_kill([runner, "runs", "resume", run_id], kill_after)
            if kill_after is not None:
                kills += 1
            for step, count in before.items():
                now = starts(run_id, step)
                if now != count:
                    violations.append(f"{run_id}: step {step} had succeeded before a kill and started again ({count} → {now} starts)")
            figures["resumes"] += 1

    # Wait for orphans that may still be writing (none should: resume kills them).
    time.sleep(0.5)
    lines = ledger()
    with db() as c:
        for run_id in sorted(seen_runs):
            status = c.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()["status"]
            if status != "succeeded":
                violations.append(f"{run_id}: ended {status}, expected succeeded")
            steps = {r["name"]: dict(r) for r in c.execute("SELECT * FROM steps WHERE run_id = ?", (run_id,))}
            attempts = {(r["step"], r["serial"]): dict(r) for r in c.execute("SELECT * FROM attempts WHERE run_id = ?", (run_id,))}
            outputs = {(r["step"], r["key"]): r["value"] for r in c.execute("SELECT * FROM outputs WHERE run_id = ?", (run_id,))}
            for name, step in steps.items():
                if step["status"] == "succeeded":
                    if (name, step["serial"]) not in attempts:
                        violations.append(f"{run_id}: step {name} succeeded without its attempt record (serial {step['serial']})")
                    elif attempts[(name, step["serial"])]["exit_code"] != 0:
                        violations.append(f"{run_id}: step {name} succeeded but its attempt did not exit 0")
                    declared = name in ("prepare", "slow", "join", "publish", "report")
                    if declared and outputs.get((name, "value")) != name:
                        violations.append(f"{run_id}: step {name} succeeded but its output 'value' is {outputs.get((name, 'value'))!r}")
                elif not (name == "undo" and step["status"] == "skipped"):
                    violations.append(f"{run_id}: step {name} ended {step['status']}")
            run_starts = [l for l in lines if l[0] == "start" and l[1] == run_id]
            for _, _, step, serial, _ in run_starts:
                if (step, int(serial)) not in attempts:
                    violations.append(f"{run_id}: attempt {step} #{serial} ran but has no attempt record")
            per_step = defaultdict(int)
            for _, _, step, _, _ in run_starts:
                per_step[step] += 1
            figures["re-runs of steps in flight at a kill"] += sum(n - 1 for n in per_step.values() if n > 1)
            figures["interrupted attempts recorded"] += sum(1 for a in attempts.values() if a["counted"] == 0)
        integrity = c.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            violations.append(f"integrity_check: {integrity}")
    for line in lines:
        if line[0] == "overlap":
            violations.append(f"{line[1]}: step {line[2]} attempt {line[3]} started while an earlier attempt of it still ran")

    elapsed = time.monotonic() - started
    for violation in violations:
        print("VIOLATION", violation)
    print(f"crash test (seed {args.seed}): " + ", ".join(f"{k} {v}" for k, v in figures.items())
          + f", violations {len(violations)}, integrity_check {integrity}, {elapsed:.0f} s")
    if violations:
        print(f"state kept in {work}")
        sys.exit(1)
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
