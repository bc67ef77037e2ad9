"""What the fault tests share: everything of Tests/E2E/runner_e2e.py (so that a test's one import
line is `from faults import ...`), plus a work folder that counts how often each step ran (each
step of the fault pipelines appends its name to $COUNT_FILE), a `runner serve` in it with a
token, and pipelines and database locks made to order."""
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "E2E"))
from runner_e2e import RUNNER, ServeProcess, Work, check, checks, communicate, wait_until  # noqa: E402

__all__ = ["RUNNER", "ServeProcess", "Work", "check", "checks", "communicate", "wait_until",
           "FaultWork", "Serve", "chain", "hold_database"]


class FaultWork(Work):
    """A Work folder named after the test, with pipelines/ and a step counter file."""

    def __init__(self, name, pipelines):
        super().__init__(f"runner-fault-{name}-", pipelines)
        self.count_file = self.path("count")
        self.env["COUNT_FILE"] = self.count_file
        self.token = None

    @property
    def database(self):
        return os.path.join(self.home, "state.db")

    def counts(self):
        """How many times each step ran (a line per start)."""
        try:
            lines = open(self.count_file).read().split()
        except FileNotFoundError:
            return {}
        out = {}
        for line in lines:
            out[line] = out.get(line, 0) + 1
        return out


class Serve(ServeProcess):
    """`runner serve` of a FaultWork, started at once, with the folder's token: one named
    `faults`, of the `role` the folder's first Serve asks for."""

    def __init__(self, work, *extra, role="admin"):
        super().__init__(work.dir, pipelines=work.pipelines, env=work.env)
        if not work.token:
            work.token = self.new_token(role, "faults")
        self.token = work.token
        self.start(*extra)
        work.processes.append(self.process)

    def request(self, method, path, body=None, timeout=30):
        """(status, the body as JSON or text)."""
        reply = self.http(method, path, body, timeout=timeout)
        return reply.status, reply.decoded()


def chain(name, steps, seconds):
    """A pipeline of `steps` steps one after the other, each sleeping `seconds` and counting itself."""
    lines = ["version: 1", f"name: {name}", "steps:"]
    previous = None
    for i in range(1, steps + 1):
        lines.append(f"  - name: s{i}")
        if previous:
            lines.append(f"    needs: [{previous}]")
        lines.append(f"    run: echo $RUNNER_STEP >> \"$COUNT_FILE\"; sleep {seconds}")
        previous = f"s{i}"
    return "\n".join(lines) + "\n"


def hold_database(path, seconds, mode="EXCLUSIVE"):
    """Another process holds a write lock on the database for `seconds` (started at once)."""
    code = ("import sqlite3,sys,time; d=sqlite3.connect(sys.argv[1], isolation_level=None); "
            f"d.execute('BEGIN {mode}'); print('locked', flush=True); time.sleep(float(sys.argv[2])); d.execute('COMMIT')")
    p = subprocess.Popen([sys.executable, "-c", code, path, str(seconds)], stdout=subprocess.PIPE, text=True)
    p.stdout.readline()
    return p
