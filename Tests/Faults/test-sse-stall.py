#!/usr/bin/env -S python3 -B
"""Stalled event streams (issue 16, item 7). A run with a 200 MB log; six clients open
/api/v1/runs/{id}/events with a tiny receive buffer and never read. The server must stay
bounded: its RSS under 300 MB and its CPU under half a core while they stall, a normal request
still answered, and a client that does read still gets the log.
Usage: test-sse-stall.py RUNNER"""
import os
import socket
import time

from faults import FaultWork, Serve, check, checks

LOG_BYTES = 200_000_000
STALLED = 6
RSS_LIMIT_MB = 300
WATCH_SECONDS = 8


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def open_stream(server, run, receive_buffer=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    s.connect(("127.0.0.1", server.port))
    s.sendall(f"GET /api/v1/runs/{run}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token}\r\n\r\n".encode())
    return s


def follow(server, run, line):
    """A normal request meanwhile, and a client that reads."""
    begun = time.monotonic()
    status, body = server.request("GET", f"/api/v1/runs/{run}", timeout=5)
    answered = status == 200 and body["id"] == run
    check("a normal request is answered meanwhile", answered is True,
          f"{status} {body} after {time.monotonic() - begun:.1f} s")
    reader = open_stream(server, run)
    reader.settimeout(5)
    received = b""
    try:
        while len(received) < 1_000_000:
            chunk = reader.recv(65536)
            if not chunk:
                break
            received += chunk
    except OSError:
        pass
    reader.close()
    check("a client that reads gets the log as events", received.count(b"event: log\n") > 1000 and line.encode() in received,
          f"{len(received)} bytes, {received[:200]!r}")


def main():
    line = "a line of the big log, long enough to make 200 MB of it in a few seconds"
    biglog = f"version: 1\nname: biglog\nsteps:\n  - {{name: write, run: \"yes '{line}' | head -c {LOG_BYTES}\"}}\n"
    with FaultWork("sse-stall", {"biglog.yaml": biglog}) as work, Serve(work, role="operator") as server:
        pid = server.process.pid
        run = server.request("POST", "/api/v1/pipelines/biglog/runs", {"params": {}})[1]["run_id"]
        status = (server.wait(run, seconds=60) or {}).get("status")
        check(f"the run wrote its {LOG_BYTES // 1_000_000} MB log", status == "succeeded", f"status {status}")
        base_rss = rss_mb(pid)

        streams = [open_stream(server, run, receive_buffer=4096) for _ in range(STALLED)]
        cpu_start, peak, started = cpu_seconds(pid), base_rss, time.monotonic()
        while time.monotonic() - started < WATCH_SECONDS and peak < RSS_LIMIT_MB:
            peak = max(peak, rss_mb(pid))
            time.sleep(0.2)
        cpu = (cpu_seconds(pid) - cpu_start) / (time.monotonic() - started)
        check(f"{STALLED} stalled streams: the server's RSS stays under {RSS_LIMIT_MB} MB (peak {peak:.0f} MB)",
              peak < RSS_LIMIT_MB, f"peak {peak:.0f} MB (before the streams {base_rss:.0f} MB)")
        check(f"... and its CPU under half a core ({cpu:.2f})", cpu < 0.5, f"{cpu:.2f} cores")
        if peak >= RSS_LIMIT_MB:
            server.kill()  # do not let it take the machine's memory
        else:
            follow(server, run, line)
        for s in streams:
            s.close()
    checks.finish("test-sse-stall")

if __name__ == "__main__":
    main()
