#!/usr/bin/env -S python3 -B
"""The audit log's gaps (issue 16, item 14): `runner runs cancel`, `runner runs resume --from`,
`runner token create` and `revoke` (actor `cli:<user>`), and launches the API refused (400:
`launch_invalid`, 409: `launch_rejected`, with the answer's code) are audited; secret params
stay masked.

Usage: Tests/Faults/test-inputs-audit.py RUNNER
"""
import json
import os
import pwd
from pathlib import Path

from faults import Work, check, checks

CLI_ACTOR = "cli:" + pwd.getpwuid(os.geteuid()).pw_name

# Shared with Tests/RunnerServerTests/LaunchAuditTests.swift.
PIPELINE = (Path(__file__).resolve().parents[1] / "Fixtures" / "audit" / "guarded.yaml").read_text()


def request(server, method, path, body=None, token=None):
    reply = server.http(method, path, body, token=token)
    return reply.status, reply.decoded()


def audit(server):
    r = server.cli("audit", "--json", "--limit", "100")
    return json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else []


def newest_entry(server):
    entries = audit(server)
    return entries[0] if entries else {}


def main():
    with Work("faults-audit.", {"guarded.yaml": PIPELINE}) as work, work.server() as server:
        print("the audit log: CLI actions and refused launches")
        operator = server.cli("token", "create", "--role", "operator", "--name", "ci").stdout.strip()
        admin = server.cli("token", "create", "--role", "admin", "--name", "auditor").stdout.strip()
        server.cli("token", "create", "--role", "viewer", "--name", "old")
        server.cli("token", "revoke", "old")
        entries = audit(server)
        made = [e for e in entries if e["action"] == "token_create"]
        check(f"token create: audited, by {CLI_ACTOR}, with the name and role, never the token",
              len(made) == 3 and all(e["actor"] == CLI_ACTOR for e in made)
              and {"name": "ci", "role": "operator"} in [e["params"] for e in made]
              and operator and operator not in json.dumps(entries), made)
        revoked = [e for e in entries if e["action"] == "token_revoke"]
        check("token revoke: audited, by the local user, naming the token",
              len(revoked) == 1 and revoked[0]["actor"] == CLI_ACTOR and revoked[0]["params"] == {"name": "old"}, revoked)

        server.token = operator
        server.start()
        path = "/api/v1/pipelines/guarded/runs"
        status, _ = request(server, "POST", path, {"params": {"target": "nope", "password": "hunter2"}}, operator)
        newest = newest_entry(server)
        check("API 400: launch_invalid, the param's code, by the token's name, the secret masked",
              status == 400 and newest.get("action") == "launch_invalid" and newest.get("code") == "INVALID_TARGET"
              and newest.get("actor") == "ci" and newest.get("params", {}).get("password") == "***", (status, newest))
        status, accepted = request(server, "POST", path, {"params": {"target": "staging", "password": "hunter2"}}, operator)
        run_id = accepted.get("run_id")
        status, _ = request(server, "POST", path, {"params": {"target": "production", "password": "hunter2"}}, operator)
        newest = newest_entry(server)
        check("API 409: launch_rejected, the concurrency code, the active run, the secret masked",
              status == 409 and newest.get("action") == "launch_rejected" and newest.get("code") == "GUARDED_BUSY"
              and newest.get("run_id") == run_id and newest.get("params", {}).get("password") == "***", (status, newest))

        cancelled = server.cli("runs", "cancel", run_id)
        newest = newest_entry(server)
        check("runs cancel (CLI): audited, by the local user",
              cancelled.returncode == 0 and newest.get("action") == "cancel" and newest.get("run_id") == run_id
              and newest.get("actor") == CLI_ACTOR, (cancelled.returncode, newest))
        server.wait(run_id, seconds=20)
        work.write("pipelines/release", "")
        resumed = server.cli("runs", "resume", run_id, "--from", "work", "--json")
        new_id = json.loads(resumed.stdout).get("id") if resumed.stdout.startswith("{") else None
        newest = newest_entry(server)
        check("runs resume --from (CLI): audited as a retry, the new run, by the local user",
              resumed.returncode == 0 and new_id and newest.get("action") == "retry" and newest.get("run_id") == new_id
              and newest.get("actor") == CLI_ACTOR and newest.get("pipeline") == "guarded", (resumed.returncode, new_id, newest))

        status, page = request(server, "GET", "/api/v1/audit?limit=100", token=admin)
        actions = [e["action"] for e in page.get("entries", [])]
        check("GET /api/v1/audit shows them all, with the codes",
              status == 200 and {"token_create", "token_revoke", "launch_invalid", "launch_rejected", "cancel", "retry", "launch"}
              <= set(actions) and any(e.get("code") == "GUARDED_BUSY" for e in page["entries"]), (status, actions))
        check("no secret value anywhere in the audit log", "hunter2" not in json.dumps(page), "")
        text = server.cli("audit").stdout
        check("runner audit shows the refusal's code", "launch_rejected (GUARDED_BUSY)" in text, text[:400])
    checks.finish("test-inputs-audit")

if __name__ == "__main__":
    main()
