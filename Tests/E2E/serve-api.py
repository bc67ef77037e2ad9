#!/usr/bin/env -S python3 -B
"""End-to-end: `runner serve` over real HTTP (urllib), serving this project's pipelines/.

  health, pipelines list and detail; launch → poll → final state (docs-publish, seed 000);
  the seeds' param codes as 400 (INVALID_TARGET_REF, INVALID_TARGET, INVALID_TIMESTAMP,
  INVALID_TRIGGER_MODE, INVALID_RUN_KIND); an active publish → 409 PUBLISH_ALREADY_ACTIVE with
  the active run's id; alias routes from triggers.api (flat bodies, the pipeline's not-found
  code); 100 concurrent launches of that reject pipeline → one 202, 99 × 409;
  unknown run / pipeline / route → 404, wrong method → 405 with Allow, bad and oversized
  bodies → 400 / 413; tokens: 401 without or with a bad or revoked one, 403 for a missing
  role, the audit log (actor, trace id), no token in any file; cancel of a running backup (seed 003) → cancelled, of a finished run →
  409; Idempotency-Key: required (MISSING_IDEMPOTENCY_KEY), 100 concurrent requests with one
  key → one run and identical replies, replayed later and after a kill -9, 422 for another
  payload, checked before the conflict rule; a failed run's step log and a retry from the
  failed step; the CLI as a client (trigger, runs --server, a git hook with --server); metrics; Server-Sent Events (transitions, log lines, Last-Event-ID); a schedule missed while the server was down fires once at start; kill -9 of the server mid-run → the next start
  finishes the run.

Usage: Tests/E2E/serve-api.py [RUNNER]   (default .build/debug/runner). Exit 0 = all passed.
"""
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import time

from runner_e2e import ROOT, TERMINAL, ServeProcess, Work, check, checks


class Server(ServeProcess):
    def request(self, *args, **kwargs):
        """(status, the body as JSON or text, the headers as a dict)."""
        reply = self.http(*args, **kwargs)
        return reply.status, reply.decoded(), dict(reply.headers)


def main():
    with Work("serve-api.") as folder, Server(folder.dir) as server:
        work = folder.dir
        # Each upstream page takes 0.3 s: the Idempotency-Key checks below need the keyed run to
        # be still active after its 100 requests (under Tests/Faults/clock-at.sh it had finished
        # first in 4 of 7 runs, and then a new key got 202 instead of 409).
        server.env["UPSTREAM_DELAY_MS"] = "300"
        print("runner serve (HTTP API)")
        tokens = {}
        for role in ("viewer", "operator", "admin"):
            made = server.cli("token", "create", "--role", role, "--name", f"e2e-{role}")
            tokens[role] = made.stdout.strip()
            check(f"token create --role {role}: printed once, rnr_…", made.returncode == 0 and re.fullmatch(r"rnr_[0-9a-f]{16}_[0-9a-f]{64}", tokens[role]),
                  made.stderr)
        revoked = server.cli("token", "create", "--role", "admin", "--name", "e2e-revoked").stdout.strip()
        server.cli("token", "revoke", "e2e-revoked")
        server.token = tokens["operator"]
        server.start()
        # --- auth: 401 without or with a bad token, 403 for a missing role
        status, body, headers = server.request("GET", "/api/v1/pipelines", token=None)
        check("no token: 401 RUN6006 with WWW-Authenticate", status == 401 and body.get("code") == "RUN6006"
              and headers.get("WWW-Authenticate") == "Bearer", (status, body))
        for bad, what in [("rnr_" + "0" * 16 + "_" + "0" * 64, "an unknown token"), (tokens["viewer"][:-1] + ("0" if tokens["viewer"][-1] != "0" else "1"), "a wrong secret"),
                          ("nope", "a malformed token"), (revoked, "a revoked token")]:
            status, body, _ = server.request("GET", "/api/v1/pipelines", token=bad)
            check(f"{what}: 401", status == 401 and body.get("code") == "RUN6006", (status, body))
        status, _, _ = server.request("GET", "/api/v1/pipelines", token=tokens["viewer"])
        check("viewer: GET 200", status == 200, status)
        status, body, _ = server.request("POST", "/api/v1/pipelines/docs-publish/runs", {"params": {"targetRef": "HEAD"}}, token=tokens["viewer"])
        check("viewer: launch 403 RUN6007", status == 403 and body.get("code") == "RUN6007", (status, body))
        status, body, _ = server.request("GET", "/api/v1/audit")
        check("operator: audit 403", status == 403, (status, body))
        status, _, _ = server.request("GET", "/healthz", token=None)
        check("healthz needs no token", status == 200, status)
        status, health, _ = server.request("GET", "/healthz")
        check("healthz: 200, 5 pipelines", status == 200 and health["status"] == "ok" and health["pipelines"] == 5, health)
        status, listing, _ = server.request("GET", "/api/v1/pipelines")
        check("pipelines: the five of pipelines/", sorted(p["name"] for p in listing["pipelines"])
              == ["backup", "docs-publish", "ingestion", "promotion", "restore"], listing)
        status, detail, _ = server.request("GET", "/api/v1/pipelines/docs-publish")
        target = next((p for p in detail.get("params", []) if p["name"] == "targetRef"), {})
        check("pipeline detail: its params with types and error codes",
              status == 200 and target.get("type") == "gitref" and target.get("error_code") == "INVALID_TARGET_REF", detail)

        # --- the seeds' validation contracts
        cases = [
            ("docs-publish", {"targetRef": "no-such-branch"}, "INVALID_TARGET_REF"),
            ("docs-publish", {"targetRef": "a..b"}, "INVALID_TARGET_REF"),
            ("docs-publish", {}, "INVALID_TARGET_REF"),
        ]
        ingestion = {"trigger_mode": "manual", "run_kind": "official_ingestion", "target_types": ["official"]}
        for key, bad, code in [("target_types", ["nope"], "INVALID_TARGET"), ("from_published_at", "2026-13-01", "INVALID_TIMESTAMP"),
                               ("trigger_mode", "sometimes", "INVALID_TRIGGER_MODE"), ("run_kind", "everything", "INVALID_RUN_KIND")]:
            cases.append(("ingestion", dict(ingestion, **{key: bad}), code))
        for n, (name, params, code) in enumerate(cases):
            status, body, _ = server.request("POST", f"/api/v1/pipelines/{name}/runs", {"params": params},
                                             headers={"Idempotency-Key": f"validation-{n}"})
            check(f"launch {name} {json.dumps(params)}: 400 {code}", status == 400 and body.get("code") == code, (status, body))
        status, body, _ = server.request("POST", "/api/v1/pipelines/docs-publish/runs", {"params": {"targetRef": "HEAD", "bogus": 1}})
        check("an undeclared param: 400 RUN2103", status == 400 and body.get("code") == "RUN2103", (status, body))
        for raw, what in [(b"not json", "not JSON"), (b'["a"]', "not an object"), (b'{"targetRef": "HEAD"}', "params not under 'params'"),
                          (b'{"params": {"targetRef": {"x": 1}}}', "a nested object")]:
            status, body, _ = server.request("POST", "/api/v1/pipelines/docs-publish/runs", raw=raw)
            check(f"a body that is {what}: 400 RUN6001", status == 400 and body.get("code") == "RUN6001", (status, body))
        status, body, _ = server.request("POST", "/api/v1/pipelines/docs-publish/runs", raw=b"{" + b" " * (2 << 20) + b"}")
        check("a 2 MiB body: 413 RUN6005", status == 413 and body.get("code") == "RUN6005", (status, body))
        status, body, _ = server.request("POST", "/api/v1/pipelines/nope/runs", {"params": {}})
        check("an unknown pipeline: 404 RUN6002", status == 404 and body.get("code") == "RUN6002", (status, body))
        status, body, _ = server.request("GET", "/api/v1/runs/20991231-000000-000000")
        check("an unknown run: 404 RUN_NOT_FOUND", status == 404 and body.get("code") == "RUN_NOT_FOUND", (status, body))
        status, body, headers = server.request("DELETE", "/api/v1/runs/x")
        check("a wrong method: 405 with Allow", status == 405 and body.get("code") == "RUN6004" and headers.get("Allow") == "GET", (status, headers))
        status, body, _ = server.request("GET", "/api/v2/nothing")
        check("an unknown route: 404 RUN6003", status == 404 and body.get("code") == "RUN6003", (status, body))

        # --- alias routes declared by the pipelines (triggers.api): flat bodies, own not-found codes
        status, body, _ = server.request("POST", "/api/v1/admin/docs/publish", {"targetRef": "no-such-branch"})
        check("alias POST /api/v1/admin/docs/publish with a bad ref: 400 INVALID_TARGET_REF",
              status == 400 and body.get("code") == "INVALID_TARGET_REF", (status, body))
        status, body, _ = server.request("POST", "/api/v1/ops/ingestion/runs", dict(ingestion, trigger_mode="sometimes"),
                                         headers={"Idempotency-Key": "alias-1"})
        check("alias POST /api/v1/ops/ingestion/runs: 400 INVALID_TRIGGER_MODE",
              status == 400 and body.get("code") == "INVALID_TRIGGER_MODE", (status, body))
        status, body, _ = server.request("GET", "/api/v1/admin/docs/publish/20991231-000000-000000")
        check("alias GET of an unknown run: 404 DOCS_PUBLISH_RUN_NOT_FOUND",
              status == 404 and body.get("code") == "DOCS_PUBLISH_RUN_NOT_FOUND", (status, body))

        # --- docs-publish: launch, conflict, poll to the end
        trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        status, accepted, _ = server.request("POST", "/api/v1/pipelines/docs-publish/runs",
                                             {"params": {"targetRef": "HEAD", "reason": "serve-api"}},
                                             headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
        check("launch docs-publish: 202 with run_id, status, trigger api, params",
              status == 202 and accepted.get("run_id") and accepted.get("trigger") == "api"
              and accepted.get("params", {}).get("targetRef") == "HEAD", (status, accepted))
        run_id = accepted.get("run_id")
        status, conflict, _ = server.request("POST", "/api/v1/pipelines/docs-publish/runs", {"params": {"targetRef": "HEAD"}})
        check("a second launch while it is active: 409 PUBLISH_ALREADY_ACTIVE naming the active run",
              status == 409 and conflict.get("code") == "PUBLISH_ALREADY_ACTIVE" and conflict.get("run_id") == run_id, (status, conflict))
        run = server.wait(run_id)
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        check("the run succeeded; steps, attempts and the resolved commit are in its JSON",
              run and run["status"] == "succeeded" and run["refs"]["targetRef"]["sha"] == head
              and all(s["status"] in ("succeeded", "skipped") for s in run["steps"]) and len(run["attempts"]) >= 5, run and run["status"])
        # --- Server-Sent Events: transitions with ids, log lines, the end; Last-Event-ID resumes
        def sse(path, headers=None):
            reply = server.http("GET", path, headers=headers)
            events, current = [], {}
            for raw in reply.body.decode().split("\n"):
                if raw == "":
                    if current:
                        events.append(current)
                    current = {}
                elif not raw.startswith(":"):
                    field, _, value = raw.partition(": ")
                    current[field] = value
            return reply.headers.get("Content-Type", ""), events
        kind, events = sse(f"/api/v1/runs/{run_id}/events")
        ids = [int(e["id"]) for e in events if "id" in e]
        statuses = [json.loads(e["data"]).get("status") for e in events if e.get("event") == "run"]
        check("SSE: text/event-stream, numbered transitions (running … succeeded), log lines, then end",
              kind.startswith("text/event-stream") and ids == sorted(ids) and len(ids) > 5 and "running" in statuses
              and "succeeded" in statuses and any(e.get("event") == "log" for e in events) and events[-1].get("event") == "end",
              (kind, statuses, len(events)))
        _, resumed = sse(f"/api/v1/runs/{run_id}/events", {"Last-Event-ID": str(ids[len(ids) // 2])})
        check("SSE with Last-Event-ID: only the later transitions",
              [int(e["id"]) for e in resumed if "id" in e] == ids[len(ids) // 2 + 1:], [e.get("id") for e in resumed][:5])
        status, body, _ = server.request("GET", f"/api/v1/admin/docs/publish/{run_id}")
        check("alias GET of the run: 200, the same run", status == 200 and body.get("id") == run_id, (status, body.get("id")))
        status, body, _ = server.request("POST", f"/api/v1/runs/{run_id}/cancel")
        check("cancel of a finished run: 409 RUN4002 with its status",
              status == 409 and body.get("code") == "RUN4002" and body.get("status") == "succeeded", (status, body))
        status, page, _ = server.request("GET", "/api/v1/runs?pipeline=docs-publish&status=succeeded&limit=5")
        check("runs list with filters", status == 200 and [r["id"] for r in page["runs"]] == [run_id], (status, page))
        status, audit, _ = server.request("GET", "/api/v1/audit", token=tokens["admin"])
        launch_entry = next((e for e in audit.get("entries", []) if e.get("run_id") == run_id and e.get("action") == "launch"), {})
        check("audit (admin): the launch, by the operator token's name, with the traceparent's trace id and the params",
              status == 200 and launch_entry.get("action") == "launch" and launch_entry.get("actor") == "e2e-operator"
              and launch_entry.get("trace_id") == trace and launch_entry.get("params", {}).get("reason") == "serve-api", (status, launch_entry))
        cli_audit = server.cli("audit")
        check("runner audit shows it too", run_id in cli_audit.stdout and "by e2e-operator" in cli_audit.stdout, cli_audit.stdout[:300])

        # --- a retry follows the concurrency rule like any launch
        status, active_launch, _ = server.request("POST", "/api/v1/pipelines/docs-publish/runs", {"params": {"targetRef": "HEAD"}})
        status, body, _ = server.request("POST", f"/api/v1/runs/{run_id}/retry", {"from": "docs_link_check"})
        check("retry while another publish is active: 409 PUBLISH_ALREADY_ACTIVE naming it",
              status == 409 and body.get("code") == "PUBLISH_ALREADY_ACTIVE" and body.get("run_id") == active_launch.get("run_id"), (status, body))
        server.wait(active_launch.get("run_id"))

        # --- 100 concurrent launches of a reject pipeline: one run
        def launch(_):
            return server.request("POST", "/api/v1/pipelines/docs-publish/runs", {"params": {"targetRef": "HEAD"}}, timeout=60)
        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(launch, range(100)))
        accepted_ids = [b["run_id"] for s, b, _ in results if s == 202]
        rejected = [b for s, b, _ in results if s == 409]
        check("100 concurrent launches: exactly one 202 and 99 × 409 naming that run",
              len(accepted_ids) == 1 and len(rejected) == 99 and all(b["run_id"] == accepted_ids[0] for b in rejected),
              f"{sorted(set(s for s, _, _ in results))} {len(accepted_ids)} accepted")
        if accepted_ids:
            server.wait(accepted_ids[0])
        status, text, headers = server.request("GET", "/metrics", token=tokens["viewer"])
        check("metrics: Prometheus text with runs by status, queue depth, step durations, requests by route and status",
              status == 200 and headers.get("Content-Type", "").startswith("text/plain; version=0.0.4")
              and re.search(r'^runner_runs\{status="succeeded"\} [1-9]', text, re.M)
              and "runner_queue_depth " in text and re.search(r"^runner_step_duration_seconds_count [1-9]", text, re.M)
              and int((re.search(r'^runner_http_requests_total\{route="POST /api/v1/pipelines/\{name\}/runs",status="409"\} (\d+)$', text, re.M)
                       or [0, 0])[1]) >= 99,
              str(text)[:400])
        status, _, _ = server.request("GET", "/metrics", token=None)
        check("metrics need a token too", status == 401, status)

        # --- Idempotency-Key (seed 002): required, replayed, bound to its payload, checked first
        launch_path = "/api/v1/ops/ingestion/runs"
        status, body, _ = server.request("POST", launch_path, ingestion)
        check("ingestion without Idempotency-Key: 400 MISSING_IDEMPOTENCY_KEY",
              status == 400 and body.get("code") == "MISSING_IDEMPOTENCY_KEY", (status, body))
        status, body, _ = server.request("POST", launch_path, ingestion, headers={"Idempotency-Key": "bad key"})
        check("an Idempotency-Key with a space: 400 RUN6010", status == 400 and body.get("code") == "RUN6010", (status, body))

        def keyed(key, payload):
            """(status, the body's bytes, the headers as a dict)."""
            reply = server.http("POST", launch_path, payload, headers={"Idempotency-Key": key}, timeout=60)
            return reply.status, reply.body, dict(reply.headers)

        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
            replies = list(pool.map(lambda _: keyed("ingest-1", ingestion), range(100)))
        first = json.loads(replies[0][1])
        runs_for_key = [r for r in server.request("GET", "/api/v1/runs?pipeline=ingestion&limit=100")[1]["runs"]]
        check("100 concurrent requests with one Idempotency-Key: one run, 100 identical 202 replies",
              len(runs_for_key) == 1 and all(s == 202 and b == replies[0][1] for s, b, _ in replies), f"{len(runs_for_key)} runs, {sorted(set(s for s, _, _ in replies))}")
        status, again, headers = keyed("ingest-1", ingestion)
        check("the same key and payload later: the first reply, marked replayed",
              status == 202 and again == replies[0][1] and headers.get("Idempotent-Replayed") == "true", (status, headers))
        status, body, _ = keyed("ingest-1", dict(ingestion, run_kind="appearance_supplement"))
        check("the same key with another payload: 422 RUN6008", status == 422 and json.loads(body).get("code") == "RUN6008", (status, body))
        status, body, _ = keyed("ingest-2", ingestion)
        active = json.loads(body)
        check("a new key while that run is active: 409 RUN_ALREADY_ACTIVE (the key is checked first, then the conflict)",
              status == 409 and active.get("code") == "RUN_ALREADY_ACTIVE" and active.get("run_id") == first.get("run_id"), (status, body))
        server.wait(first.get("run_id"))
        ingest_reply = replies[0][1]

        # --- the CLI as a client: runner trigger / runner runs … --server URL --token-file F
        token_file = f"{work}/operator.token"
        with open(token_file, "w") as f:
            f.write(server.token + "\n")
        remote = ["--server", f"http://127.0.0.1:{server.port}", "--token-file", token_file]
        triggered = server.cli("trigger", "docs-publish", "-p", "targetRef=HEAD", "-p", "forceInvalidate=false", "--wait", *remote)
        match = re.search(r"run (\S+) succeeded", triggered.stdout)
        check("runner trigger docs-publish --wait: exit 0, the run succeeded", triggered.returncode == 0 and match,
              (triggered.returncode, triggered.stdout, triggered.stderr[-300:]))
        bad = server.cli("trigger", "ingestion", "-p", "trigger_mode=sometimes", "-p", "run_kind=official_ingestion",
                         "-p", "target_types=official", "--idempotency-key", "cli-1", *remote)
        check("runner trigger with a bad param: exit 2, the pipeline's code", bad.returncode == 2 and "error[INVALID_TRIGGER_MODE]" in bad.stderr,
              (bad.returncode, bad.stderr))
        if match:
            shown = server.cli("runs", "show", match.group(1), *remote)
            listed = server.cli("runs", "list", "--pipeline", "docs-publish", "--json", *remote)
            check("runner runs show / list --server answer from the server",
                  shown.returncode == 0 and "succeeded" in shown.stdout and match.group(1) in listed.stdout, (shown.stdout[:200], listed.returncode))
        # A git hook that launches through the server (a pipeline known by name there).
        bare, clone = f"{work}/hooked.git", f"{work}/hooked-work"
        subprocess.run(["git", "clone", "-q", "--bare", ROOT, bare], check=True)
        subprocess.run(["git", "clone", "-q", bare, clone], check=True)
        installed = server.cli("hook", "install", "--repo", bare, "--pipeline", "docs-publish", "--ref", "refs/heads/hooktest",
                               "--param-for-ref", "targetRef", *remote)
        pushed = subprocess.run(["git", "-C", clone, "push", "-q", "origin", "HEAD:refs/heads/hooktest"], capture_output=True, text=True,
                                env=server.env)
        hooked = re.search(r"run (\S+) launched on http", pushed.stderr)
        hooked_run = server.wait(hooked.group(1)) if hooked else {}
        check("a post-receive hook with --server launches through the API: trigger hook, the pushed ref, it succeeds",
              installed.returncode == 0 and hooked_run and hooked_run.get("trigger") == "hook"
              and hooked_run.get("trigger_detail", {}).get("ref") == "refs/heads/hooktest" and hooked_run.get("status") == "succeeded",
              (installed.stderr[-200:], pushed.stderr[-300:], hooked_run and hooked_run.get("status")))
        local = server.cli("trigger", "docs-publish")
        check("runner trigger without --server: usage (64)", local.returncode == 64, local.returncode)

        # --- backup (seed 003): cancel while it runs
        status, accepted, _ = server.request("POST", "/api/v1/pipelines/backup/runs", {"params": {"dirPath": "dump-api"}})
        backup_id = accepted.get("run_id")
        run = server.wait(backup_id, statuses={"running"} | TERMINAL)
        deadline = time.time() + 30
        while time.time() < deadline and run and not any(s["name"] == "snapshot" and s["status"] == "running" for s in run["steps"]):
            time.sleep(0.1)
            run = server.request("GET", f"/api/v1/runs/{backup_id}")[1]
        # A client that leaves an event stream early costs nothing lasting.
        import socket
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(f"GET /api/v1/runs/{backup_id}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token}\r\n\r\n".encode())
            first = sock.recv(4096).decode(errors="replace")
        check("SSE of a running backup starts streaming; the client hangs up", first.startswith("HTTP/1.1 200") and "text/event-stream" in first, first[:80])
        status, body, _ = server.request("GET", f"/api/v1/admin/docs/publish/{backup_id}")
        check("alias GET of another pipeline's run: 404 DOCS_PUBLISH_RUN_NOT_FOUND",
              status == 404 and body.get("code") == "DOCS_PUBLISH_RUN_NOT_FOUND", (status, body))
        progress = None
        deadline = time.time() + 10
        while time.time() < deadline and progress is None:
            snap = next((st for st in server.request("GET", f"/api/v1/runs/{backup_id}")[1].get("steps", []) if st["name"] == "snapshot"), {})
            progress = snap.get("progress") if snap.get("status") == "running" else None
            time.sleep(0.1)
        check("a running backup's step shows its progress (seed 003)", isinstance(progress, int) and 0 <= progress <= 100, progress)
        status, body, _ = server.request("POST", f"/api/v1/runs/{backup_id}/cancel")
        check("cancel of a running backup: 202", status == 202 and body.get("cancel_requested") is True, (status, body))
        run = server.wait(backup_id)
        check("the backup ends cancelled", run and run["status"] == "cancelled", run and run["status"])

        # --- a failed run: its step log, and a retry from the failed step
        status, accepted, _ = server.request("POST", "/api/v1/pipelines/promotion/runs",
                                             {"params": {"source_app": "no-such-app", "targets": ["my-app-staging"]}})
        failed_id = accepted.get("run_id")
        run = server.wait(failed_id) or {}
        failed_step = next((s["name"] for s in run.get("steps", []) if s["status"] == "failed"), None)
        check("promotion of an unknown source app fails", run.get("status") == "failed" and failed_step, (run.get("status"), failed_step))
        failed_record = next((s for s in run.get("steps", []) if s["name"] == failed_step), {})
        check("a failed run says whether its error is transient (retryable), run and step alike",
              isinstance(run.get("retryable"), bool) and isinstance(failed_record.get("retryable"), bool), (run.get("retryable"), failed_record))
        status, log, headers = server.request("GET", f"/api/v1/runs/{failed_id}/steps/{failed_step}/log")
        check("its failed step's log (text/plain) says why", status == 200 and "no-such-app" in str(log)
              and headers.get("Content-Type", "").startswith("text/plain"), (status, str(log)[:200]))
        status, body, _ = server.request("GET", f"/api/v1/runs/{failed_id}/steps/nope/log")
        check("the log of an unknown step: 404 RUN4005", status == 404 and body.get("code") == "RUN4005", (status, body))
        status, retried, _ = server.request("POST", f"/api/v1/runs/{failed_id}/retry")
        check("retry: 202, a new run from the failed step", status == 202 and retried.get("retry_of") == failed_id
              and retried.get("from") == failed_step.split("[")[0], (status, retried))
        rerun = server.wait(retried.get("run_id")) or {}
        check("the retry ran the failed step again (same params, failed again)", rerun.get("status") == "failed"
              and rerun.get("params", {}).get("source_app") == "no-such-app", rerun.get("status"))
        status, body, _ = server.request("POST", f"/api/v1/runs/{failed_id}/retry", {"from": "nope"})
        check("retry from an unknown step: 400", status == 400, (status, body))

        # --- kill -9 of the server mid-run; the next start finishes the run
        status, accepted, _ = server.request("POST", "/api/v1/pipelines/backup/runs", {"params": {"dirPath": "dump-crash"}})
        crash_id = accepted.get("run_id")
        server.wait(crash_id, statuses={"running"} | TERMINAL)
        time.sleep(0.5)
        server.kill()
        # While it is down, ingestion's schedule (0 3 * * *) "last fired" three firings ago: the
        # two firings missed meanwhile (the last 03:00 UTC at or before now, and the one a day
        # earlier) run once when the server is back. Counted from the last 03:00, not from
        # midnight, so that two are due at any time of day.
        import sqlite3
        db = sqlite3.connect(f"{work}/home/state.db")
        now = int(time.time())
        last_due = (now - 3 * 3600) // 86400 * 86400 + 3 * 3600
        # A firing of the server before the kill (the test ran across 03:00 UTC) is not this one.
        fired_before = {row[0] for row in db.execute("SELECT id FROM runs WHERE pipeline = 'ingestion' AND trigger = 'schedule'")}
        updated = db.execute("UPDATE schedule_state SET last_fired_at = ? WHERE pipeline = 'ingestion' AND entry = 0",
                             (last_due - 2 * 86400,)).rowcount
        db.commit()
        db.close()
        check("the server recorded ingestion's schedule when it first saw it", updated == 1, updated)
        line = server.start()
        check("restarted after kill -9: it finishes the interrupted run", "finishing 1 interrupted run" in line, line)
        run = server.wait(crash_id)
        check("the interrupted backup succeeded after the restart", run and run["status"] == "succeeded", run and run["status"])
        zip_path = next((st["outputs"].get("zipFilePath") for st in (run or {}).get("steps", []) if st["name"] == "archive"), None)
        status, accepted, _ = server.request("POST", "/api/restore", {"zipFilePath": zip_path})
        # seed 003's contract: 200 {jobId, uid, type} (the run's id is the job id)
        restored = server.wait(accepted.get("jobId")) if status == 200 else {}
        check("restore (seed 003) through its own route from that backup's zip: launched, polled, succeeded",
              zip_path and status == 200 and restored.get("status") == "succeeded", (zip_path, status, restored and restored.get("status")))
        status, again, _ = keyed("ingest-1", ingestion)
        check("after kill -9 and a restart the key still replays its first reply", status == 202 and again == ingest_reply, status)
        scheduled = None
        deadline = time.time() + 20
        while time.time() < deadline and not scheduled:
            page = server.request("GET", "/api/v1/runs?pipeline=ingestion&limit=50")[1]
            scheduled = next((r for r in page["runs"] if r["trigger"] == "schedule" and r["id"] not in fired_before), None)
            time.sleep(0.2)
        check("the missed schedule fired once at start: an ingestion run, trigger schedule, the schedule's params",
              scheduled and scheduled["params"].get("trigger_mode") == "scheduled"
              and scheduled.get("trigger_detail", {}).get("schedule") == "0 3 * * *"
              and int(scheduled.get("trigger_detail", {}).get("missed", -1)) >= 1, scheduled)
        check("... for the last 03:00 UTC due, its time zone named as declared (UTC, not GMT)",
              scheduled and scheduled["trigger_detail"].get("timezone") == "UTC"
              and scheduled["trigger_detail"].get("fire_time", "") >= time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(last_due)),
              scheduled and scheduled.get("trigger_detail"))
        page = server.request("GET", "/api/v1/runs?pipeline=ingestion&limit=50")[1]
        check("... and only once", sum(1 for r in page["runs"] if r["trigger"] == "schedule" and r["id"] not in fired_before) == 1,
              len(page["runs"]))
        if scheduled:
            server.wait(scheduled["id"])

        server.stop()
        check("SIGTERM: the server stops", server.process.returncode == 0, server.process.returncode)
        # gc in the server: finished runs past retention go, with their workspaces.
        workspace = f"{work}/home/workspaces/{run_id}"
        had_workspace = os.path.isdir(workspace)
        server.start("--retention", "1s", "--gc-every", "1s")
        deadline = time.time() + 20
        while time.time() < deadline and server.request("GET", f"/api/v1/runs/{run_id}")[0] != 404:
            time.sleep(0.2)
        check("the server's gc removed a finished docs-publish run past --retention 1s, and its workspace",
              had_workspace and server.request("GET", f"/api/v1/runs/{run_id}")[0] == 404 and not os.path.exists(workspace), had_workspace)
        server.stop()
        # --- SIGHUP loads the directory again; a pipeline that does not load is reported, not fatal
        small = f"{work}/small"
        os.makedirs(f"{small}/pipelines")
        shutil.copy(f"{ROOT}/pipelines/promotion.yaml", f"{small}/pipelines/")
        with open(f"{small}/pipelines/broken.yaml", "w") as f:
            f.write("version: 1\nname: broken\nsteps: []\n")
        other = Server(small, pipelines=f"{small}/pipelines")
        other.env = dict(server.env, RUNNER_HOME=f"{small}/home")
        other.token = server.token
        shutil.copytree(f"{work}/home", f"{small}/home", ignore=shutil.ignore_patterns("logs", "workspaces"))
        other.start()
        names = lambda: sorted(p["name"] for p in other.request("GET", "/api/v1/pipelines")[1]["pipelines"])
        first_names = names()
        shutil.copy(f"{ROOT}/pipelines/backup.yaml", f"{small}/pipelines/")
        other.process.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and names() != ["backup", "promotion"]:
            time.sleep(0.1)
        after_names = names()
        other.stop()
        reported = open(f"{small}/serve.out").read()
        check("SIGHUP reloads the directory (a new pipeline is served); a broken one is reported and left out",
              first_names == ["promotion"] and after_names == ["backup", "promotion"] and "not serving" in reported and "broken.yaml" in reported,
              (first_names, after_names, reported[-300:]))
        leaks = []
        for base, _, files in os.walk(work):
            for name in files:
                path = os.path.join(base, name)
                if path == token_file:
                    continue  # the client's own token file, written by this test
                try:
                    data = open(path, "rb").read()
                except OSError:
                    continue
                leaks += [path for t in tokens.values() if t.encode() in data]
        check("no token appears in any file: logs, state database, server output", not leaks, leaks[:3])
    checks.finish("serve-api")


if __name__ == "__main__":
    main()
