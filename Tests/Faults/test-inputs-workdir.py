#!/usr/bin/env python3
"""`workdir` confined by where it really leads (issue 16, item 12): a symlink in the pipeline's
folder that points out of it is refused by `validate` (RUN2042), and again when the step
starts (the folder may have changed since, or an earlier step made the link); a missing
workdir fails the step with a message naming it, not "cannot start /bin/sh".

Usage: Tests/Faults/test-inputs-workdir.py RUNNER
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "E2E"))
from runner_e2e import RUNNER, TERMINAL, Checks, ServeProcess  # noqa: E402

checks = Checks()
check = checks.check


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def cli_checks(work, env):
    p, outside = f"{work}/p", f"{work}/outside"
    os.symlink(outside, f"{p}/out")
    os.symlink("sub", f"{p}/in")
    write(f"{p}/escape.yaml", "version: 1\nname: escape\nsteps:\n  - {name: a, run: touch escaped, workdir: out}\n")
    r = subprocess.run([RUNNER, "validate", f"{p}/escape.yaml"], env=env, capture_output=True, text=True)
    out = r.stdout + r.stderr
    check("validate: a workdir that is a symlink out of the folder: exit 2, RUN2042 at its line, the target named",
          r.returncode == 2 and "RUN2042" in out and "escape.yaml:4:" in out and outside in out, (r.returncode, out[-400:]))
    r = subprocess.run([RUNNER, "apply", f"{p}/escape.yaml"], env=env, capture_output=True, text=True)
    check("apply refuses it too (exit 2), nothing written outside",
          r.returncode == 2 and not os.path.exists(f"{outside}/escaped"), (r.returncode, r.stderr[-300:]))
    write(f"{p}/inside.yaml", "version: 1\nname: inside\nsteps:\n  - {name: a, run: pwd -P > seen, workdir: in}\n")
    r = subprocess.run([RUNNER, "apply", f"{p}/inside.yaml"], env=env, capture_output=True, text=True)
    check("a symlink that stays inside is followed", r.returncode == 0 and os.path.exists(f"{p}/sub/seen"), (r.returncode, r.stderr[-300:]))

    write(f"{p}/missing.yaml", "version: 1\nname: missing\nsteps:\n  - {name: build, run: echo hi, workdir: build/out}\n")
    r = subprocess.run([RUNNER, "apply", f"{p}/missing.yaml", "--json"], env=env, capture_output=True, text=True)
    step = next(iter(json.loads(r.stdout).get("steps", [])), {}) if r.stdout.startswith("{") else {}
    message = step.get("error_message") or step.get("message") or ""
    check("a missing workdir: the step fails naming the directory, not /bin/sh",
          r.returncode == 1 and "workdir 'build/out' does not exist" in message and f"{p}/build/out" in message
          and "/bin/sh" not in message, (r.returncode, step))

    write(f"{p}/made.yaml", "version: 1\nname: made\nsteps:\n"
          f"  - {{name: link, run: \"ln -s '{outside}' later\"}}\n"
          "  - {name: write, run: touch escaped, workdir: later, needs: [link]}\n")
    r = subprocess.run([RUNNER, "apply", f"{p}/made.yaml", "--json"], env=env, capture_output=True, text=True)
    steps = {s["name"]: s for s in json.loads(r.stdout).get("steps", [])} if r.stdout.startswith("{") else {}
    message = steps.get("write", {}).get("error_message") or ""
    check("a symlink out made by an earlier step (validate saw nothing): refused at launch, RUN2042, nothing written",
          r.returncode == 1 and "RUN2042" in message and "workdir 'later'" in message
          and not os.path.exists(f"{outside}/escaped"), (r.returncode, steps.get("write")))


def serve_checks(work):
    p, outside = f"{work}/s-pipelines", f"{work}/outside"
    os.makedirs(f"{p}/sub")
    os.symlink("sub", f"{p}/link")
    write(f"{p}/swap.yaml", "version: 1\nname: swap\nsteps:\n  - {name: a, run: touch written, workdir: link}\n")
    server = ServeProcess(f"{work}/s", pipelines=p)
    os.makedirs(f"{work}/s")
    try:
        token = server.cli("token", "create", "--role", "operator", "--name", "faults").stdout.strip()
        server.start(who="test-inputs-workdir")
        # Loaded while the link pointed inside; then it is pointed out of the folder.
        os.remove(f"{p}/link")
        os.symlink(outside, f"{p}/link")
        req = urllib.request.Request(f"http://127.0.0.1:{server.port}/api/v1/pipelines/swap/runs", data=b"{}", method="POST")
        req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=30) as reply:
            run_id = json.loads(reply.read())["run_id"]
        run = {}
        deadline = time.time() + 20
        while time.time() < deadline and run.get("status") not in TERMINAL:
            req = urllib.request.Request(f"http://127.0.0.1:{server.port}/api/v1/runs/{run_id}")
            req.add_header("Authorization", f"Bearer {token}")
            with urllib.request.urlopen(req, timeout=30) as reply:
                run = json.loads(reply.read())
            time.sleep(0.1)
        step = next(iter(run.get("steps", [])), {})
        check("serve: the link re-pointed out of the folder after loading: the step is refused at launch (RUN2042)",
              run.get("status") == "failed" and "RUN2042" in (step.get("error_message") or "")
              and not os.path.exists(f"{outside}/written"), (run.get("status"), step))
    finally:
        if server.process:
            server.process.terminate()
            server.process.wait(timeout=30)


def main():
    work = tempfile.mkdtemp(prefix="faults-workdir.")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNER_", "PARAM_"))}
    env.update(RUNNER_HOME=f"{work}/home", NO_COLOR="1")
    try:
        print("workdir confined by its resolved path; a missing one named")
        for d in ("p/sub", "outside"):
            os.makedirs(f"{work}/{d}")
        cli_checks(work, env)
        serve_checks(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"test-inputs-workdir: {checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
