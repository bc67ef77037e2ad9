#!/usr/bin/env python3
"""rollback_verify: serves the live site over HTTP on a loopback port and checks that /docs/
and /openapi/ answer 200 with HTML: the site is reachable again after the rollback."""
import functools
import http.server
import os
import sys
import threading
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import DEMO_ROOT, die, inject_failure, output  # noqa: E402


def main():
    inject_failure("verification failed")
    root = os.environ.get("PUBLISH_ROOT", os.path.join(DEMO_ROOT, "docs-publish", "site"))
    current = os.path.realpath(os.path.join(root, "current"))
    if not os.path.isdir(current):
        die(f"no live site at {root}/current")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=current)
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        for path in ("/docs/", "/openapi/"):
            url = f"http://127.0.0.1:{port}{path}"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    body = response.read(4096).decode("utf-8", "replace")
                    if response.status != 200 or "<html" not in body.lower():
                        die(f"{path} answered {response.status} without an HTML page")
            except OSError as error:
                die(f"{path} is not reachable: {error}")
            print(f"{path}: 200 OK")
    finally:
        server.shutdown()
    output("verified", os.path.basename(current))


if __name__ == "__main__":
    main()
