#!/usr/bin/env -S python3 -B
"""Instructions the server executes per authenticated GET /api/v1/runs/{id} (callgrind, the
whole process, REQUESTS requests on one kept-alive connection, default 500): the relative
cost of the request path, without the noise of a timed benchmark on a shared machine.
Binaries are alternated ROUNDS times (default 2). Debug information is stripped from a copy
of each binary first (valgrind 3.19 cannot read Swift's DWARF 5).
Usage: bench/get-instructions.py RUNNER [RUNNER...]"""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

NOOP = 'version: 1\nname: noop\nsteps:\n  - {name: step, run: "true"}\n'


def serve(runner, work):
    os.makedirs(f"{work}/pipelines")
    with open(f"{work}/pipelines/noop.yaml", "w") as f:
        f.write(NOOP)
    env = dict(os.environ, RUNNER_HOME=f"{work}/home")
    token = subprocess.run([runner, "token", "create", "--role", "operator", "--name", "bench"], env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    out = open(f"{work}/serve.out", "w")
    process = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={work}/callgrind.out", runner,
                                "serve", "--pipelines", f"{work}/pipelines", "--listen", "127.0.0.1:0",
                                "--shutdown-grace", "0s"], env=env, stdout=out, stderr=subprocess.STDOUT)
    for _ in range(1200):
        with open(f"{work}/serve.out") as f:
            found = re.search(r"listening on .*?127\.0\.0\.1:(\d+)", f.read())
        if found:
            return process, int(found.group(1)), {"Authorization": f"Bearer {token}"}
        time.sleep(0.1)
    raise SystemExit(f"{runner} did not start under valgrind")


def measure(runner, requests):
    work = tempfile.mkdtemp(prefix="get-instructions.")
    stripped = f"{work}/runner"
    subprocess.run(["objcopy", "--strip-debug", runner, stripped], check=True)
    process, port, headers = serve(stripped, work)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("POST", "/api/v1/pipelines/noop/runs", body="{}", headers=headers)
    run = json.loads(connection.getresponse().read())["run_id"]
    for _ in range(200):
        connection.request("GET", f"/api/v1/runs/{run}", headers=headers)
        if b'"succeeded"' in connection.getresponse().read():
            break
        time.sleep(0.1)
    subprocess.run(["callgrind_control", "-z", str(process.pid)], capture_output=True)
    for _ in range(requests):
        connection.request("GET", f"/api/v1/runs/{run}", headers=headers)
        connection.getresponse().read()
    subprocess.run(["callgrind_control", "-d", str(process.pid)], capture_output=True)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=300)
    with open(f"{work}/callgrind.out.1") as f:
        total = next(int(line.split()[1]) for line in f if line.startswith("totals:"))
    print(f"{runner}: {total / requests:,.0f} instructions per GET ({requests} requests)", flush=True)


def main():
    requests = int(os.environ.get("REQUESTS", "500"))
    for _ in range(int(os.environ.get("ROUNDS", "2"))):
        for runner in sys.argv[1:]:
            measure(os.path.abspath(runner), requests)


if __name__ == "__main__":
    main()
