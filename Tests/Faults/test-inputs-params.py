#!/usr/bin/env -S python3 -B
"""Param values a step could never see as given (issue 16, item 9): a NUL, which execve would
cut the value at, and a value longer than one environment variable holds (E2BIG at exec).
Both are refused where the value comes in — `--params FILE`, `-p` with a JSON list, the API
body (a hook's too), a schedule's params, a default — with the param's code: exit 2, HTTP 400.

Usage: Tests/Faults/test-inputs-params.py RUNNER
"""
import json
import os

from faults import Work, check, checks

LIMIT = 131072  # MAX_ARG_STRLEN: one NAME=value string, its NUL included
ROOM = LIMIT - len("PARAM_BODY=") - 1

PIPELINE = """\
version: 1
name: inputs
params:
  reason: {type: string, pattern: "[^;]+", error: INVALID_REASON}
  targets: {type: list, items: string, error: INVALID_TARGETS}
  count: {type: int, error: INVALID_COUNT}
  body: {type: string}
steps:
  - name: show
    run: 'printf %s "$PARAM_REASON" > seen-reason; printf %s "$PARAM_BODY" | wc -c > seen-body'
"""


def cli_checks(work):
    folder = work.pipelines

    def apply(params=None, *extra):
        args = ["apply", f"{folder}/inputs.yaml", *extra]
        if params is not None:
            args += ["--params", work.write("params.json", json.dumps(params))]
        return work.cli(*args)

    r = apply({"reason": "ok\u0000; rm -rf /"})
    check("--params: a NUL in a string with a pattern: exit 2, the param's code, nothing ran",
          r.returncode == 2 and "INVALID_REASON" in r.stderr and "NUL" in r.stderr
          and not os.path.exists(f"{folder}/seen-reason"), (r.returncode, r.stderr[-400:]))
    r = apply({"targets": ["a", "b\u0000c"]})
    check("--params: a NUL in a list item: exit 2, INVALID_TARGETS, names item 2",
          r.returncode == 2 and "INVALID_TARGETS" in r.stderr and "item 2" in r.stderr, (r.returncode, r.stderr[-400:]))
    r = apply(None, "-p", 'targets=["a","b\\u0000c"]')
    check("-p with a JSON list holding \\u0000: exit 2, INVALID_TARGETS",
          r.returncode == 2 and "INVALID_TARGETS" in r.stderr, (r.returncode, r.stderr[-400:]))
    r = apply({"count": "1\u0000"})
    check("--params: an int given as text with a NUL: exit 2, INVALID_COUNT", r.returncode == 2 and "INVALID_COUNT" in r.stderr,
          (r.returncode, r.stderr[-400:]))
    r = work.cli("plan", f"{folder}/inputs.yaml", "--params", work.path("params.json"))
    check("plan refuses it too: exit 2", r.returncode == 2 and "INVALID_COUNT" in r.stderr, (r.returncode, r.stderr[-300:]))
    r = apply({"body": "x" * (ROOM + 1)})
    check(f"--params: a value of {ROOM + 1:,} bytes (one more than $PARAM_BODY holds): exit 2, RUN2105, the sizes",
          r.returncode == 2 and "RUN2105" in r.stderr and f"{ROOM + 1:,}" in r.stderr and f"{ROOM:,}" in r.stderr,
          (r.returncode, r.stderr[-400:]))
    r = apply({"body": "x" * ROOM, "reason": "fine"})
    seen = open(f"{folder}/seen-body").read().strip() if os.path.exists(f"{folder}/seen-body") else None
    check(f"a value of exactly {ROOM:,} bytes runs, and the step sees all of it",
          r.returncode == 0 and seen == str(ROOM), (r.returncode, seen, r.stderr[-400:]))
    runs = work.runs()
    check("only that one run was recorded", len(runs) == 1, len(runs))


def validate_checks(work):
    schedule = work.write("v/schedule.yaml", PIPELINE.replace(
        "steps:", 'triggers:\n  schedule:\n    - {cron: "0 3 * * *", params: {reason: "ok\\0x"}}\nsteps:'))
    r = work.cli("validate", schedule)
    check("a schedule's param with a NUL: validate exit 2, RUN2031 naming the NUL",
          r.returncode == 2 and "RUN2031" in r.stdout + r.stderr and "NUL" in r.stdout + r.stderr, (r.returncode, r.stdout[-400:]))
    default = work.write("v/default.yaml",
                         PIPELINE.replace("body: {type: string}", 'body: {type: string, default: "a\\0b"}'))
    r = work.cli("validate", default)
    check("a default with a NUL: validate exit 2, RUN2021", r.returncode == 2 and "RUN2021" in r.stdout + r.stderr,
          (r.returncode, r.stdout[-400:]))


def api_checks(work):
    """With a server of its own (state in s/home), beside the CLI's runs."""
    with work.server(apart="s") as server:
        server.token = server.new_token("operator", "faults")
        server.start()
        path = "/api/v1/pipelines/inputs/runs"

        def request(body):
            reply = server.http("POST", path, body)
            return reply.status, reply.decoded()

        status, body = request({"params": {"reason": "ok\u0000; rm"}})
        check("API: a NUL in a string: 400 with the param's code", status == 400 and body.get("code") == "INVALID_REASON"
              and "NUL" in body.get("message", ""), (status, body))
        status, body = request({"params": {"targets": ["a", "\u0000"]}})
        check("API: a NUL in a list item: 400 INVALID_TARGETS", status == 400 and body.get("code") == "INVALID_TARGETS", (status, body))
        status, body = request({"params": {"reason": "x\u0000"}, "trigger": "hook"})
        check("API, as a hook launches: 400 INVALID_REASON", status == 400 and body.get("code") == "INVALID_REASON", (status, body))
        status, body = request({"params": {"body": "é" * (ROOM // 2 + 1)}})
        check("API: a value over the bound (counted in bytes): 400 RUN2105", status == 400 and body.get("code") == "RUN2105",
              (status, body.get("code"), body.get("message")))


def main():
    with Work("faults-params.", {"inputs.yaml": PIPELINE}) as work:
        print("param values a step could not see as given")
        cli_checks(work)
        validate_checks(work)
        api_checks(work)
    checks.finish("test-inputs-params")


if __name__ == "__main__":
    main()
