#!/usr/bin/env python3
"""rollback_verify: checks the live release is the one rollback_prepare chose, serves it over
HTTP on an ephemeral loopback port (in-process, one thread) and checks that /docs/ and
/openapi/ answer 200 with an HTML page: the site is reachable again (seed 000, step 5)."""
import functools
import http.server
import os
import sys
import threading
import urllib.request

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import DEMO_ROOT, die, inject_failure, output  # noqa: E402


def main():
    inject_failure("verification failed")
    root = os.environ.get("PUBLISH_ROOT", os.path.join(DEMO_ROOT, "docs-publish", "site"))
    current = os.path.realpath(os.path.join(root, "current"))
    if not os.path.isdir(current):
        die(f"no live site at {root}/current")
    expected = os.environ.get("STEP_ROLLBACK_PREPARE_PREVIOUS")
    if expected and os.path.basename(current) != expected:
        die(f"the live release is {os.path.basename(current)}, not {expected}")
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
                    # The whole page (closing after the first 4 KB reset the server's write:
                    # a traceback in the step's log for a check that passed).
                    body = response.read().decode("utf-8", "replace")
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
