#!/usr/bin/env -S python3 -B
"""Issue 16, item 5: a secret never leaks, and masking never corrupts other output.

A pipeline with a secret string param, a secret list param and a concurrency key over the
secret prints them every way the issue names: inside one 65,530-byte write, in two halves
with a pause between them, in its outputs and progress messages, each list item alone, beside
bytes that are not UTF-8. It runs with `runner apply` and under `runner serve` (its SSE
stream and log route read while it runs). None of the values may appear in anything the
runner prints, answers or writes (every file under RUNNER_HOME, state.db included); the
non-UTF-8 bytes reach the log unchanged; an invalid secret value is not echoed in the error;
a conflict over the secret key does not print it; state files are 0600 in 0700 folders."""
import json
import os
import socket
import stat
import subprocess
import threading
import time

from faults import RUNNER, FaultWork, Serve, check, checks

TOKEN = "tok3n-S3CR3T-value-0123456789"
ITEMS = ["item-one-Zq81", "item-two-Xw42"]
ENV_SECRET = "env-S3CR3T-from-the-runner-77"
PIPELINE = r"""version: 1
name: secrets
params:
  token: {type: string, secret: true, pattern: "tok3n-.*", error: INVALID_TOKEN}
  keys: {type: list, items: {type: string}, secret: true}
concurrency: {key: params.token, on_conflict: reject, error: BUSY_WITH_TOKEN}
env:
  DEPLOY_TOKEN: {from_env: FAULTS_DEPLOY_TOKEN, secret: true}
steps:
  - name: envs
    run: echo "deploying with $DEPLOY_TOKEN"
  - name: big
    run: python3 -c 'import os,sys; os.write(1, b"x" * 65530 + sys.argv[1].encode() + b"\n")' "$PARAM_TOKEN"
  - name: halves
    shell: bash
    run: |
      printf %s "${PARAM_TOKEN:0:9}"; sleep 0.3; printf '%s\n' "${PARAM_TOKEN:9}"
      printf %s "${PARAM_TOKEN:0:12}" >&2; sleep 0.3; printf '%s\n' "${PARAM_TOKEN:12}" >&2
  - name: items
    run: |
      for k in $PARAM_KEYS; do echo "key=$k"; done
      printf 'raw \377\376 bytes\n'
  - name: leaks
    outputs: [token, first]
    run: |
      echo "token=$PARAM_TOKEN" >> "$RUNNER_OUTPUT"
      echo "first=$(echo "$PARAM_KEYS" | head -1)" >> "$RUNNER_OUTPUT"
      echo "50 using $PARAM_TOKEN" >> "$RUNNER_PROGRESS"
      sleep 1.2
      echo "90 key $(echo "$PARAM_KEYS" | tail -1)" >> "$RUNNER_PROGRESS"
      sleep 0.6
  - name: hold
    needs: [leaks]
    run: sleep 2
"""
work = FaultWork("secrets", {"secrets.yaml": PIPELINE})
VALUES = [TOKEN] + ITEMS + [ENV_SECRET]
work.env["FAULTS_DEPLOY_TOKEN"] = ENV_SECRET


def leaked(text):
    if isinstance(text, bytes):
        return [v for v in VALUES if v.encode() in text]
    return [v for v in VALUES if v in text]


def files_with_secrets():
    found = []
    for root, _, files in os.walk(work.home):
        for name in files:
            path = os.path.join(root, name)
            try:
                data = open(path, "rb").read()
            except OSError:
                continue
            if leaked(data):
                found.append(os.path.relpath(path, work.home))
    return found


def modes():
    bad = []
    for root, dirs, files in os.walk(work.home):
        for d in dirs:
            m = stat.S_IMODE(os.stat(os.path.join(root, d)).st_mode)
            if m & 0o077:
                bad.append(f"{os.path.relpath(os.path.join(root, d), work.home)}/ {oct(m)}")
        for f in files:
            m = stat.S_IMODE(os.stat(os.path.join(root, f)).st_mode)
            if m & 0o077:
                bad.append(f"{os.path.relpath(os.path.join(root, f), work.home)} {oct(m)}")
    m = stat.S_IMODE(os.stat(work.home).st_mode)
    if m & 0o077:
        bad.append(f"RUNNER_HOME {oct(m)}")
    return bad


params = ["-p", f"token={TOKEN}", "-p", f"keys={ITEMS[0]},{ITEMS[1]}"]
try:
    applied = work.cli("apply", os.path.join(work.pipelines, "secrets.yaml"), *params)
    check("apply succeeds", applied.returncode == 0, applied.stderr[-1500:])
    check("apply prints no secret (console, live output)", not leaked(applied.stdout + applied.stderr), leaked(applied.stdout + applied.stderr))
    run_id = work.runs()[0]["id"]
    for args in (["runs", "list", "--json"], ["runs", "list"], ["runs", "show", run_id, "--json"], ["runs", "show", run_id],
                 ["runs", "logs", run_id]):
        out = work.cli(*args)
        check(f"runner {' '.join(args[:2])}{' --json' if '--json' in args else ''} shows no secret", out.returncode == 0 and not leaked(out.stdout + out.stderr),
              leaked(out.stdout + out.stderr) or out.stderr[-500:])
    shown = work.show(run_id)
    outputs = {s["name"]: s.get("outputs") for s in shown["steps"]}
    check("outputs holding a secret are stored as ***", outputs.get("leaks") == {"token": "token=***"[6:], "first": "***"} or
          outputs.get("leaks") == {"token": "***", "first": "***"}, outputs.get("leaks"))
    logs = work.cli("runs", "logs", run_id, "big").stdout
    check("a secret inside one 65,530-byte write is masked", logs.rstrip().endswith("x***") and "x" * 65530 in logs, logs[-80:])
    log_dir = os.path.join(work.home, "logs", run_id)
    items_log = open([os.path.join(log_dir, f) for f in os.listdir(log_dir) if f.startswith("items.")][0], "rb").read()
    check("each item of a secret list is masked", items_log.count(b"key=***") == 2, items_log)
    check("bytes that are not UTF-8 reach the log unchanged", b"raw \xff\xfe bytes\n" in items_log, items_log)
    halves = open([os.path.join(log_dir, f) for f in os.listdir(log_dir) if f.startswith("halves.")][0], "rb").read()
    check("a secret written in two halves is masked (stdout and stderr)", halves.count(b"***") == 2 and not leaked(halves), halves)
    envs_log = open([os.path.join(log_dir, f) for f in os.listdir(log_dir) if f.startswith("envs.")][0], "rb").read()
    check("a secret env value taken from the runner's environment is masked", envs_log == b"deploying with ***\n", envs_log)
    without = {k: v for k, v in work.env.items() if k != "FAULTS_DEPLOY_TOKEN"}
    unset = subprocess.run([RUNNER, "apply", os.path.join(work.pipelines, "secrets.yaml"), "-p", "token=tok3n-other", "-p", "keys=x"],
                           env=without, capture_output=True, text=True)
    check("a required from_env variable unset: the run fails with ENV_UNAVAILABLE before any step",
          unset.returncode == 1 and "ENV_UNAVAILABLE" in unset.stdout + unset.stderr and "FAULTS_DEPLOY_TOKEN" in unset.stdout + unset.stderr,
          (unset.stdout + unset.stderr)[-800:])
    check("no .output or .progress file is left", not [f for f in os.listdir(log_dir) if f.endswith((".output", ".progress"))],
          os.listdir(log_dir))

    bad = work.cli("apply", os.path.join(work.pipelines, "secrets.yaml"), "-p", "token=not-a-token-SECRETISH", "-p", "keys=a")
    check("an invalid secret value: exit 2 with the param's code, the value not echoed",
          bad.returncode == 2 and "INVALID_TOKEN" in bad.stderr and "SECRETISH" not in bad.stderr + bad.stdout, bad.stderr[-800:])

    server = Serve(work)
    sse_data = []

    def follow(run):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(f"GET /api/v1/runs/{run}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token}\r\n\r\n".encode())
        s.settimeout(30)
        while True:
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            sse_data.append(chunk)
            if b"event: end" in chunk:
                break
        s.close()

    status, accepted = server.request("POST", "/api/v1/pipelines/secrets/runs", {"params": {"token": TOKEN, "keys": ITEMS}})
    check("API launch: 202 without the secret in the answer", status == 202 and not leaked(json.dumps(accepted)), accepted)
    api_run = accepted["run_id"]
    follower = threading.Thread(target=follow, args=(api_run,))
    follower.start()
    time.sleep(1.5)
    status, conflict = server.request("POST", "/api/v1/pipelines/secrets/runs", {"params": {"token": TOKEN, "keys": ITEMS}})
    check("a conflict over the secret key: 409, the secret not printed", status == 409 and not leaked(json.dumps(conflict)),
          f"{status} {conflict}")
    cli_conflict = work.cli("apply", os.path.join(work.pipelines, "secrets.yaml"), *params)
    check("a conflict in the CLI: exit 3, the secret not printed", cli_conflict.returncode == 3 and not leaked(cli_conflict.stderr),
          cli_conflict.stderr[-600:])
    status, live = server.request("GET", f"/api/v1/runs/{api_run}")
    check("GET run while it runs: no secret (params, outputs, progress)", status == 200 and not leaked(json.dumps(live)), leaked(json.dumps(live)))
    follower.join(40)
    final = server.wait(api_run, seconds=40)
    check("the API run succeeds", final and final["status"] == "succeeded", final and final["status"])
    check("the SSE stream carries no secret", sse_data and not leaked(b"".join(sse_data)), leaked(b"".join(sse_data)))
    for step in ("big", "halves", "items", "leaks"):
        status, text = server.request("GET", f"/api/v1/runs/{api_run}/steps/{step}/log")
        check(f"the log route of {step} carries no secret", status == 200 and not leaked(str(text)), f"{status} {leaked(str(text))}")
    status, audit = server.request("GET", "/api/v1/audit")
    check("the audit log carries no secret", status == 200 and not leaked(json.dumps(audit)), leaked(json.dumps(audit)))
    status, bad = server.request("POST", "/api/v1/pipelines/secrets/runs", {"params": {"token": "bad-SECRETISH", "keys": ["a"]}})
    check("API: an invalid secret value is not echoed", status == 400 and "SECRETISH" not in json.dumps(bad), bad)
    server.stop()
    serve_out = open(os.path.join(work.dir, "serve.out"), "rb").read()
    check("the server's output carries no secret", not leaked(serve_out), leaked(serve_out))
    check("no file under RUNNER_HOME holds a secret (state.db, its WAL, logs, journals)", not files_with_secrets(), files_with_secrets())
    check("the state directory and its folders are 0700, its files 0600", not modes(), modes())
finally:
    work.cleanup()
checks.finish("test-secrets")
