#!/usr/bin/env python3
"""Long and deep expressions (issue 16, item 4). A flat chain of ~10,000 `&&` once overflowed
the stack of `runner validate`, and of `runner serve` at start and on SIGHUP. Now: beyond the
bounds (65,536 bytes, 64 levels of parentheses, lists and `!`) `validate` exits 2 with RUN2038
or RUN2039 at the expression; at the bounds a pipeline validates, plans, applies, and is
served, launched, reloaded and resumed by a server that stays up.
Usage: test-expression-bounds.py RUNNER"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "E2E"))
from runner_e2e import RUNNER, Checks, ServeProcess  # noqa: E402

checks = Checks()
work = tempfile.mkdtemp(prefix="runner-expr-bounds-")
CONDITION_LINE = 8  # the line of `if:` in pipeline() below; the expression starts at column 9


def pipeline(name, condition, other="params.a", extra=""):
    return f"""version: 1
name: {name}
params:
  a: {{type: bool, default: true}}
  apps: {{type: list, items: {{type: string}}, default: [web]}}
{extra}steps:
  - name: yes_step
    if: {condition}
    run: echo ran
  - name: no_step
    if: {other}
    run: echo ran
  - name: each
    for_each: {"(" * 64}params.apps{")" * 64}
    run: echo "$ITEM"
"""


def longest(op, filler, last):
    """`filler op filler ... op last`, exactly 65,536 bytes: the longest expression allowed."""
    n = (65536 - len(last)) // (len(filler) + len(op))
    text = (filler + op) * n + last
    return text.replace(op, " " + op, 65536 - len(text))


def write(name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def run(*args, timeout=60):
    env = dict(os.environ, RUNNER_HOME=os.path.join(work, "home"), NO_COLOR="1")
    try:
        return subprocess.run([RUNNER, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=work)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, "timeout", "", "")


def diagnostics(result):
    try:
        return [d for f in json.loads(result.stdout)["files"] for d in f["diagnostics"]]
    except (ValueError, KeyError):
        return []


at_bound_and = longest("&&", "true", "params.a")
at_bound_or = longest("||", "null", "!params.a")
assert len(at_bound_and) == len(at_bound_or) == 65536
beyond = {
    "and-10000": (" && ".join(["params.a"] * 10_000), "RUN2038", 9),
    "or-10000": (" || ".join(["params.a"] * 10_000), "RUN2038", 9),
    "and-100000": ("&&".join(["params.a"] * 100_000), "RUN2038", 9),
    "or-100000": ("||".join(["params.a"] * 100_000), "RUN2038", 9),
    "mixed-10000": ("".join(("&&" if i % 2 else "||") + "(params.a)" for i in range(10_000))[2:], "RUN2038", 9),
    "parens-10000": ("(" * 10_000 + "params.a" + ")" * 10_000, "RUN2039", 9 + 64),
    "bangs-10000": ('"' + "!" * 10_000 + 'params.a"', "RUN2039", 10 + 64),
    "mixed-deep-4000": ("(params.a || " * 4_000 + "true" + ")" * 4_000, "RUN2039", 9 + 64 * 13),
}
try:
    print("validate: beyond the bounds")
    for name, (condition, code, column) in beyond.items():
        path = write(f"{name}.yaml", pipeline(name, condition))
        result = run("validate", "--json", path)
        found = [(d["code"], d.get("line"), d.get("column")) for d in diagnostics(result)]
        checks.check(f"{name}: exit 2 with {code} at {CONDITION_LINE}:{column}",
                     result.returncode == 2 and found == [(code, CONDITION_LINE, column)],
                     f"exit {result.returncode}, {found}, {str(result.stderr)[:300]}")

    print("validate, plan, apply: at the bounds")
    bounds = write("bounds.yaml", pipeline("bounds", at_bound_and, at_bound_or,
                                           extra=f'concurrency:\n  key: "{"!" * 63}(params.a)"\n'))
    result = run("validate", bounds)
    checks.check("a pipeline at both bounds validates", result.returncode == 0, f"{result.returncode} {result.stderr[:300]}")
    result = run("plan", bounds)
    checks.check("and plans", result.returncode == 0, f"{result.returncode} {result.stderr[:300]}")
    result = run("apply", bounds)
    checks.check("and applies (exit 0)", result.returncode == 0, f"{result.returncode} {result.stderr[:300]}")
    listed = json.loads(run("runs", "list", "--json").stdout or "[]")
    shown = json.loads(run("runs", "show", listed[0]["id"], "--json").stdout) if listed else {"steps": []}
    statuses = {s["name"]: s["status"] for s in shown["steps"]}
    checks.check("its `if` at the bound ran one step and skipped the other, for_each made its instance",
                 statuses == {"yes_step": "succeeded", "no_step": "skipped", "each[web]": "succeeded"}, f"{statuses}")

    print("serve: loads, launches, reloads and restarts with them")
    folder = os.path.join(work, "pipelines")
    os.mkdir(folder)
    shutil.copy(bounds, folder)
    for name in ("and-10000", "or-100000", "parens-10000"):
        shutil.copy(os.path.join(work, f"{name}.yaml"), folder)
    server = ServeProcess(work, pipelines=folder)
    server.env["RUNNER_HOME"] = os.path.join(work, "serve-home")
    watchdog = threading.Timer(40, lambda: server.process and server.process.kill())
    watchdog.start()
    try:
        try:
            server.start(who="test-expression-bounds")
        except SystemExit as error:
            checks.check("the server starts with them in its folder", False, f"{error}")
            raise
        base = f"http://127.0.0.1:{server.port}"
        health = json.loads(urllib.request.urlopen(f"{base}/healthz", timeout=10).read())
        checks.check("the server listens and serves the one pipeline that loads", health.get("pipelines") == 1, f"{health}")
        token = server.cli("token", "create", "--role", "operator", "--name", "expr").stdout.strip()
        request = urllib.request.Request(f"{base}/api/v1/pipelines/bounds/runs", data=b'{"params": {}}', method="POST",
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        run_id = json.loads(urllib.request.urlopen(request, timeout=10).read())["run_id"]
        status, steps = None, {}
        for _ in range(200):
            got = urllib.request.Request(f"{base}/api/v1/runs/{run_id}", headers={"Authorization": f"Bearer {token}"})
            body = json.loads(urllib.request.urlopen(got, timeout=10).read())
            status, steps = body["status"], {s["name"]: s["status"] for s in body["steps"]}
            if status in ("succeeded", "failed", "partial", "cancelled"):
                break
            time.sleep(0.1)
        checks.check("a launched run at the bounds succeeds, its `if`s decided",
                     status == "succeeded" and steps.get("no_step") == "skipped", f"{status} {steps}")
        server.process.send_signal(signal.SIGHUP)
        line = server.process.stdout.readline()
        while line and "reloaded" not in line:
            line = server.process.stdout.readline()
        checks.check("SIGHUP reloads and the server stays up", "reloaded 1 pipelines" in line and server.process.poll() is None,
                     f"{line!r}")
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=20)
        server.start(who="test-expression-bounds")
        health = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=10).read())
        checks.check("it starts again over the stored run", health.get("status") == "ok", f"{health}")
    except SystemExit:
        pass
    finally:
        watchdog.cancel()
        if server.process and server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.process.pid, signal.SIGKILL)
                server.process.wait()
finally:
    shutil.rmtree(work, ignore_errors=True)

print(f"test-expression-bounds: {checks.passed} ok, {checks.failed} failed")
sys.exit(1 if checks.failed else 0)
