#!/usr/bin/env -S python3 -B
"""A NUL in the URL (issue 16, item 9). libmicrohttpd hands the decoded path over as a C string,
so `/api/v1/runs/ID%00x/...` was routed as `/api/v1/runs/ID`: a proxy allowing one path let
another through. `%00` in the path (or a NUL byte anywhere in the request line) is refused with
400 RUN6013 in the API's error shape, and the connection closed; in a query value the NUL
arrives as U+FFFD, so the value is never cut short (`attempt=1%00x` is not attempt 1: 400
RUN2102). Usage: test-http-nul-url.py RUNNER"""
from faults import FaultWork, Serve, check, checks
from http_raw import error_code, exchange

NOOP = "version: 1\nname: noop\nsteps:\n  - {name: s, run: 'echo hi'}\n"


def main():
    with FaultWork("nul-url", {"noop.yaml": NOOP}) as work, Serve(work, role="operator") as server:
        run = server.http("POST", "/api/v1/pipelines/noop/runs", {"params": {}}).decoded()["run_id"]
        server.wait(run, seconds=10)
        auth = f"Host: x\r\nAuthorization: Bearer {server.token}\r\n\r\n"
        for method, target in [("GET", f"/api/v1/runs/{run}%00x"), ("POST", f"/api/v1/runs/{run}%00/cancel"),
                               ("GET", "/api/v1/pipelines/noop%00.yaml"), ("GET", f"/api/v1/runs/{run}\0x"),
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
    checks.finish("test-http-nul-url")


if __name__ == "__main__":
    main()
