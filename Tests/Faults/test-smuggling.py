#!/usr/bin/env -S python3 -B
"""Request smuggling (issue 16, item 8). A body whose length has two readings — Content-Length
fields that disagree, Content-Length with Transfer-Encoding, a coding other than `chunked` —
lets a proxy in front and `runner serve` disagree where a request ends, and the rest passes as
a request of its own. Each is refused (400 RUN6011, 501 RUN6012, the API's error shape) before
its handler, the connection is closed, and the request hidden behind it is never answered.
Usage: test-smuggling.py RUNNER"""
from faults import FaultWork, Serve, check, checks
from http_raw import error_code, exchange

NOOP = "version: 1\nname: noop\nsteps:\n  - {name: s, run: 'true'}\n"


def main():
    with FaultWork("smuggling", {"noop.yaml": NOOP}) as work, Serve(work, role="operator") as server:
        auth = f"Authorization: Bearer {server.token}\r\n"
        launch = f"POST /api/v1/pipelines/noop/runs HTTP/1.1\r\nHost: x\r\n{auth}"
        hidden = f"POST /api/v1/pipelines/noop/runs HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 2\r\n\r\n{{}}"
        cases = [
            ("Content-Length: 2 and Content-Length: 200", 400, "RUN6011",
             launch + "Content-Length: 2\r\nContent-Length: 200\r\n\r\n{}" + hidden),
            ("Content-Length with Transfer-Encoding: chunked", 400, "RUN6011",
             launch + "Content-Length: 200\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n" + hidden),
            ("Transfer-Encoding: gzip", 501, "RUN6012", launch + "Transfer-Encoding: gzip\r\n\r\n{}" + hidden),
            ("Transfer-Encoding: chunked twice", 501, "RUN6012",
             launch + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n" + hidden),
        ]
        for name, status, code, data in cases:
            responses, closed = exchange(server.port, data.encode())
            first = responses[0] if responses else (None, {}, b"")
            check(f"{name}: {status} {code} in the API's error shape",
                  first[0] == status and error_code(first[2]) == code, f"{responses[:2]}"[:400])
            check(f"{name}: the connection is closed, the request behind it never answered",
                  closed and len(responses) == 1 and first[1].get("connection") == "close", f"closed={closed}, {len(responses)} responses")
        launched = [run["id"] for run in server.http("GET", "/api/v1/runs").decoded()["runs"]]
        check("no run was launched by any of them", launched == [], f"launched: {launched}")
        responses, _ = exchange(server.port, (launch + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n").encode())
        check("a chunked body alone still launches (202)", responses[:1] and responses[0][0] == 202, f"{responses[:1]}")
    checks.finish("test-smuggling")


if __name__ == "__main__":
    main()
