#!/usr/bin/env -S python3 -B
"""End-to-end: seed 000 (DD-API-014, docs publish run API) as its admin screen calls it.

A client written from /work/shared/seeds/000_*.txt alone — its two routes, its body and field
names, its status words and its error table — against `runner serve --pipelines pipelines`:
launch, refuse a second publish, poll to the end; a build failure that never deploys; an
invalidation failure after the switch that rolls back; every error row the POST and GET can
answer; bad bodies and bad path parameters, each a 4xx in the contract's shape with nothing
launched. Each check names the seed line it enforces (`000:L47`).

Usage: Tests/E2E/contract-000.py [RUNNER]   (default .build/debug/runner). Exit 0 = all passed.
"""
import re

from runner_e2e import ServeProcess, Work, check, checks, wait_until

PUBLISH = "/api/v1/admin/docs/publish"
FIELDS = ["docsPublishRunId", "status", "targetRef", "startedAt", "finishedAt", "steps", "errorCode", "errorMessage",
          "retryable"]
RUN_WORDS = {"queued", "running", "rollback_pending", "succeeded", "failed", "rolled_back"}
FINAL_WORDS = {"succeeded", "failed", "rolled_back"}
STEP_NAMES = ["docs_link_check", "quartz_build", "cdk_deploy", "invalidation", "rollback_prepare", "rollback_switch",
              "rollback_verify"]
STEP_WORDS = {"queued", "running", "succeeded", "failed", "skipped"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def shape_problems(run):
    """What in a publish run (POST or GET answer) is off the seed's field list."""
    if not isinstance(run, dict):
        return [f"not an object: {run!r}"[:200]]
    problems = []
    if list(run) != FIELDS:
        problems.append(f"fields {list(run)}")  # 000:L40-42, every field present (finishedAt null until the end)
    if run.get("status") not in RUN_WORDS:
        problems.append(f"status {run.get('status')!r}")  # 000:L57, L68
    if not ISO.match(str(run.get("startedAt"))):
        problems.append(f"startedAt {run.get('startedAt')!r}")  # 000:L40 startedAt has no '?'
    if not isinstance(run.get("retryable"), bool):
        problems.append(f"retryable {run.get('retryable')!r}")  # 000:L42 retryable has no '?'
    steps = run.get("steps") or []
    if [s.get("name") for s in steps] != STEP_NAMES:
        problems.append(f"steps {[s.get('name') for s in steps]}")  # 000:L41, L69
    for step in steps:
        if list(step) != ["name", "status", "progress"] or step["status"] not in STEP_WORDS \
                or not isinstance(step["progress"], int) or not 0 <= step["progress"] <= 100:
            problems.append(f"step {step}")  # 000:L70, L83
    final = run.get("status") in FINAL_WORDS
    if final != (run.get("finishedAt") is not None) or (final and not ISO.match(str(run.get("finishedAt")))):
        problems.append(f"finishedAt {run.get('finishedAt')!r} for {run.get('status')}")  # 000:L40 finishedAt?
    return problems


def main():
    with Work("contract-000.") as folder, ServeProcess(folder.dir) as server:
        print("seed 000: docs publish run API (DD-API-014)")
        server.token = server.new_token("operator", "admin-screen")
        viewer = server.new_token("viewer", "auditor")
        server.start()

        def call(method, path, body=None, **kwargs):
            reply = server.http(method, path, body, **kwargs)
            return reply.status, reply.decoded(), reply.headers

        def publishes():
            """How many docs-publish runs the server holds (the runner's own list, as a witness)."""
            status, page, _ = call("GET", "/api/v1/runs?pipeline=docs-publish&limit=1000", token=viewer)
            return len(page["runs"]) if status == 200 else -1

        def poll(run_id, seconds=120):
            """GETs the run until its status is final: (the last answer, every status seen, shape problems)."""
            seen, problems, last = [], [], {}

            def final():
                nonlocal last
                status, last, _ = call("GET", f"{PUBLISH}/{run_id}")
                if status != 200:
                    problems.append(f"GET answered {status}: {last}")
                    return True
                problems.extend(p for p in shape_problems(last) if p not in problems)
                if not seen or seen[-1] != last.get("status"):
                    seen.append(last.get("status"))
                return last.get("status") in FINAL_WORDS
            wait_until(final, seconds, interval=0.1)
            return last, seen, problems

        def error_shape(body, code):
            """000:L72-77: the table's code as `errorCode` (and `code`), a message as `errorMessage`."""
            return isinstance(body, dict) and body.get("errorCode") == code and body.get("code") == code \
                and isinstance(body.get("errorMessage"), str) and body["errorMessage"] != ""

        # --- 000:L31, L45-49: one POST creates a queued run and answers before the publish is done
        status, accepted, headers = call("POST", PUBLISH, {"targetRef": "HEAD", "reason": "contract-000"})
        run_id = accepted.get("docsPublishRunId") if isinstance(accepted, dict) else None
        check("000:L31, L48 POST {targetRef, reason}: 202 with a docsPublishRunId, status queued (or already running)",
              status == 202 and run_id and accepted.get("status") in ("queued", "running")
              and headers.get("Content-Type", "").startswith("application/json"), (status, accepted))
        check("000:L40-42 the POST answers the GET's shape: every field, the seven steps (C000-11)",
              not shape_problems(accepted) and accepted.get("targetRef") == "HEAD" and accepted.get("finishedAt") is None
              and accepted.get("errorCode") is None and accepted.get("retryable") is False, shape_problems(accepted))

        # --- 000:L46, L77: a second publish while one is active: 409 PUBLISH_ALREADY_ACTIVE
        before = publishes()
        status, body, _ = call("POST", PUBLISH, {"targetRef": "HEAD"})
        check("000:L46, L77 a second publish while one is active: 409 PUBLISH_ALREADY_ACTIVE, naming the active run",
              status == 409 and error_shape(body, "PUBLISH_ALREADY_ACTIVE") and body.get("docsPublishRunId") == run_id,
              (status, body))
        check("... nothing launched", publishes() == before, (before, publishes()))

        # --- 000:L32, L51-53, L57: poll the run to its end
        run, seen, problems = poll(run_id)
        check("000:L40-42, L70 every GET while it runs has the seed's fields, words and seven steps", not problems, problems[:5])
        check(f"000:L57 queued -> running -> succeeded (seen: {' -> '.join(seen)})",
              seen and seen[-1] == "succeeded" and set(seen) <= {"queued", "running", "succeeded"}, seen)
        steps = {s["name"]: s for s in run.get("steps", [])}
        check("000:L41, L83 the build, deploy and invalidation steps succeeded at 100 %, the rollback steps skipped",
              all(steps.get(n, {}).get("status") == "succeeded" and steps[n]["progress"] == 100
                  for n in ("docs_link_check", "quartz_build", "cdk_deploy"))
              and steps.get("invalidation", {}).get("status") in ("succeeded", "skipped")
              and all(steps.get(n, {}).get("status") == "skipped" for n in STEP_NAMES[4:]), steps)
        check("000:L40, L42 succeeded: targetRef as given, finishedAt set, errorCode/errorMessage null, retryable false",
              run.get("targetRef") == "HEAD" and run.get("finishedAt") and run.get("startedAt") <= run.get("finishedAt")
              and run.get("errorCode") is None and run.get("errorMessage") is None and run.get("retryable") is False, run)

        # --- 000:L47, L75: a ref that resolves to nothing is refused before anything is created
        before = publishes()
        for body, what in [({"targetRef": "no-such-branch-contract-000"}, "an unknown ref"),
                           ({"targetRef": "a..b"}, "a malformed ref"), ({}, "no targetRef (required, 000:L35)"),
                           ({"targetRef": {"ref": "main"}}, "targetRef an object"),
                           ({"targetRef": ["main"]}, "targetRef a list")]:
            status, answer, _ = call("POST", PUBLISH, body)
            check(f"000:L47, L75 {what}: 400 INVALID_TARGET_REF", status == 400 and error_shape(answer, "INVALID_TARGET_REF"),
                  (status, answer))
        for raw, what in [(b"not json", "a body that is not JSON"), (b'["HEAD"]', "a JSON list")]:
            status, answer, _ = call("POST", PUBLISH, raw=raw)
            check(f"{what}: 400 in the contract's shape", status == 400 and isinstance(answer, dict)
                  and answer.get("errorCode") and answer.get("errorMessage"), (status, answer))
        for body, what in [({"targetRef": "HEAD", "forceInvalidate": "yes"}, "forceInvalidate not a boolean (000:L37)"),
                           ({"targetRef": "HEAD", "reason": {"why": 1}}, "reason an object (000:L36)"),
                           ({"targetRef": "HEAD", "reason": "x" * 501}, "reason over 500 characters"),
                           ({"targetRef": "HEAD", "bogus": 1}, "a field the seed does not have")]:
            status, answer, _ = call("POST", PUBLISH, body)
            check(f"{what}: 400 in the contract's shape", status == 400 and isinstance(answer, dict)
                  and answer.get("errorCode") == answer.get("code") and answer.get("errorMessage"), (status, answer))
        check("... none of those launched anything", publishes() == before, (before, publishes()))

        # --- 000:L52, L76: an unknown run, and path parameters that are no run id
        status, body, _ = call("GET", f"{PUBLISH}/20991231-000000-000000")
        check("000:L52, L76 an unknown docsPublishRunId: 404 DOCS_PUBLISH_RUN_NOT_FOUND",
              status == 404 and error_shape(body, "DOCS_PUBLISH_RUN_NOT_FOUND"), (status, body))
        for path in ["..", "..%2F..%2Fapi%2Fv1%2Fruns", "a%2Fb", "%2E%2E"]:
            status, body, _ = call("GET", f"{PUBLISH}/{path}")
            check(f"GET {PUBLISH}/{path}: a 4xx in the contract's shape, never a 5xx",
                  400 <= status < 500 and isinstance(body, dict) and body.get("errorCode") and body.get("errorMessage"),
                  (status, body))

        # A NUL is refused by the HTTP layer before any route is chosen: the runner's own 400.
        status, body, _ = call("GET", f"{PUBLISH}/x%00y")
        check("a path parameter with %00: 400 RUN6013 before routing", status == 400 and body.get("code") == "RUN6013",
              (status, body))

        # --- 000:L46 auth is checked: the runner's token, answered in the contract's shape
        status, body, headers = call("POST", PUBLISH, {"targetRef": "HEAD"}, token=None)
        check("000:L46 no token: 401 in the contract's shape, WWW-Authenticate: Bearer",
              status == 401 and body.get("errorCode") and body.get("errorMessage")
              and headers.get("WWW-Authenticate") == "Bearer",
              (status, body))
        status, body, _ = call("POST", PUBLISH, {"targetRef": "HEAD"}, token=viewer)
        check("000:L46 a token without the right to publish: 403 in the contract's shape",
              status == 403 and body.get("errorCode") and body.get("errorMessage"), (status, body))
        status, body, _ = call("GET", f"{PUBLISH}/{run_id}", token=viewer)
        check("a viewer reads the run", status == 200 and body.get("docsPublishRunId") == run_id, status)

        # --- 000:L60, L78, L84: a build failure never deploys, and says why
        server.stop()
        server.env["INJECT_FAIL"] = "quartz_build"
        server.start()
        status, accepted, _ = call("POST", PUBLISH, {"targetRef": "HEAD", "reason": "a build that fails"})
        run, seen, problems = poll(accepted.get("docsPublishRunId"))
        steps = {s["name"]: s["status"] for s in run.get("steps", [])}
        check("000:L84, L78 a build failure: failed, errorCode DOCS_BUILD_FAILED with a message",
              status == 202 and run.get("status") == "failed" and run.get("errorCode") == "DOCS_BUILD_FAILED"
              and "quartz_build" in str(run.get("errorMessage")) + str(steps) and not problems, (run, problems[:3]))
        check("000:L54, L60 the failing step is named failed; deploy never ran (skipped); retryable says whether to retry",
              steps.get("quartz_build") == "failed" and steps.get("cdk_deploy") == "skipped"
              and steps.get("invalidation") == "skipped" and isinstance(run.get("retryable"), bool), steps)

        # --- 000:L61-64, L68: an invalidation failure after the switch rolls back to the previous release
        server.stop()
        server.env["INJECT_FAIL"] = "invalidation"
        server.start()
        status, accepted, _ = call("POST", PUBLISH, {"targetRef": "HEAD", "forceInvalidate": True})
        run, seen, problems = poll(accepted.get("docsPublishRunId"))
        steps = {s["name"]: s["status"] for s in run.get("steps", [])}
        check(f"000:L61-64 invalidation fails after the switch: rolled_back (seen: {' -> '.join(seen)})",
              status == 202 and run.get("status") == "rolled_back" and not problems
              and set(seen) <= {"queued", "running", "rollback_pending", "rolled_back"}, (seen, problems[:3]))
        check("000:L62-64, L69-70 the rollback steps succeeded, under the seed's step words",
              steps.get("invalidation") == "failed"
              and all(steps.get(n) == "succeeded" for n in ("rollback_prepare", "rollback_switch", "rollback_verify")), steps)
        check("000:L80 the run says why: errorCode INVALIDATION_FAILED, a message, finishedAt",
              run.get("errorCode") == "INVALIDATION_FAILED" and run.get("errorMessage") and run.get("finishedAt"), run)
        server.stop()
    checks.finish("contract-000")


if __name__ == "__main__":
    main()
