#!/usr/bin/env python3
"""Param values a step could never see as given (issue 16, item 9): a NUL, which execve would
cut the value at, and a value longer than one environment variable holds (E2BIG at exec).
Both are refused where the value comes in — `--params FILE`, `-p` with a JSON list, the API
body (a hook's too), a schedule's params, a default — with the param's code: exit 2, HTTP 400.

Usage: Tests/Faults/test-inputs-params.py RUNNER
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "E2E"))
from runner_e2e import RUNNER, Checks, ServeProcess  # noqa: E402

checks = Checks()
check = checks.check
LIMIT = 131072  # MAX_ARG_STRLEN: one NAME=value string, its NUL included
ROOM = LIMIT - len("PARAM_BODY=") - 1

PIPELINE = """\
version: 1
name: inputs
params:
  reason: {type: string, pattern: "[^;]+", error: INVALID_REASON}
  targets: {type: list, items: string, error: INVALID_TARGETS}
  count: {type: int, error: INVALID_COUNT}
  body: {type: string}
steps:
  - name: show
    run: 'printf %s "$PARAM_REASON" > seen-reason; printf %s "$PARAM_BODY" | wc -c > seen-body'
"""


def request(port, token, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def cli_checks(work, env):
    folder = f"{work}/p"

    def apply(params=None, *extra):
        args = [RUNNER, "apply", f"{folder}/inputs.yaml", *extra]
        if params is not None:
            with open(f"{work}/params.json", "w") as f:
                json.dump(params, f)
            args += ["--params", f"{work}/params.json"]
        return subprocess.run(args, env=env, capture_output=True, text=True, cwd=work)

    r = apply({"reason": "ok\u0000; rm -rf /"})
    check("--params: a NUL in a string with a pattern: exit 2, the param's code, nothing ran",
          r.returncode == 2 and "INVALID_REASON" in r.stderr and "NUL" in r.stderr
          and not os.path.exists(f"{folder}/seen-reason"), (r.returncode, r.stderr[-400:]))
    r = apply({"targets": ["a", "b\u0000c"]})
    check("--params: a NUL in a list item: exit 2, INVALID_TARGETS, names item 2",
          r.returncode == 2 and "INVALID_TARGETS" in r.stderr and "item 2" in r.stderr, (r.returncode, r.stderr[-400:]))
    r = apply(None, "-p", 'targets=["a","b\\u0000c"]')
    check("-p with a JSON list holding \\u0000: exit 2, INVALID_TARGETS",
          r.returncode == 2 and "INVALID_TARGETS" in r.stderr, (r.returncode, r.stderr[-400:]))
    r = apply({"count": "1\u0000"})
    check("--params: an int given as text with a NUL: exit 2, INVALID_COUNT", r.returncode == 2 and "INVALID_COUNT" in r.stderr,
          (r.returncode, r.stderr[-400:]))
    r = subprocess.run([RUNNER, "plan", f"{folder}/inputs.yaml", "--params", f"{work}/params.json"], env=env,
                       capture_output=True, text=True)
    check("plan refuses it too: exit 2", r.returncode == 2 and "INVALID_COUNT" in r.stderr, (r.returncode, r.stderr[-300:]))
    r = apply({"body": "x" * (ROOM + 1)})
    check(f"--params: a value of {ROOM + 1:,} bytes (one more than $PARAM_BODY holds): exit 2, RUN2105, the sizes",
          r.returncode == 2 and "RUN2105" in r.stderr and f"{ROOM + 1:,}" in r.stderr and f"{ROOM:,}" in r.stderr,
          (r.returncode, r.stderr[-400:]))
    r = apply({"body": "x" * ROOM, "reason": "fine"})
    seen = open(f"{folder}/seen-body").read().strip() if os.path.exists(f"{folder}/seen-body") else None
    check(f"a value of exactly {ROOM:,} bytes runs, and the step sees all of it",
          r.returncode == 0 and seen == str(ROOM), (r.returncode, seen, r.stderr[-400:]))
    listed = subprocess.run([RUNNER, "runs", "list", "--json"], env=env, capture_output=True, text=True, cwd=work)
    runs = json.loads(listed.stdout or "[]")
    check("only that one run was recorded", len(runs) == 1, len(runs))


def validate_checks(work, env):
    os.makedirs(f"{work}/v", exist_ok=True)
    with open(f"{work}/v/schedule.yaml", "w") as f:
        f.write(PIPELINE.replace("steps:", 'triggers:\n  schedule:\n    - {cron: "0 3 * * *", params: {reason: "ok\\0x"}}\nsteps:'))
    r = subprocess.run([RUNNER, "validate", f"{work}/v/schedule.yaml"], env=env, capture_output=True, text=True)
    check("a schedule's param with a NUL: validate exit 2, RUN2031 naming the NUL",
          r.returncode == 2 and "RUN2031" in r.stdout + r.stderr and "NUL" in r.stdout + r.stderr, (r.returncode, r.stdout[-400:]))
    with open(f"{work}/v/default.yaml", "w") as f:
        f.write(PIPELINE.replace("body: {type: string}", 'body: {type: string, default: "a\\0b"}'))
    r = subprocess.run([RUNNER, "validate", f"{work}/v/default.yaml"], env=env, capture_output=True, text=True)
    check("a default with a NUL: validate exit 2, RUN2021", r.returncode == 2 and "RUN2021" in r.stdout + r.stderr,
          (r.returncode, r.stdout[-400:]))


def api_checks(work):
    server = ServeProcess(f"{work}/s", pipelines=f"{work}/p")
    os.makedirs(f"{work}/s", exist_ok=True)
    try:
        token = server.cli("token", "create", "--role", "operator", "--name", "faults").stdout.strip()
        server.start(who="test-inputs-params")
        path = "/api/v1/pipelines/inputs/runs"
        status, body = request(server.port, token, path, {"params": {"reason": "ok\u0000; rm"}})
        check("API: a NUL in a string: 400 with the param's code", status == 400 and body.get("code") == "INVALID_REASON"
              and "NUL" in body.get("message", ""), (status, body))
        status, body = request(server.port, token, path, {"params": {"targets": ["a", "\u0000"]}})
        check("API: a NUL in a list item: 400 INVALID_TARGETS", status == 400 and body.get("code") == "INVALID_TARGETS", (status, body))
        status, body = request(server.port, token, path, {"params": {"reason": "x\u0000"}, "trigger": "hook"})
        check("API, as a hook launches: 400 INVALID_REASON", status == 400 and body.get("code") == "INVALID_REASON", (status, body))
        status, body = request(server.port, token, path, {"params": {"body": "é" * (ROOM // 2 + 1)}})
        check("API: a value over the bound (counted in bytes): 400 RUN2105", status == 400 and body.get("code") == "RUN2105",
              (status, body.get("code"), body.get("message")))
    finally:
        if server.process:
            server.process.terminate()
            server.process.wait(timeout=30)


def main():
    work = tempfile.mkdtemp(prefix="faults-params.")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNER_", "PARAM_"))}
    env.update(RUNNER_HOME=f"{work}/home", NO_COLOR="1")
    try:
        print("param values a step could not see as given")
        os.makedirs(f"{work}/p")
        with open(f"{work}/p/inputs.yaml", "w") as f:
            f.write(PIPELINE)
        cli_checks(work, env)
        validate_checks(work, env)
        api_checks(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"test-inputs-params: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
