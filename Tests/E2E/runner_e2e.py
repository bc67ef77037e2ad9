"""What the end-to-end scripts of the HTTP API share: the binary, a clean environment, and a
`runner serve` started on a free port (serve-api.py, openapi-check.py)."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build/debug/runner"))
TERMINAL = {"succeeded", "failed", "partial", "cancelled", "rolled_back", "skipped"}


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


class ServeProcess:
    """A `runner serve` of its own: RUNNER_HOME, DEMO_ROOT and PUBLISH_ROOT under `work`, no
    knob or runner variable of the caller's, the backup slowed down so it can be watched."""

    def __init__(self, work, pipelines=None):
        self.work, self.process, self.port = work, None, None
        self.pipelines = pipelines or f"{ROOT}/pipelines"
        self.env = {k: v for k, v in os.environ.items() if not re.match(r"^(RUNNER_|PARAM_|INJECT_|DOCS_|BACKUP_)", k)}
        self.env.update(RUNNER_HOME=f"{work}/home", DEMO_ROOT=f"{work}/demo", PUBLISH_ROOT=f"{work}/publish",
                        BACKUP_THROTTLE_MS="150", NO_COLOR="1")
        self.token = None

    def cli(self, *args):
        return subprocess.run([RUNNER, *args], env=self.env, capture_output=True, text=True)

    def start(self, *extra, who="e2e"):
        """Starts the server (output in work/serve.out); returns its first line."""
        self.out = open(f"{self.work}/serve.out", "a")
        self.process = subprocess.Popen([RUNNER, "serve", "--pipelines", self.pipelines, "--listen", "127.0.0.1:0", *extra],
                                        stdout=subprocess.PIPE, stderr=self.out, env=self.env, text=True, start_new_session=True)
        line = self.process.stdout.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not match:
            raise SystemExit(f"{who}: the server did not start: {line!r}")
        self.port = int(match.group(1))
        return line
