"""What the fault tests share: a work folder of their own, a `runner serve` in it (with an
operator token), JSON requests, and counting how often each step ran (each step of the
fault pipelines appends its name to $COUNT_FILE)."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "E2E"))
from runner_e2e import RUNNER, TERMINAL, Checks  # noqa: E402,F401


class Work:
    """A temporary folder with pipelines/, home/ (RUNNER_HOME) and a step counter file."""

    def __init__(self, name, pipelines):
        self.dir = tempfile.mkdtemp(prefix=f"runner-fault-{name}-")
        self.pipelines = os.path.join(self.dir, "pipelines")
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.pipelines)
        for file, text in pipelines.items():
            with open(os.path.join(self.pipelines, file), "w") as f:
                f.write(text)
        self.count_file = os.path.join(self.dir, "count")
        self.env = {k: v for k, v in os.environ.items() if not re.match(r"^(RUNNER_|PARAM_|INJECT_)", k)}
        self.env.update(RUNNER_HOME=self.home, COUNT_FILE=self.count_file, NO_COLOR="1")
        self.processes = []

    @property
    def database(self):
        return os.path.join(self.home, "state.db")

    def cli(self, *args, env=None, timeout=120):
        return subprocess.run([RUNNER, *args], env={**self.env, **(env or {})}, capture_output=True, text=True,
                              timeout=timeout)

    def popen(self, *args, env=None, **kwargs):
        p = subprocess.Popen([RUNNER, *args], env={**self.env, **(env or {})}, start_new_session=True, **kwargs)
        self.processes.append(p)
        return p

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

    def cleanup(self):
        for p in self.processes:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        if os.environ.get("FAULTS_KEEP"):
            print(f"  (kept {self.dir})")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


class Serve:
    """`runner serve` on a free port of 127.0.0.1, with an operator token."""

    def __init__(self, work, *extra):
        self.work = work
        if not getattr(work, "token", None):
            made = work.cli("token", "create", "--role", "admin", "--name", "faults")
            if made.returncode != 0:
                raise SystemExit(f"token create failed: {made.stderr}")
            work.token = made.stdout.strip()
        self.token = work.token
        self.log = open(os.path.join(work.dir, "serve.out"), "a")
        self.process = work.popen("serve", "--pipelines", work.pipelines, "--listen", "127.0.0.1:0", *extra,
                                  stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not match:
            raise SystemExit(f"the server did not start: {line!r}")
        self.port = int(match.group(1))

    def request(self, method, path, body=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                text = r.read()
                return r.status, (json.loads(text) if text[:1] in (b"{", b"[") else text.decode(errors="replace"))
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, text.decode(errors="replace")
        except (urllib.error.URLError, OSError) as e:
            return -1, str(e)

    def wait(self, run_id, seconds=60):
        deadline = time.time() + seconds
        run = None
        while time.time() < deadline:
            status, body = self.request("GET", f"/api/v1/runs/{run_id}")
            if status == 200:
                run = body
                if run["status"] in TERMINAL:
                    return run
            time.sleep(0.2)
        return run

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


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


def stop_server(server):
    """Stops a test's `runner serve` (anything with a `process`): SIGTERM, SIGKILL after 15 s."""
    process = getattr(server, "process", None) if server else None
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
