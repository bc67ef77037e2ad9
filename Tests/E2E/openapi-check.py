#!/usr/bin/env -S python3 -B
"""The OpenAPI document `runner serve` answers (GET /api/v1/openapi.json: schemas/openapi.yaml
with the routes of the pipelines served, generated from their YAML) against the server itself.

  a. the document is valid OpenAPI 3.1 (openapi-spec-validator), the one `runner openapi
     pipelines` prints, with every route of the server and every contract route of pipelines/;
  b. `runner serve --pipelines pipelines` answers real requests — health, metrics, pipelines,
     a docs-publish launch (targetRef=HEAD) polled to its end, a 409 conflict, runs list and
     pages, run detail, step log, cancel of a finished run (409), retry (409, 202, 400), audit
     (admin), the pipelines' own routes, the contract routes of backup and restore (launch,
     list, status, a cancel while running and while queued, their errors in their contract's
     shape; then every contract route's 401, 403, 404 and unknown selector), a failed
     promotion and its retry,
     Idempotency-Key replay and 422, a hook's launch (trigger hook), Server-Sent Events (live,
     history, resumed; each event's data against its schema), and 400, 401, 403, 404, 405 and
     413 — with a status the
     operation documents and a body that its schema for that status accepts (jsonschema, draft
     2020-12, `$ref`s resolved in the document); then every run the server holds, listed and
     shown;
  c. schemathesis fuzzes every route but /metrics, contract routes included, with an operator
     token: no 5xx, every status documented, every body conforming.

Usage: Tests/E2E/openapi-check.py [RUNNER]   (default .build/debug/runner). Exit 0 = all passed.
Environment: OPENAPI_CHECK_EXAMPLES (schemathesis examples per operation, 60), OPENAPI_CHECK_FUZZ_TIMEOUT
(seconds, 150), OPENAPI_CHECK_SEED, OPENAPI_CHECK_SPEC (a document to check instead of the served one, to see a
drift caught).
Needs: openapi-spec-validator, jsonschema, PyYAML, schemathesis (`make py-deps`).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

from runner_e2e import ROOT, TERMINAL, ServeProcess, Work, check, checks
SPEC_OVERRIDE = os.environ.get("OPENAPI_CHECK_SPEC")
BASE = "urn:runner:openapi"
# schemathesis: examples per operation and a hard limit on the whole step (seconds).
FUZZ_EXAMPLES = int(os.environ.get("OPENAPI_CHECK_EXAMPLES", "60"))
FUZZ_TIMEOUT = int(os.environ.get("OPENAPI_CHECK_FUZZ_TIMEOUT", "150"))
FUZZ_SEED = os.environ.get("OPENAPI_CHECK_SEED", "20261123")


try:
    import yaml
    import jsonschema
    import referencing
    import referencing.jsonschema
    from openapi_spec_validator import validate as validate_spec
except ImportError as error:  # pragma: no cover - the Makefile's py-deps installs them
    print(f"openapi-check: missing Python package ({error.name}): "
          "python3 -m pip install openapi-spec-validator jsonschema pyyaml schemathesis")
    print("openapi-check: 0 passed, 1 failed")
    sys.exit(1)


class Spec:
    """The OpenAPI document: operations, their responses, and validation of bodies against
    the schemas (a registry holds the whole document, so `#/components/...` resolves)."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        resource = referencing.Resource.from_contents(self.doc, default_specification=referencing.jsonschema.DRAFT202012)
        self.registry = referencing.Registry().with_resource(BASE, resource)

    @staticmethod
    def pointer(*segments):
        return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in segments)

    def at(self, pointer):
        node = self.doc
        for segment in pointer.split("/")[1:]:
            node = node[segment.replace("~1", "/").replace("~0", "~")]
        return node

    def deref(self, pointer):
        """Follows `$ref`s (within the document) from `pointer`: (node, its pointer)."""
        node = self.at(pointer)
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"][1:]
            node = self.at(pointer)
        return node, pointer

    def operation(self, method, template):
        return self.doc["paths"][template][method.lower()]

    def response(self, method, template, status):
        """(response object, its pointer) for a status of an operation, or (None, None)."""
        responses = self.operation(method, template)["responses"]
        key = str(status) if str(status) in responses else ("default" if "default" in responses else None)
        if key is None:
            return None, None
        return self.deref(self.pointer("paths", template, method.lower(), "responses", key))

    def errors(self, schema_pointer, instance):
        ref = BASE + "#" + urllib.parse.quote(schema_pointer, safe="/~")
        validator = jsonschema.Draft202012Validator({"$ref": ref}, registry=self.registry,
                                                    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
                for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))]


class Reply:
    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw
        self.content_type = headers.get("Content-Type", "")
        try:
            self.body = json.loads(raw) if self.content_type == "application/json" else raw.decode("utf-8")
        except ValueError:
            self.body = None

    def get(self, key, default=None):
        return self.body.get(key, default) if isinstance(self.body, dict) else default

    def __repr__(self):
        text = self.raw.decode("utf-8", "replace")
        return f"{self.status} {text[:400]}"


class Server(ServeProcess):
    def request(self, *args, **kwargs):
        return Reply(*self.http(*args, **kwargs))


def conforms(spec, reply, method, template, response_pointer=None):
    """Problems with a reply: its status is one the operation documents, its content type
    the documented one, its body valid against that status's schema, its documented headers
    valid. `response_pointer` names a response of components (405, unknown routes)."""
    if response_pointer:
        response, pointer = spec.deref(response_pointer)
    elif method.lower() not in spec.doc["paths"].get(template, {}):
        return [f"{method} {template} is not in the document"]
    else:
        response, pointer = spec.response(method, template, reply.status)
        if response is None:
            documented = sorted(spec.operation(method, template)["responses"])
            return [f"status {reply.status} is not documented for {method} {template} (documented: {', '.join(documented)})"]
    problems = []
    content = response.get("content", {})
    if content:
        if reply.content_type not in content:
            return problems + [f"Content-Type {reply.content_type!r} is not one of {sorted(content)}"]
        media = reply.content_type
        schema_pointer = pointer + spec.pointer("content", media, "schema")
        if reply.body is None:
            return problems + ["the body is not JSON" if media == "application/json" else "the body is not UTF-8 text"]
        if media.startswith("text/event-stream"):
            # The schema is one event's (its data's own schema is checked by sse()).
            for n, fields in enumerate(events_of(reply.body)):
                problems += [f"event {n + 1}: {e}" for e in spec.errors(schema_pointer, dict(fields, event=fields.get("event", "message")))]
        else:
            problems += spec.errors(schema_pointer, reply.body)
    elif reply.raw:
        problems.append(f"a body where none is documented: {reply.raw[:100]!r}")
    for name in response.get("headers", {}):
        header, header_pointer = spec.deref(pointer + spec.pointer("headers", name))
        value = reply.headers.get(name)
        if value is None:
            if header.get("required"):
                problems.append(f"missing header {name}")
            continue
        schema = header.get("schema", {})
        instance = int(value) if schema.get("type") == "integer" and re.fullmatch(r"-?\d+", value) else value
        problems += [f"header {name}: {e}" for e in spec.errors(header_pointer + "/schema", instance)]
    return problems


def main():
    started = time.time()
    print("openapi-check: GET /api/v1/openapi.json")
    with Work("openapi-check.") as folder, Server(folder.dir) as server:
        work = folder.dir
        tokens = {role: server.new_token(role, f"openapi-{role}") for role in ("viewer", "operator", "admin")}
        revoked = server.new_token("admin", "openapi-revoked")
        server.cli("token", "revoke", "openapi-revoked")
        if not all(re.fullmatch(r"rnr_[0-9a-f]{16}_[0-9a-f]{64}", t) for t in [*tokens.values(), revoked]):
            raise SystemExit(f"openapi-check: runner token create did not print tokens: {tokens}")
        server.token = tokens["operator"]
        server.start()
        print(f"  (runner serve on 127.0.0.1:{server.port})")
        spec, spec_path = document(server, tokens["viewer"], work)

        def call(name, method, template, path=None, expect=None, code=None, response=None, **kwargs):
            """One request, checked against the document; `expect` the status, `code` the error code."""
            reply = server.request(method, path or template, **kwargs)
            problems = conforms(spec, reply, method, template, response)
            if expect is not None and reply.status != expect:
                problems.insert(0, f"expected status {expect}, got {reply.status}")
            if code is not None and reply.get("code") != code:
                problems.insert(0, f"expected code {code}, got {reply.get('code')}")
            check(f"{method} {path or template}: {name}", not problems, "; ".join(problems)[:900] + f"\n        reply: {reply!r}")
            return reply

        def wait(run_id, template="/api/v1/runs/{id}", path=None, statuses=TERMINAL, seconds=90):
            """Polls a run, each answer checked against the document (one ok/FAIL line)."""
            deadline = time.time() + seconds
            bad, reply, polls = [], None, 0
            while time.time() < deadline:
                reply = server.request("GET", path or template.replace("{id}", run_id))
                polls += 1
                bad += conforms(spec, reply, "GET", template)
                if reply.status != 200 or reply.get("status") in statuses:
                    break
                time.sleep(0.15)
            bad = list(dict.fromkeys(bad))
            check(f"GET {template} polled {polls}× until {reply.get('status')}: every answer conforms",
                  not bad and reply.status == 200 and reply.get("status") in statuses, "; ".join(bad[:5])[:900] + f"\n        reply: {reply!r}")
            return reply.body if isinstance(reply.body, dict) else {}

        # --- b. live answers
        call("200 without a token", "GET", "/healthz", expect=200, token=None)
        metrics = call("200 Prometheus text", "GET", "/metrics", expect=200, token=tokens["viewer"])
        check("metrics: text format 0.0.4", metrics.content_type.startswith("text/plain; version=0.0.4")
              and "runner_queue_depth " in str(metrics.body), metrics.content_type)
        reply = call("401 without a token, WWW-Authenticate: Bearer", "GET", "/api/v1/pipelines", expect=401, code="RUN6006", token=None)
        check("401 carries WWW-Authenticate: Bearer", reply.headers.get("WWW-Authenticate") == "Bearer", dict(reply.headers))
        call("401 with a malformed token", "GET", "/api/v1/pipelines", expect=401, code="RUN6006", token="nope")
        call("401 with a revoked token", "GET", "/api/v1/runs", expect=401, code="RUN6006", token=revoked)
        call("401 before routing (an unknown path without a token)", "GET", "/api/v2/nothing", expect=401, code="RUN6006",
             token=None, response="/components/responses/Unauthorized")
        call("403 for a viewer's launch", "POST", "/api/v1/pipelines/{name}/runs", "/api/v1/pipelines/docs-publish/runs",
             expect=403, code="RUN6007", token=tokens["viewer"], body={"params": {"targetRef": "HEAD"}})
        call("403 for an operator's audit", "GET", "/api/v1/audit", expect=403, code="RUN6007")
        listing = call("200 the pipelines", "GET", "/api/v1/pipelines", expect=200)
        names = [p["name"] for p in listing.get("pipelines", [])]
        check("the five pipelines of pipelines/ are served", sorted(names) == ["backup", "docs-publish", "ingestion", "promotion", "restore"], names)
        declared = {p["api_path"] for p in listing.get("pipelines", []) if "api_path" in p}
        missing = sorted(f"{m} {p}" for a in declared for m, p in (("post", a), ("get", a + "/{id}"))
                         if m not in spec.doc["paths"].get(p, {}))
        # (the seed pipelines declare api contracts instead of alias routes: none may be left)
        check(f"the pipelines' alias routes ({', '.join(sorted(declared)) or 'none'}) are in the document", not missing, missing)
        for name in names:
            call("200 with its params", "GET", "/api/v1/pipelines/{name}", f"/api/v1/pipelines/{name}", expect=200, token=tokens["viewer"])
        call("404 RUN6002", "GET", "/api/v1/pipelines/{name}", "/api/v1/pipelines/nope", expect=404, code="RUN6002")
        call("404 RUN6002 on launch", "POST", "/api/v1/pipelines/{name}/runs", "/api/v1/pipelines/nope/runs", expect=404,
             code="RUN6002", body={"params": {}})

        # docs-publish: launch, conflict, poll to the end
        launch_path = "/api/v1/pipelines/docs-publish/runs"
        accepted = call("202 docs-publish targetRef=HEAD", "POST", "/api/v1/pipelines/{name}/runs", launch_path, expect=202,
                        body={"params": {"targetRef": "HEAD", "reason": "openapi-check"}},
                        headers={"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
        run_id = accepted.get("run_id", "none")
        conflict = call("409 PUBLISH_ALREADY_ACTIVE with the active run", "POST", "/api/v1/pipelines/{name}/runs", launch_path,
                        expect=409, code="PUBLISH_ALREADY_ACTIVE", body={"params": {"targetRef": "HEAD"}})
        check("the conflict names the active run", conflict.get("run_id") == run_id, conflict)
        run = wait(run_id)
        check("the docs-publish run succeeded", run.get("status") == "succeeded", run.get("status"))
        call("400 INVALID_TARGET_REF", "POST", "/api/v1/pipelines/{name}/runs", launch_path, expect=400, code="INVALID_TARGET_REF",
             body={"params": {"targetRef": "no-such-branch"}})
        call("400 RUN2103 with diagnostics", "POST", "/api/v1/pipelines/{name}/runs", launch_path, expect=400, code="RUN2103",
             body={"params": {"targetRef": "HEAD", "bogus": 1}})
        call("400 RUN6001 (not JSON)", "POST", "/api/v1/pipelines/{name}/runs", launch_path, expect=400, code="RUN6001", raw=b"not json")
        call("400 RUN6001 (params not under 'params')", "POST", "/api/v1/pipelines/{name}/runs", launch_path, expect=400, code="RUN6001",
             raw=b'{"targetRef": "HEAD"}')
        call("400 RUN6010 (a key with a space)", "POST", "/api/v1/pipelines/{name}/runs", launch_path, expect=400, code="RUN6010",
             body={"params": {"targetRef": "HEAD"}}, headers={"Idempotency-Key": "bad key"})
        call("413 RUN6005 (a 2 MiB body)", "POST", "/api/v1/pipelines/{name}/runs", launch_path, expect=413, code="RUN6005",
             raw=b"{" + b" " * (2 << 20) + b"}")

        # runs: list, pages, detail, log, cancel, retry
        call("200 every run", "GET", "/api/v1/runs", expect=200)
        page = call("200 filtered, limit=1", "GET", "/api/v1/runs", "/api/v1/runs?pipeline=docs-publish&status=succeeded,failed&limit=1", expect=200)
        check("a full page has next_cursor", page.get("next_cursor") == run_id, page)
        call("200 the next page (cursor)", "GET", "/api/v1/runs", f"/api/v1/runs?cursor={page.get('next_cursor')}&limit=1000", expect=200)
        call("400 RUN2102 limit=0", "GET", "/api/v1/runs", "/api/v1/runs?limit=0", expect=400, code="RUN2102")
        call("400 RUN2102 an unknown status", "GET", "/api/v1/runs", "/api/v1/runs?status=done", expect=400, code="RUN2102")
        call("200 the run", "GET", "/api/v1/runs/{id}", f"/api/v1/runs/{run_id}", expect=200, token=tokens["viewer"])
        call("404 RUN_NOT_FOUND", "GET", "/api/v1/runs/{id}", "/api/v1/runs/20991231-000000-000000", expect=404, code="RUN_NOT_FOUND")
        log_template = "/api/v1/runs/{id}/steps/{step}/log"
        log = call("200 text/plain with X-Attempt", "GET", log_template, f"/api/v1/runs/{run_id}/steps/docs_link_check/log", expect=200)
        check("the log is text/plain, X-Attempt: 1", log.content_type.startswith("text/plain") and log.headers.get("X-Attempt") == "1",
              dict(log.headers))
        call("200 ?attempt=1", "GET", log_template, f"/api/v1/runs/{run_id}/steps/switch/log?attempt=1", expect=200)
        call("400 RUN2102 ?attempt=x", "GET", log_template, f"/api/v1/runs/{run_id}/steps/switch/log?attempt=x", expect=400, code="RUN2102")
        call("404 RUN4005 an unknown step", "GET", log_template, f"/api/v1/runs/{run_id}/steps/nope/log", expect=404, code="RUN4005")
        call("404 RUN_NOT_FOUND an unknown run", "GET", log_template, "/api/v1/runs/20991231-000000-000000/steps/x/log", expect=404,
             code="RUN_NOT_FOUND")
        reply = call("409 RUN4002 cancel of the finished run", "POST", "/api/v1/runs/{id}/cancel", f"/api/v1/runs/{run_id}/cancel",
                     expect=409, code="RUN4002")
        check("the 409 names the run and its status", reply.get("run_id") == run_id and reply.get("status") == "succeeded", reply)
        call("404 cancel of an unknown run", "POST", "/api/v1/runs/{id}/cancel", "/api/v1/runs/20991231-000000-000000/cancel",
             expect=404, code="RUN_NOT_FOUND")
        retry_template = "/api/v1/runs/{id}/retry"
        call("409 RUN4002 retry with no failed step", "POST", retry_template, f"/api/v1/runs/{run_id}/retry", expect=409, code="RUN4002")
        call("400 RUN6001 retry with another body", "POST", retry_template, f"/api/v1/runs/{run_id}/retry", expect=400, code="RUN6001",
             body={"step": "switch"})
        call("400 RUN4005 retry from an unknown step", "POST", retry_template, f"/api/v1/runs/{run_id}/retry", expect=400, code="RUN4005",
             body={"from": "nope"})
        call("404 retry of an unknown run", "POST", retry_template, "/api/v1/runs/20991231-000000-000000/retry", expect=404)
        retried = call("202 retry {from: switch}", "POST", retry_template, f"/api/v1/runs/{run_id}/retry", expect=202, body={"from": "switch"})
        wait(retried.get("run_id", "none"))

        # Idempotency-Key: bound to its payload (docs-publish: 422 for another one), required by ingestion
        keyed = call("202 docs-publish with an Idempotency-Key", "POST", "/api/v1/pipelines/{name}/runs", launch_path, expect=202,
                     body={"params": {"targetRef": "HEAD"}}, headers={"Idempotency-Key": "openapi-dp"})
        call("422 RUN6008 the same key, another payload", "POST", "/api/v1/pipelines/{name}/runs", launch_path, expect=422,
             code="RUN6008", body={"params": {"targetRef": "HEAD", "reason": "another"}}, headers={"Idempotency-Key": "openapi-dp"})
        wait(keyed.get("run_id", "none"))
        ingest = {"params": {"trigger_mode": "manual", "run_kind": "official_ingestion", "target_types": ["official"], "dry_run": True}}
        ingest_path = "/api/v1/pipelines/ingestion/runs"
        launch_template = "/api/v1/pipelines/{name}/runs"
        call("400 MISSING_IDEMPOTENCY_KEY", "POST", launch_template, ingest_path, expect=400, code="MISSING_IDEMPOTENCY_KEY", body=ingest)
        call("400 INVALID_TARGET", "POST", launch_template, ingest_path, expect=400, code="INVALID_TARGET",
             body={"params": dict(ingest["params"], target_types=["nope"])}, headers={"Idempotency-Key": "openapi-bad"})
        first = call("202 with an Idempotency-Key", "POST", launch_template, ingest_path, expect=202, body=ingest,
                     headers={"Idempotency-Key": "openapi-1"})
        again = call("202 the same key and body: replayed", "POST", launch_template, ingest_path, expect=202, body=ingest,
                     headers={"Idempotency-Key": "openapi-1"})
        check("the replay is the first answer, Idempotent-Replayed: true",
              again.raw == first.raw and again.headers.get("Idempotent-Replayed") == "true", dict(again.headers))
        reply = server.request("POST", ingest_path, body=ingest, headers={"Idempotency-Key": "openapi-2"})
        problems = conforms(spec, reply, "POST", launch_template)
        check(f"POST {ingest_path}: another key while it runs: {reply.status} {reply.get('code', '')} conforms"
              " (409 RUN_ALREADY_ACTIVE, or 202 when the first run was already done)",
              not problems and (reply.status == 202 or reply.get("code") == "RUN_ALREADY_ACTIVE"), problems)
        wait(first.get("run_id", "none"))
        if reply.status == 202:
            wait(reply.get("run_id", "none"))

        # backup and restore (contract routes, seed 003): a second backup waits its turn; both
        # are cancelled through the contract (the running one, the waiting one), which answers
        # once the run has ended; then their errors, each in the contract's shape
        status_t, cancel_t = "/api/br/status/{type}/{jobId}", "/api/br/cancel/{type}/{jobId}"
        backup = call("200 backup {jobId, uid, type}", "POST", "/api/backup", expect=200, body={"dirPath": "openapi"})
        backup_id = backup.get("jobId", "none")
        check("the launch answers the job's id, its caller and its type",
              backup.get("uid") == "openapi-operator" and backup.get("type") == "backup", backup)
        second = call("200 a second backup waits its turn (queue)", "POST", "/api/backup", expect=200, body={"dirPath": "openapi-2"})
        wait(backup_id, statuses={"running"} | TERMINAL)
        call("409 RUN4003 retry of a run that has not finished", "POST", retry_template, f"/api/v1/runs/{backup_id}/retry",
             expect=409, code="RUN4003")
        call("200 the running backup", "GET", status_t, f"/api/br/status/backup/{backup_id}", expect=200)
        call("200 the caller's backups", "GET", "/api/br/list/{type}", "/api/br/list/backup", expect=200)
        for job, what in ((backup_id, "the running backup"), (second.get("jobId", "none"), "the waiting one")):
            reply = call(f"200 cancel of {what}", "POST", cancel_t, f"/api/br/cancel/backup/{job}", expect=200)
            check(f"{what} is CANCELED when the cancel answers", reply.get("status") == "CANCELED", reply)
        call("400 cancel of a finished job (cannot_cancel)", "POST", cancel_t, f"/api/br/cancel/backup/{backup_id}", expect=400)
        call("400 INVALID_PATH", "POST", "/api/backup", expect=400, body={"dirPath": "../up"})
        call("400 an unknown field", "POST", "/api/backup", expect=400, body={"dirPath": "x", "extra": 1})
        call("400 a body that is not JSON", "POST", "/api/backup", expect=400, raw=b"nope")
        call("404 an unknown job", "GET", status_t, "/api/br/status/backup/20991231-000000-000000", expect=404)
        call("404 a backup's job under restore", "GET", status_t, f"/api/br/status/restore/{backup_id}", expect=404)
        call("404 INVALID_PATH: no such zip", "POST", "/api/restore", expect=404, body={"zipFilePath": "x.zip"})
        call("200 the caller's restores", "GET", "/api/br/list/{type}", "/api/br/list/restore", expect=200)
        contract_routes(spec, server, tokens, call)

        # promotion through the runner's own routes (its contract's, /pipeline-promotions, are
        # Tests/E2E/contract-001.py's): a failed run, its failed step's log, a retry from it
        promo_launch = "/api/v1/pipelines/promotion/runs"
        call("400 INVALID_APP", "POST", "/api/v1/pipelines/{name}/runs", promo_launch, expect=400, code="INVALID_APP",
             body={"params": {"source_app": "X", "targets": ["my-app-staging"]}})
        promo = call("202 promotion of an unknown source app", "POST", "/api/v1/pipelines/{name}/runs", promo_launch,
                     expect=202,
                     body={"params": {"source_app": "no-such-app", "targets": ["my-app-staging"]}})
        promo_id = promo.get("run_id", "none")
        run = wait(promo_id)
        failed_step = next((s["name"] for s in run.get("steps", []) if s.get("status") == "failed"), "none")
        check("the promotion failed at a step", run.get("status") == "failed" and failed_step != "none", run.get("status"))
        call("200 the failed step's log", "GET", log_template, f"/api/v1/runs/{promo_id}/steps/{failed_step}/log", expect=200)
        retried = call("202 retry from the failed step", "POST", retry_template, f"/api/v1/runs/{promo_id}/retry", expect=202)
        wait(retried.get("run_id", "none"))

        # a git hook's launch through the API (trigger hook), and its events as they happen
        hook = call("202 a hook's launch (trigger hook, trigger_detail)", "POST", "/api/v1/pipelines/{name}/runs",
                    "/api/v1/pipelines/promotion/runs", expect=202,
                    body={"params": {"source_app": "no-such-app", "targets": ["my-app-prod"]}, "trigger": "hook",
                          "trigger_detail": {"event": "post-receive", "ref": "refs/heads/main", "pusher": "openapi"}})
        check("202 says trigger hook", hook.get("trigger") == "hook", hook)
        hook_id = hook.get("run_id", "none")
        events = sse(spec, server, hook_id, "live, until the run ends")
        run = call("200 the hook's run", "GET", "/api/v1/runs/{id}", f"/api/v1/runs/{hook_id}", expect=200).body or {}
        check("the run records trigger hook and its trigger_detail", run.get("trigger") == "hook"
              and run.get("trigger_detail", {}).get("pusher") == "openapi", run.get("trigger_detail"))
        check("the stream ended with the run's final status", events and events[-1][1] == "end"
              and events[-1][2].get("status") == run.get("status"), events[-1:] if events else events)
        call("400 RUN6001 a trigger other than api or hook", "POST", "/api/v1/pipelines/{name}/runs", "/api/v1/pipelines/promotion/runs",
             expect=400, code="RUN6001", body={"params": {"source_app": "no-such-app", "targets": ["my-app-prod"]}, "trigger": "cli"})
        call("400 RUN6001 an unknown trigger_detail key", "POST", "/api/v1/pipelines/{name}/runs", "/api/v1/pipelines/promotion/runs",
             expect=400, code="RUN6001", body={"params": {}, "trigger": "hook", "trigger_detail": {"branch": "main"}})
        history = sse(spec, server, run_id, "a finished run's whole history")
        numbered = [n for n, _, _ in history if n is not None]
        check("its events are numbered 1, 2, 3, ...", numbered == list(range(1, len(numbered) + 1)) and len(numbered) >= 5, numbered)
        resumed = sse(spec, server, run_id, "?after=3", query="?after=3")
        check("?after=3 resumes at event 4", [n for n, _, _ in resumed if n is not None][:1] == [4], resumed[:1])
        resumed = sse(spec, server, run_id, "Last-Event-ID: 5", headers={"Last-Event-ID": "5"})
        check("Last-Event-ID: 5 resumes at event 6", [n for n, _, _ in resumed if n is not None][:1] == [6], resumed[:1])
        call("404 RUN_NOT_FOUND", "GET", "/api/v1/runs/{id}/events", "/api/v1/runs/20991231-000000-000000/events", expect=404,
             code="RUN_NOT_FOUND")

        # audit, routing errors
        call("200 the audit log (admin)", "GET", "/api/v1/audit", "/api/v1/audit?limit=50", expect=200, token=tokens["admin"])
        reply = call("405 RUN6004 with Allow", "DELETE", "/api/v1/runs/{id}", f"/api/v1/runs/{run_id}", expect=405, code="RUN6004",
                     response="/components/responses/MethodNotAllowed")
        check("405 Allow: GET", reply.headers.get("Allow") == "GET", dict(reply.headers))
        reply = call("405 RUN6004 with Allow", "GET", "/api/v1/runs/{id}/cancel", f"/api/v1/runs/{run_id}/cancel", expect=405,
                     code="RUN6004", token=tokens["viewer"], response="/components/responses/MethodNotAllowed")
        check("405 Allow: POST", reply.headers.get("Allow") == "POST", dict(reply.headers))
        call("404 RUN6003 an unknown route", "GET", "/api/v2/nothing", expect=404, code="RUN6003", response="/components/responses/RouteNotFound")
        call("404 RUN6003 a trailing slash", "GET", "/api/v1/runs/", expect=404, code="RUN6003", response="/components/responses/RouteNotFound")
        call("200 after all that", "GET", "/metrics", expect=200)

        # every run the server now holds (succeeded, failed, cancelled, retries, reused steps), listed and shown
        page = call("200 every run so far", "GET", "/api/v1/runs", "/api/v1/runs?limit=1000", expect=200)
        bad = []
        for entry in page.get("runs", []):
            reply = server.request("GET", f"/api/v1/runs/{entry['id']}")
            bad += [f"{entry['id']}: {p}" for p in conforms(spec, reply, "GET", "/api/v1/runs/{id}")]
        statuses = sorted({r["status"] for r in page.get("runs", [])})
        check(f"GET /api/v1/runs/{{id}} of all {len(page.get('runs', []))} runs ({', '.join(statuses)}): every one conforms", not bad,
              "; ".join(bad[:5])[:900])

        # --- c. schemathesis
        print(f"  (live checks took {time.time() - started:.0f}s; schemathesis next, at most {FUZZ_TIMEOUT}s)")
        fuzz(server, tokens["operator"], work, spec_path)
    checks.finish("openapi-check", f" ({time.time() - started:.0f}s)")


def contract_routes(spec, server, tokens, call):
    """Every contract route of the document, as a client that has it wrong meets it: without a
    token (401), with a viewer's where an operator is needed (403), with an unknown selector
    value (400) or run (404) — each answer in the route's own shape."""
    unknown = "20991231-000000-000000"
    for template, item in spec.doc["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "contract routes" not in op.get("tags", []):
                continue
            values = {p["name"]: (p["schema"].get("enum") or [unknown])[0] for p in op.get("parameters", []) if p.get("in") == "path"}
            path = template.format(**values)
            call("401 without a token", method.upper(), template, path, expect=401, token=None)
            if op.get("x-required-role") == "operator":
                call("403 a viewer's token", method.upper(), template, path, expect=403, token=tokens["viewer"])
            for p in op.get("parameters", []):
                if p.get("in") == "path" and "enum" in p["schema"]:
                    call(f"400 an unknown {{{p['name']}}}", method.upper(), template,
                         template.format(**dict(values, **{p["name"]: "nope"})), expect=400)
            if op.get("x-operation") in ("show", "cancel", "retry"):
                call("404 an unknown run", method.upper(), template, path, expect=404)
            for p in op.get("parameters", []):
                if p.get("in") == "path" and "enum" not in p["schema"]:
                    call(f"404 a %2F in {{{p['name']}}}", method.upper(), template,
                         template.format(**dict(values, **{p["name"]: "a%2F..%2Fb"})), expect=404)


def document(server, token, work):
    """a. The document the server answers (or OPENAPI_CHECK_SPEC's), saved for schemathesis:
    valid, the one `runner openapi` prints, with every route the server has."""
    reply = server.request("GET", "/api/v1/openapi.json", token=token)
    check("GET /api/v1/openapi.json: 200 application/json (viewer)", reply.status == 200 and isinstance(reply.body, dict),
          repr(reply)[:300])
    path = os.path.join(work, "openapi.json")
    with open(path, "wb") as f:
        f.write(reply.raw)
    printed = server.cli("openapi", server.pipelines)
    check("`runner openapi pipelines` prints the same document", printed.returncode == 0
          and printed.stdout.encode() == reply.raw, f"exit {printed.returncode}: {printed.stderr[:300]}")
    path = os.path.abspath(SPEC_OVERRIDE) if SPEC_OVERRIDE else path
    try:
        spec = Spec(path)
        validate_spec(spec.doc)
        check("the document is valid OpenAPI 3.1 (openapi-spec-validator)", spec.doc.get("openapi", "").startswith("3.1"))
    except Exception as error:  # noqa: BLE001 - any failure here is the check's answer
        check("the document is valid OpenAPI 3.1 (openapi-spec-validator)", False, f"{type(error).__name__}: {str(error)[:600]}")
        checks.finish("openapi-check")
    check("every route of the server (APIServer.routes) is in the document",
          {"/healthz", "/metrics", "/api/v1/pipelines", "/api/v1/pipelines/{name}", "/api/v1/pipelines/{name}/runs", "/api/v1/runs",
           "/api/v1/runs/{id}", "/api/v1/runs/{id}/cancel", "/api/v1/runs/{id}/retry", "/api/v1/runs/{id}/steps/{step}/log",
           "/api/v1/runs/{id}/events", "/api/v1/audit", "/api/v1/openapi.json"} <= set(spec.doc["paths"]), sorted(spec.doc["paths"]))
    contract = {f"{m.upper()} {p}" for p, item in spec.doc["paths"].items() for m, op in item.items()
                if isinstance(op, dict) and "contract routes" in op.get("tags", [])}
    expected = {"POST /api/backup", "POST /api/restore", "GET /api/br/list/{type}", "GET /api/br/status/{type}/{jobId}",
                "POST /api/br/cancel/{type}/{jobId}"}
    check(f"the contract routes of pipelines/ are in the document ({len(contract)})", expected <= contract, sorted(contract))
    return spec, path


def events_of(text):
    """The events of a Server-Sent Events stream: each its fields (`id`, `event`, `data`)."""
    events = []
    for block in text.split("\n\n"):
        fields = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            key, _, value = line.partition(": ")
            fields[key] = value
        if fields:
            events.append(fields)
    return events


def sse(spec, server, run_id, name, query="", headers=None):
    """GET /api/v1/runs/{id}/events to its end: every event's data checked against the schema
    `x-events` names for its type. Returns [(id or None, event, data)]."""
    template = "/api/v1/runs/{id}/events"
    reply = server.request("GET", f"/api/v1/runs/{run_id}/events{query}", headers=headers, timeout=90)
    problems = conforms(spec, reply, "GET", template)
    kinds = spec.operation("GET", template)["x-events"]
    events = []
    for fields in events_of(str(reply.body or "")):
        kind = fields.get("event", "message")
        if kind not in kinds or "data" not in fields or set(fields) - {"id", "event", "data"}:
            problems.append(f"an event not described: {fields}")
            continue
        try:
            data = json.loads(fields["data"])
        except ValueError:
            problems.append(f"data is not JSON: {fields['data'][:200]}")
            continue
        problems += [f"{kind} event: {e}" for e in spec.errors(kinds[kind]["$ref"][1:], data)]
        if "id" in fields and not (fields["id"].isdigit() and kind in ("run", "step") and int(fields["id"]) == data.get("id")):
            problems.append(f"the SSE id {fields['id']} is not the data's id {data.get('id')}")
        events.append((int(fields["id"]) if fields.get("id", "").isdigit() else None, kind, data))
    if not events or events[-1][1] != "end":
        problems.append("the stream did not end with `event: end`")
    problems = list(dict.fromkeys(problems))
    check(f"GET {template} ({name}): {reply.status} {reply.content_type}, {len(events)} events, each as documented",
          reply.status == 200 and not problems, "; ".join(problems[:6])[:900])
    return events


def fuzz(server, token, work, spec_path):
    # The same Python as this script's (its packages), not whichever `st` is on PATH.
    probe = subprocess.run([sys.executable, "-m", "schemathesis.cli", "--version"], capture_output=True, text=True)
    if probe.returncode != 0:
        check("schemathesis is installed", False, "python3 -m pip install schemathesis")
        return
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", spec_path, "--url", f"http://127.0.0.1:{server.port}",
        "-H", f"Authorization: Bearer {token}",
        "--checks", "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance,"
                    "response_headers_conformance",
        # /metrics is text.
        "--exclude-path-regex", r"^/metrics$",
        "--max-examples", str(FUZZ_EXAMPLES), "--seed", FUZZ_SEED, "--generation-database", "none",
        "--request-timeout", "20", "--workers", "1", "--no-color", "--max-failures", "20",
        "--report", "ndjson", "--report-dir", os.path.join(work, "schemathesis"),
    ]
    started = time.time()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=FUZZ_TIMEOUT, cwd=work)
    except subprocess.TimeoutExpired as timeout:
        output = (timeout.stdout or b"").decode(errors="replace") if isinstance(timeout.stdout, bytes) else (timeout.stdout or "")
        check(f"schemathesis finished within {FUZZ_TIMEOUT}s", False, output[-1500:])
        return
    output = done.stdout + done.stderr
    cases = re.search(r"(\d+) generated, (.*)$", output, re.M)
    summary = cases.group(0).strip() if cases else "no summary"
    with open(os.path.join(work, "schemathesis", "output.txt"), "w") as f:
        f.write(output)
    if done.returncode != 0:
        kept = tempfile.mkdtemp(prefix="openapi-check-schemathesis.")
        shutil.copytree(os.path.join(work, "schemathesis"), kept, dirs_exist_ok=True)
        shutil.copy(os.path.join(work, "serve.out"), kept)
        print(f"  (schemathesis's output, report and the server's log are kept in {kept})")
    health = server.request("GET", "/healthz", token=None)
    check("the server still answers after schemathesis", health.status == 200 and server.process.poll() is None,
          f"{health!r}, exit status {server.process.poll()}")
    check(f"schemathesis ({FUZZ_EXAMPLES} examples per operation, seed {FUZZ_SEED}, {time.time() - started:.0f}s): {summary}; "
          "no 5xx, statuses, content types, headers and bodies as documented",
          done.returncode == 0 and cases is not None, _failures(output))


def _failures(output):
    """The failures and errors sections of schemathesis's output (or its tail)."""
    starts = [i for i in (output.find("= FAILURES ="), output.find("= ERRORS =")) if i >= 0]
    if not starts:
        return output[-3000:].strip()
    start = output.rfind("\n", 0, min(starts)) + 1
    end = output.find("= WARNINGS =", start)
    end = output.find("= SUMMARY =", start) if end < 0 else end
    return output[start:end if end > 0 else None][:6000].strip()


if __name__ == "__main__":
    main()
