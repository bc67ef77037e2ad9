#!/usr/bin/env -S python3 -B
"""Event streams under load: STREAMS clients (default 100) follow one running run (steps that
sleep, a quiet log) for 10 s; prints the server's CPU (cores) and threads. Binaries are
compared in one invocation, alternated ROUNDS times (default 2): the machine's speed drifts.
Usage: bench/sse-streams.py RUNNER [RUNNER...]"""
import os
import socket
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [f"{ROOT}/Tests/Faults", f"{ROOT}/Tests/E2E"]
import runner_e2e  # noqa: E402
from faults import FaultWork, Serve  # noqa: E402

WATCH = 10
SLEEPER = "version: 1\nname: sleeper\nsteps:\n" + "".join(f"  - {{name: s{i}, run: \"sleep 60\"}}\n" for i in range(20))


def proc(pid, name):
    with open(f"/proc/{pid}/{name}") as f:
        return f.read()


def cpu_seconds(pid):
    fields = proc(pid, "stat").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def threads(pid):
    return next(int(line.split()[1]) for line in proc(pid, "status").splitlines() if line.startswith("Threads:"))


def measure(runner, n):
    runner_e2e.RUNNER = runner
    with FaultWork("sse-streams", {"sleeper.yaml": SLEEPER}) as work, Serve(work, role="operator") as server:
        pid = server.process.pid
        run = server.request("POST", "/api/v1/pipelines/sleeper/runs", {"params": {}})[1]["run_id"]
        time.sleep(2)
        clients = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", server.port))
            s.sendall(f"GET /api/v1/runs/{run}/events HTTP/1.1\r\nHost: x\r\n"
                      f"Authorization: Bearer {server.token}\r\n\r\n".encode())
            clients.append(s)
        time.sleep(2)
        began, cpu = time.monotonic(), cpu_seconds(pid)
        time.sleep(WATCH)
        used = (cpu_seconds(pid) - cpu) / (time.monotonic() - began)
        print(f"{runner}: {n} streams, {used:.3f} cores, {threads(pid)} threads", flush=True)
        for s in clients:
            s.close()


def main():
    n, runners = int(os.environ.get("STREAMS", "100")), sys.argv[1:]
    for _ in range(int(os.environ.get("ROUNDS", "2"))):
        for runner in runners:
            measure(os.path.abspath(runner), n)


if __name__ == "__main__":
    main()
