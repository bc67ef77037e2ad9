#!/usr/bin/env -S python3 -B
"""End-to-end: seed 002 (DD-APP-API-002, ingestion run API) as its ops scheduler calls it.

A client written from /work/shared/seeds/002_*.txt alone — its one route, its snake_case body,
its Idempotency-Key and its error table — against `runner serve --pipelines pipelines`: a
manual start up to its run_id (the acceptance scenario), a duplicate start (409 naming the
active run), the same key replayed, the same key with another payload (another request: the
seed's operator + endpoint + payload hash), every 400 and 401 of the table, and bad bodies,
each a 4xx in the contract's shape with nothing launched. Each check names the seed line it
enforces (`002:L55`).

The seed has no status route: the run is followed on the runner's GET of the same path
(`/api/v1/ops/ingestion/runs/{run_id}`), where the 409's run_id leads (002:L122).

Usage: Tests/E2E/contract-002.py [RUNNER]   (default .build/debug/runner). Exit 0 = all passed.
"""
import re

from runner_e2e import TERMINAL, ServeProcess, Work, check, checks, wait_until

RUNS = "/api/v1/ops/ingestion/runs"
ACCEPTED = ["run_id", "accepted_at", "trigger_mode", "run_kind", "target_types"]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
MANUAL = {"trigger_mode": "manual", "run_kind": "official_ingestion", "target_types": ["official", "appearance"],
          "from_published_at": "2026-01-05T00:00:00+09:00", "dry_run": True, "trace_id": "contract-002"}


def main():
    with Work("contract-002.") as folder, ServeProcess(folder.dir) as server:
        print("seed 002: ingestion run API (DD-APP-API-002)")
        # Each upstream page takes 0.6 s: a run stays active long enough for the duplicate checks.
        server.env["UPSTREAM_DELAY_MS"] = "600"
        server.token = server.new_token("operator", "ops-scheduler")
        other = server.new_token("operator", "ops-oncall")
        viewer = server.new_token("viewer", "auditor")
        server.start()

        def post(body, key=None, token=None, raw=None):
            headers = {"Idempotency-Key": key} if key else {}
            reply = server.http("POST", RUNS, body, raw=raw, headers=headers,
                                **({"token": token} if token is not None else {}))
            return reply.status, reply.decoded(), reply.headers, reply.body

        def runs():
            """The ingestion runs the server holds (the runner's own list, as a witness)."""
            reply = server.http("GET", "/api/v1/runs?pipeline=ingestion&limit=1000", token=viewer)
            return [r["id"] for r in reply.decoded()["runs"]] if reply.status == 200 else None

        def finish(run_id):
            """Follows the run on its GET until it ends: its status."""
            last = {}

            def done():
                reply = server.http("GET", f"{RUNS}/{run_id}")
                last["status"] = reply.decoded().get("status") if reply.status == 200 else f"HTTP {reply.status}"
                return last["status"] in TERMINAL or reply.status != 200
            wait_until(done, 120, interval=0.2)
            return last.get("status")

        def error(body, code):
            """002:L87-101: the table's code, with a message."""
            return isinstance(body, dict) and body.get("code") == code and isinstance(body.get("message"), str)

        # --- 002:L33-50, L74-80, L121: a manual start up to its run_id
        status, accepted, headers, first_bytes = post(MANUAL, key="at-scn-004")
        run_id = accepted.get("run_id") if isinstance(accepted, dict) else None
        check("002:L45-50, L80 POST: 202 with run_id, accepted_at, trigger_mode, run_kind, target_types at the top level",
              status == 202 and isinstance(accepted, dict) and list(accepted) == ACCEPTED and run_id
              and headers.get("Content-Type", "").startswith("application/json"), (status, accepted))
        check("002:L46-50 the body echoes the request: trigger_mode, run_kind, target_types (a list); accepted_at is ISO 8601",
              accepted.get("trigger_mode") == "manual" and accepted.get("run_kind") == "official_ingestion"
              and accepted.get("target_types") == ["official", "appearance"] and ISO.match(str(accepted.get("accepted_at"))),
              accepted)
        check("002:L121 AT-SCN-004: a manual start up to the run_id, one run created", runs() == [run_id], runs())

        # --- 002:L78, L112, C002-18: the same key and payload again: the same run_id (before the conflict rule)
        status, again, headers, again_bytes = post(MANUAL, key="at-scn-004")
        check("002:L78, L112 the same Idempotency-Key and payload while the run is active: the same 202, not a 409",
              status == 202 and again_bytes == first_bytes and headers.get("Idempotent-Replayed") == "true", (status, again))

        # --- 002:L51-52, L77, L96, L122: a duplicate start while one is active
        before = runs()
        status, body, _, _ = post(dict(MANUAL, run_kind="incremental_update"), key="duplicate-1")
        check("002:L52, L77, L96 another start while one is active: 409 RUN_ALREADY_ACTIVE",
              status == 409 and error(body, "RUN_ALREADY_ACTIVE"), (status, body))
        check("002:L122 ... naming the active run, whose state can be read", body.get("run_id") == run_id
              and server.http("GET", f"{RUNS}/{run_id}").status == 200, body)
        # 002:L115: operator + endpoint + payload hash: the same key with another payload is another request
        status, body, _, _ = post(dict(MANUAL, dry_run=False), key="at-scn-004")
        check("002:L115 the same key with another payload is another request: here 409 RUN_ALREADY_ACTIVE, not 422",
              status == 409 and error(body, "RUN_ALREADY_ACTIVE"), (status, body))
        status, body, _, _ = post(MANUAL, key="at-scn-004", token=other)
        check("002:L115 the same key and payload from another operator is another request: 409 while one is active",
              status == 409 and error(body, "RUN_ALREADY_ACTIVE"), (status, body))
        check("... none of those launched anything", runs() == before, (before, runs()))
        check("002:L83-85 the run ends (succeeded, partial, failed or cancelled)", finish(run_id) in TERMINAL, run_id)

        status, body, _, _ = post(dict(MANUAL, dry_run=False), key="at-scn-004")
        second = body.get("run_id") if isinstance(body, dict) else None
        check("002:L115 once it ended, the same key with another payload starts a new run (a new run_id)",
              status == 202 and second and second != run_id and body.get("trigger_mode") == "manual", (status, body))
        check("... which ends too", finish(second) in TERMINAL, second)
        status, body, _, _ = post(MANUAL, key="at-scn-004")
        check("002:L112-113 and the first payload with that key is still its first run_id (the key lives 24 h)",
              status == 202 and body.get("run_id") == run_id, (status, body))

        # --- 002:L54-58, L76, L87-94: the validation rows, nothing launched
        before = runs()
        cases = [
            ({**MANUAL, "target_types": []}, "INVALID_TARGET", "002:L55 target_types empty"),
            ({**MANUAL, "target_types": ["official", "nope"]}, "INVALID_TARGET", "002:L57 target_types with an unknown value"),
            ({**MANUAL, "target_types": "official"}, "INVALID_TARGET", "002:L76 target_types not an array"),
            ({**MANUAL, "target_types": [{"type": "official"}]}, "INVALID_TARGET", "002:L76 target_types of objects"),
            ({k: v for k, v in MANUAL.items() if k != "target_types"}, "INVALID_TARGET", "002:L40 target_types missing"),
            ({**MANUAL, "from_published_at": "2026-13-01"}, "INVALID_TIMESTAMP", "002:L56 from_published_at not ISO 8601"),
            ({**MANUAL, "from_published_at": 20260105}, "INVALID_TIMESTAMP", "002:L76 from_published_at a number"),
            ({**MANUAL, "trigger_mode": "sometimes"}, "INVALID_TRIGGER_MODE", "002:L92 trigger_mode not manual|scheduled"),
            ({**MANUAL, "trigger_mode": {"mode": "manual"}}, "INVALID_TRIGGER_MODE", "002:L76 trigger_mode an object"),
            ({k: v for k, v in MANUAL.items() if k != "trigger_mode"}, "INVALID_TRIGGER_MODE", "002:L38 trigger_mode missing"),
            ({**MANUAL, "run_kind": "everything"}, "INVALID_RUN_KIND", "002:L93 run_kind not one of the three"),
            ({**MANUAL, "run_kind": ["official_ingestion"]}, "INVALID_RUN_KIND", "002:L76 run_kind a list"),
        ]
        for n, (body, code, what) in enumerate(cases):
            status, answer, _, _ = post(body, key=f"bad-{n}")
            check(f"{what}: 400 {code}", status == 400 and error(answer, code), (status, answer))
        for body, raw, what in [({**MANUAL, "dry_run": "yes"}, None, "dry_run not a boolean (002:L42)"),
                                (None, b"not json", "a body that is not JSON"), (None, b'["manual"]', "a JSON list")]:
            status, answer, _, _ = post(body, key="bad-shape", raw=raw)
            check(f"{what}: 400 with a code", status == 400 and isinstance(answer, dict) and answer.get("code"), (status, answer))
        status, body, _, _ = post(dict(MANUAL, trigger_mode="scheduled"))
        check("002:L58, L94 no Idempotency-Key: 400 MISSING_IDEMPOTENCY_KEY",
              status == 400 and error(body, "MISSING_IDEMPOTENCY_KEY"), (status, body))

        # --- 002:L75, L95: the caller's token checked first: 401 UNAUTHORIZED
        unknown_token = "rnr_" + "0" * 16 + "_" + "0" * 64
        for token, what in [("", "no token"), ("nope", "a malformed token"), (unknown_token, "an unknown token")]:
            status, body, headers, _ = post(MANUAL, key="unauthorized", token=token)
            check(f"002:L75, L95 {what}: 401 UNAUTHORIZED", status == 401 and error(body, "UNAUTHORIZED")
                  and headers.get("WWW-Authenticate") == "Bearer", (status, body))
        status, body, _, _ = post(MANUAL, key="viewer", token=viewer)
        check("a token that may only read: 403", status == 403 and body.get("code"), (status, body))
        check("... none of those launched anything", runs() == before, (before, runs()))

        # the runner's GET beside the seed's route: unknown ids and ids that are no run id
        for path, expected in [("20991231-000000-000000", 404), ("..", 404), ("..%2F..%2Fruns", 404), ("a%2Fb", 404)]:
            reply = server.http("GET", f"{RUNS}/{path}")
            body = reply.decoded()
            check(f"GET {RUNS}/{path}: {expected} with a code, never a 5xx", reply.status == expected
                  and isinstance(body, dict) and body.get("code"), (reply.status, body))

        # a scheduled start through the same route (002:L29: 手動またはスケジュール起点)
        scheduled = {"trigger_mode": "scheduled", "run_kind": "incremental_update", "target_types": ["official"]}
        status, body, _, _ = post(scheduled, key="scheduled-1")
        check("002:L38-40 trigger_mode scheduled, run_kind incremental_update, optional fields left out: 202",
              status == 202 and body.get("trigger_mode") == "scheduled" and body.get("target_types") == ["official"],
              (status, body))
        finish(body.get("run_id"))
        server.stop()
    checks.finish("contract-002")


if __name__ == "__main__":
    main()
