#!/usr/bin/env python3
"""A NUL in the URL (issue 16, item 9). libmicrohttpd hands the decoded path over as a C string,
so `/api/v1/runs/ID%00x/...` was routed as `/api/v1/runs/ID`: a proxy allowing one path let
another through. `%00` in the path (or a NUL byte anywhere in the request line) is refused with
400 RUN6013 in the API's error shape, and the connection closed; in a query value the NUL
arrives as U+FFFD, so the value is never cut short (`attempt=1%00x` is not attempt 1: 400
RUN2102). Usage: test-http-nul-url.py RUNNER"""
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "E2E"))
sys.path.insert(0, HERE)
from faults import stop_server  # noqa: E402
from runner_e2e import Checks, ServeProcess  # noqa: E402
from http_raw import error_code, exchange  # noqa: E402

checks = Checks()
check = checks.check


def api(server, method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {server.token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def main():
    work = tempfile.mkdtemp(prefix="fault-nul-url.")
    server = None
    try:
        os.makedirs(f"{work}/pipelines")
        with open(f"{work}/pipelines/noop.yaml", "w") as f:
            f.write("version: 1\nname: noop\nsteps:\n  - {name: s, run: 'echo hi'}\n")
        server = ServeProcess(work, pipelines=f"{work}/pipelines")
        server.token = server.cli("token", "create", "--role", "operator", "--name", "faults").stdout.strip()
        server.start(who="test-http-nul-url")
        run = api(server, "POST", "/api/v1/pipelines/noop/runs", {"params": {}})["run_id"]
        for _ in range(100):
            if api(server, "GET", f"/api/v1/runs/{run}")["status"] == "succeeded":
                break
            time.sleep(0.1)
        auth = f"Host: x\r\nAuthorization: Bearer {server.token}\r\n\r\n"
        for method, target in [("GET", f"/api/v1/runs/{run}%00x"), ("POST", f"/api/v1/runs/{run}%00/cancel"),
                               ("GET", f"/api/v1/pipelines/noop%00.yaml"), ("GET", f"/api/v1/runs/{run}\0x"),
                               ("GET", f"/api/v1/runs/{run}/steps/s/log?attempt=1\0x")]:
            responses, closed = exchange(server.port, f"{method} {target} HTTP/1.1\r\n{auth}".encode())
            first = responses[0] if responses else (None, {}, b"")
            check(f"{method} {target!r}: 400 RUN6013, closed", first[0] == 400 and error_code(first[2]) == "RUN6013" and closed,
                  f"closed={closed}, {responses[:1]}"[:400])
        responses, _ = exchange(server.port, f"GET /api/v1/runs/{run}/steps/s/log?attempt=1%00x HTTP/1.1\r\n{auth}".encode(), seconds=1)
        first = responses[0] if responses else (None, {}, b"")
        check("?attempt=1%00x is no attempt 1: 400 RUN2102 (the value is not cut short)",
              first[0] == 400 and error_code(first[2]) == "RUN2102", f"{responses[:1]}"[:300])
        responses, _ = exchange(server.port, f"GET /api/v1/runs/{run} HTTP/1.1\r\n{auth}".encode(), seconds=1)
        check("the same run without the NUL is answered (200)", responses[:1] and responses[0][0] == 200, f"{responses[:1]}"[:300])
    finally:
        stop_server(server)
        shutil.rmtree(work, ignore_errors=True)
    print(f"test-http-nul-url: {checks.passed} passed, {checks.failed} failed")
    sys.exit(1 if checks.failed else 0)


if __name__ == "__main__":
    main()
