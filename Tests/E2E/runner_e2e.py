"""What the Python end-to-end and fault tests share (Tests/E2E, Tests/Faults): the binary, named
checks, a work folder with a clean environment, waiting for a condition, and a `runner serve` of
a test's own on a free port with one HTTP request helper.

The scripts start with `#!/usr/bin/env -S python3 -B`, so that no __pycache__ is written into the
tree for this module or faults.py."""
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from typing import NamedTuple

sys.dont_write_bytecode = True  # also when a script is run as `python3 SCRIPT`

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build/debug/runner"))
TERMINAL = {"succeeded", "failed", "partial", "cancelled", "rolled_back", "skipped"}
# The caller's runner settings, params, injected faults and knobs of the example pipelines: a test
# sets what it means to, nothing leaks in from the shell that started it.
NOT_INHERITED = re.compile(r"^(RUNNER_|PARAM_|INJECT_|DOCS_|BACKUP_)")
SCRIPT = os.path.basename(sys.argv[0]).removesuffix(".py")


def clean_env(home, **extra):
    """The caller's environment without NOT_INHERITED variables; RUNNER_HOME `home`, no colour,
    and `extra`."""
    env = {k: v for k, v in os.environ.items() if not NOT_INHERITED.match(k)}
    env.update(RUNNER_HOME=home, NO_COLOR="1", **extra)
    return env


def wait_until(predicate, seconds=30, interval=0.1):
    """Calls `predicate` until it answers something true, which is returned; None after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def communicate(process, seconds):
    """(stdout, stderr) of a process started with pipes, killed when it runs longer than `seconds`."""
    try:
        return process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


class Checks:
    """Counts and prints named checks: `ok` or `FAIL` with a detail, one line each."""

    def __init__(self):
        self.passed, self.failed = 0, 0

    def check(self, name, condition, detail=""):
        if condition:
            self.passed += 1
            print(f"  ok    {name}")
        else:
            self.failed += 1
            print(f"  FAIL  {name}" + (f"\n        {detail}" if detail else ""))
        return bool(condition)

    def finish(self, name, note=""):
        """Prints `NAME: P passed, F failed` (and `note`) and exits, with 1 when a check failed."""
        print(f"{name}: {self.passed} passed, {self.failed} failed{note}")
        sys.exit(1 if self.failed else 0)


# The checks of the script that imports this module: one test script is one process.
checks = Checks()
check = checks.check


class Work:
    """A temporary folder of a test's own, removed at the end (kept with FAULTS_KEEP=1): `home`
    below it is RUNNER_HOME in `env`, a clean environment. The runner processes started through
    it run in the folder, and those still running at the end are killed with their groups.
    `pipelines` (file name → text) are written to its pipelines/ folder."""

    def __init__(self, prefix, pipelines=None):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.home = self.path("home")
        self.pipelines = self.path("pipelines")
        self.env = clean_env(self.home)
        self.processes = []
        for name, text in (pipelines or {}).items():
            self.write(f"pipelines/{name}", text)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.cleanup()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def write(self, name, text):
        """Writes a file below the folder, its folders made; returns its path."""
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def popen(self, *args, env=None, **kwargs):
        """Starts the runner with `args` in a session of its own (`env` added to the folder's)."""
        process = subprocess.Popen([RUNNER, *args], env={**self.env, **(env or {})}, cwd=self.dir,
                                   start_new_session=True, **kwargs)
        self.processes.append(process)
        return process

    def cli(self, *args, env=None, timeout=120):
        """Runs the runner to its end; its returncode is None when it was killed, with its group,
        after `timeout` seconds."""
        process = self.popen(*args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            return subprocess.CompletedProcess(process.args, None, out, err)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def runs(self, *options):
        """`runner runs list --json` with `options`: the runs, newest first ([] when none is listed)."""
        try:
            listed = json.loads(self.cli("runs", "list", "--json", *options).stdout or "[]")
        except ValueError:
            return []
        return listed if isinstance(listed, list) else listed["runs"]

    def show(self, run_id):
        """`runner runs show ID --json`: the run ({} when it is not shown)."""
        shown = self.cli("runs", "show", run_id, "--json")
        return json.loads(shown.stdout) if shown.returncode == 0 else {}

    def server(self, pipelines=None, apart=None):
        """A ServeProcess (not started) of `pipelines` (by default this folder's pipelines/) in the
        folder's environment; with `apart`, a subfolder made for it, its output and its RUNNER_HOME
        are there, apart from the CLI's."""
        if apart is None:
            return ServeProcess(self.dir, pipelines or self.pipelines, self.env)
        os.makedirs(self.path(apart), exist_ok=True)
        env = dict(self.env, RUNNER_HOME=self.path(apart, "home"))
        return ServeProcess(self.path(apart), pipelines or self.pipelines, env)

    def cleanup(self):
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        if os.environ.get("FAULTS_KEEP"):
            print(f"  (kept {self.dir})")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


class Response(NamedTuple):
    """The server's answer: its status (0 when none came), its headers (names in any case), the
    body's bytes."""
    status: int
    headers: object
    body: bytes

    def decoded(self):
        """The body as JSON when the server says it is JSON, else as text."""
        if self.headers.get("Content-Type", "").startswith("application/json"):
            try:
                return json.loads(self.body or b"null")
            except ValueError:
                pass
        return self.body.decode(errors="replace")


SERVER_TOKEN = object()  # `ServeProcess.http`'s default: the server's token


class ServeProcess:
    """A `runner serve` of its own on a free port of 127.0.0.1, its output in `work`/serve.out (a
    folder). Its environment, unless `env` is given: RUNNER_HOME, DEMO_ROOT and PUBLISH_ROOT under
    `work`, the backup slowed down so it can be watched (the project's pipelines/, the default).
    Requests send `token` when it is set. A context manager that stops the server."""

    def __init__(self, work, pipelines=None, env=None):
        self.work, self.process, self.port, self.token, self.out = work, None, None, None, None
        self.pipelines = pipelines or f"{ROOT}/pipelines"
        self.env = env if env is not None else clean_env(f"{work}/home", DEMO_ROOT=f"{work}/demo",
                                                         PUBLISH_ROOT=f"{work}/publish", BACKUP_THROTTLE_MS="150")

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()

    def cli(self, *args):
        return subprocess.run([RUNNER, *args], env=self.env, capture_output=True, text=True)

    def new_token(self, role, name):
        """A new token of `role` named `name` (`runner token create`)."""
        made = self.cli("token", "create", "--role", role, "--name", name)
        if made.returncode != 0:
            raise SystemExit(f"{SCRIPT}: runner token create failed: {made.stderr}")
        return made.stdout.strip()

    def start(self, *extra):
        """Starts the server (output in work/serve.out); returns its first line."""
        self.out = open(f"{self.work}/serve.out", "a")
        command = [RUNNER, "serve", "--pipelines", self.pipelines, "--listen", "127.0.0.1:0", *extra]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.out, env=self.env, text=True,
                                        start_new_session=True)
        line = self.process.stdout.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not match:
            raise SystemExit(f"{SCRIPT}: the server did not start: {line!r}")
        self.port = int(match.group(1))
        return line

    def started(self, check, name, *extra):
        """Starts the server: True when it listens; else False and a failed `check` named `name`,
        for a test that goes on without it."""
        try:
            self.start(*extra)
            return True
        except SystemExit as error:
            check(name, False, f"{error}")
            return False

    @contextlib.contextmanager
    def killed_after(self, seconds):
        """Within the block, the server is killed once `seconds` have passed: a read of its output
        that would wait forever (a start or reload that hangs) ends."""
        timer = threading.Timer(seconds, lambda: self.process and self.process.kill())
        timer.start()
        try:
            yield self
        finally:
            timer.cancel()

    def stop(self, seconds=30):
        """SIGTERM, and SIGKILL to its process group when it has not ended after `seconds`; returns
        its exit status (None when it was never started)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.out:
            self.out.close()
        return self.process and self.process.returncode

    def reload(self):
        """SIGHUP: the server loads its pipelines again. Returns the line saying it did ('' when its
        output ended first)."""
        self.process.send_signal(signal.SIGHUP)
        line = self.process.stdout.readline()
        while line and "reloaded" not in line:
            line = self.process.stdout.readline()
        return line

    def kill(self):
        """SIGKILL to the server and what it started, as a crash would end them."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def http(self, method, path, body=None, raw=None, token=SERVER_TOKEN, headers=None, timeout=30):
        """One request: `body` sent as JSON (or `raw`, bytes), with the server's token or `token`
        (None: no Authorization). Never raises for an answer or its absence: a Response."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        token = self.token if token is SERVER_TOKEN else token
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())
        except (urllib.error.URLError, OSError) as e:
            return Response(0, {}, f"no answer: {e}".encode())

    def wait(self, run_id, statuses=TERMINAL, seconds=90):
        """Polls the run until its status is one of `statuses`: the run then, or the last one read
        (None when none was) after `seconds`."""
        last = {}

        def reached():
            reply = self.http("GET", f"/api/v1/runs/{run_id}")
            if reply.status == 200:
                last["run"] = reply.decoded()
                return last["run"]["status"] in statuses
            return False
        wait_until(reached, seconds, interval=0.2)
        return last.get("run")
