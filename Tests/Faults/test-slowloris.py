#!/usr/bin/env -S python3 -B
"""Slowloris (issue 16, item 6). One unauthenticated client (source address 127.0.0.2) opens
1,100 connections to `runner serve` and trickles their headers a byte at a time; a normal client
(127.0.0.1) must still be answered within 1 s. The attacker keeps 128 connections at most (the
per-client limit, the rest are closed as they come), and those are cut at the header deadline
(10 s by default) although each byte resets the 30 s idle timeout.
Usage: test-slowloris.py RUNNER"""
import http.client
import resource
import select
import socket
import time

from faults import FaultWork, check, checks

ATTACKERS = 1100
PER_CLIENT = 128          # runner serve's default --max-client-connections
HEADER_TIMEOUT = 10       # and --header-timeout
NOOP = "version: 1\nname: noop\nsteps:\n  - {name: s, run: 'true'}\n"


def answered_within(port, seconds, path="/healthz"):
    """The normal client: (status, seconds taken), or (None, error) when not answered in time."""
    start = time.monotonic()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds)
        connection.request("GET", path)
        status = connection.getresponse().status
        connection.close()
        return status, time.monotonic() - start
    except OSError as error:
        return None, f"{type(error).__name__}: {error}"


def open_attack(port):
    """ATTACKERS non-blocking connections from 127.0.0.2, each with a request line and half a header."""
    sockets = []
    for _ in range(ATTACKERS):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.2", 0))
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        sockets.append(s)
    time.sleep(0.5)
    for s in sockets:
        trickle(s, b"GET /api/v1/pipelines HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    return sockets


def trickle(s, data=b"x"):
    try:
        s.send(data)
    except OSError:
        pass


class Watch:
    """What the server did to each attacker connection: closed it, and what it sent first."""

    def __init__(self, sockets):
        self.open = set(sockets)
        self.received = {}

    def poll(self, seconds):
        deadline = time.monotonic() + seconds
        while self.open and time.monotonic() < deadline:
            poller = select.poll()  # not select(): descriptors pass 1024 here
            by_fd = {s.fileno(): s for s in self.open}
            for fd in by_fd:
                poller.register(fd, select.POLLIN)
            for fd, _ in poller.poll(50):
                s = by_fd[fd]
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    self.received[s] = self.received.get(s, b"") + data
                else:
                    self.open.discard(s)


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))  # the server inherits it
    with FaultWork("slowloris", {"noop.yaml": NOOP}) as work, work.server() as server:
        server.start()
        status, taken = answered_within(server.port, 1)
        check("before the attack, /healthz is answered", status == 200, f"{status} {taken}")

        started = time.monotonic()
        sockets = open_attack(server.port)
        status, taken = answered_within(server.port, 1)
        check(f"under {ATTACKERS} trickling connections from 127.0.0.2, 127.0.0.1 is answered within 1 s"
              + (f" ({taken * 1000:.0f} ms)" if status == 200 else ""), status == 200, f"status {status}, {taken}")
        watch = Watch(sockets)
        watch.poll(2)
        check(f"the attacker keeps at most {PER_CLIENT} connections (the rest closed as they come)",
              len(watch.open) <= PER_CLIENT, f"{len(watch.open)} still open")

        # An attacker resets the idle timeout with a byte every 2 s; the header deadline holds.
        held = set(watch.open)
        while watch.open and time.monotonic() - started < HEADER_TIMEOUT + 4:
            for s in list(watch.open):
                trickle(s)
            watch.poll(2)
        check(f"every held connection is closed at the {HEADER_TIMEOUT} s header deadline, bytes or not",
              not watch.open, f"{len(watch.open)} still open after {time.monotonic() - started:.1f} s")
        answers = [watch.received.get(s, b"") for s in held]
        check("a connection cut at the deadline is told why (408 RUN6014)",
              held and all(a.startswith(b"HTTP/1.1 408") and b"RUN6014" in a for a in answers),
              f"{answers[:1]}")
        status, taken = answered_within(server.port, 1)
        check("after the attack, 127.0.0.1 is answered within 1 s", status == 200, f"status {status}, {taken}")
        for s in sockets:
            s.close()
    checks.finish("test-slowloris")


if __name__ == "__main__":
    main()
