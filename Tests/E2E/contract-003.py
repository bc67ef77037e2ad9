#!/usr/bin/env -S python3 -B
"""End-to-end: seed 003 (Belayer Web API) backup and restore jobs as its web client calls them.

A client written from /work/shared/seeds/003_*.txt alone — the backup and restore instruction
APIs and /api/br/list, /api/br/status and /api/br/cancel with {type} — against `runner serve
--pipelines pipelines`, with two users (alice and bob: runner tokens named after the uid, the
seed's /api/auth being out of scope): launch, poll every state (RUNNING, COMPLETED, FAILED,
CANCELED) with the seed's fields and formats, list only the caller's jobs, cancel at once,
restore from a backup's zipFilePath, and every error of the seed's tables with its exact text;
bad bodies and path parameters, each a 4xx in `{"errorMessage": ...}` with nothing launched.
Each check names the seed line it enforces (`003:L540`).

Usage: Tests/E2E/contract-003.py [RUNNER]   (default .build/debug/runner). Exit 0 = all passed.
"""
import os
import re
import time

from runner_e2e import ServeProcess, Work, check, checks, wait_until

BACKUP_FIELDS = ["type", "jobId", "uid", "status", "progress", "startTime", "endTime", "errorMessage", "output", "destDir",
                 "zipFilePath"]
RESTORE_FIELDS = [f for f in BACKUP_FIELDS if f != "destDir"]
WORDS = {"RUNNING", "COMPLETED", "FAILED", "CANCELED"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")  # 003:L580 yyyy-MM-dd'T'HH:mm:ss.SSS+00:00
PROGRESS_LINE = re.compile(r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\]progress:\d{1,3}\.\d\d%$")  # 003:L622
FINISH_LINE = re.compile(r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\]finish:success$")  # 003:L609


def job_problems(job, kind):
    """What in a job (list item, status or cancel answer) is off the seed's field list (003:L561-571,
    L630-639) and its rules per state (003:L572-691)."""
    if not isinstance(job, dict):
        return [f"not an object: {job!r}"[:200]]
    problems = []
    if list(job) != (BACKUP_FIELDS if kind == "backup" else RESTORE_FIELDS):
        problems.append(f"fields {list(job)}")
    status, progress = job.get("status"), job.get("progress")
    if job.get("type") != kind or status not in WORDS:
        problems.append(f"type {job.get('type')!r}, status {status!r}")  # 003:L564
    if not isinstance(progress, int) or not 0 <= progress <= 100 or (status != "RUNNING" and progress != 100):
        problems.append(f"progress {progress!r} when {status}")  # 003:L565, L743: 100 when finished
    if not TIME.match(str(job.get("startTime"))):
        problems.append(f"startTime {job.get('startTime')!r}")  # 003:L566, L580
    end = job.get("endTime")
    if (status == "RUNNING") != (end is None) or (status != "RUNNING" and not TIME.match(str(end))):
        problems.append(f"endTime {job.get('endTime')!r} when {status}")  # 003:L567, L620
    if (status == "FAILED") != isinstance(job.get("errorMessage"), str):
        problems.append(f"errorMessage {job.get('errorMessage')!r} when {status}")  # 003:L568, L608, L621
    if not isinstance(job.get("output"), str):
        problems.append(f"output {job.get('output')!r}")  # 003:L569
    if kind == "backup" and (status == "COMPLETED") != isinstance(job.get("zipFilePath"), str):
        problems.append(f"zipFilePath {job.get('zipFilePath')!r} when {status}")  # 003:L585, L611, L624
    return problems


class Client:
    """The seed's client for one user: the seed's paths only."""

    def __init__(self, server, token):
        self.server, self.token = server, token

    def call(self, method, path, body=None, raw=None):
        reply = self.server.http(method, path, body, raw=raw, token=self.token)
        json_answer = reply.headers.get("Content-Type", "").startswith("application/json")  # 003:L492
        return reply.status, reply.decoded(), json_answer

    def launch(self, kind, body):
        return self.call("POST", f"/api/{kind}", body)

    def status(self, kind, job_id):
        return self.call("GET", f"/api/br/status/{kind}/{job_id}")

    def jobs(self, kind):
        status, body, _ = self.call("GET", f"/api/br/list/{kind}")
        return body.get("jobList") if status == 200 and isinstance(body, dict) else None

    def cancel(self, kind, job_id):
        return self.call("POST", f"/api/br/cancel/{kind}/{job_id}")

    def poll(self, kind, job_id, until=(), seconds=120):
        """Status until the job has finished (or, with `until=("RUNNING",)`, runs with some progress): (the
        last job, the statuses seen, running outputs, shape problems)."""
        seen, outputs, problems, last = [], [], [], {}

        def reached():
            nonlocal last
            code, last, _ = self.status(kind, job_id)
            if code != 200:
                problems.append(f"status answered {code}: {last}")
                return True
            problems.extend(p for p in job_problems(last, kind) if p not in problems)
            if not seen or seen[-1] != last["status"]:
                seen.append(last["status"])
            if last["status"] == "RUNNING" and last["output"]:
                outputs.append(last["output"])
            if last["status"] == "RUNNING":
                return "RUNNING" in until and last["progress"] > 0
            return True
        wait_until(reached, seconds, interval=0.1)
        return last, seen, outputs, problems


def restart(server, **env):
    server.stop()
    server.env.update(env)
    server.start()


def main():
    with Work("contract-003.") as folder, ServeProcess(folder.dir) as server:
        print("seed 003: Belayer backup / restore job APIs")
        alice = Client(server, server.new_token("operator", "alice"))
        bob = Client(server, server.new_token("operator", "bob"))
        storage = f"{folder.dir}/demo/belayer/storage"
        restart(server, BACKUP_THROTTLE_MS="100")
        completed = run_to_completion(alice, bob, storage)
        refusals(alice, bob, storage, completed)
        restore(alice, completed, storage)
        restart(server, BACKUP_THROTTLE_MS="500")
        cancels(alice, storage, completed)
        restart(server, BACKUP_THROTTLE_MS="0", INJECT_FAIL="snapshot")
        failures(alice, completed)
        server.stop()
    checks.finish("contract-003")


def run_to_completion(alice, bob, storage):
    """003-B, D, E, F: a backup launched, followed through RUNNING to COMPLETED, listed."""
    status, accepted, is_json = alice.launch("backup", {"dirPath": "dump1"})
    job_id = accepted.get("jobId") if isinstance(accepted, dict) else None
    check("003:L480-501 POST /api/backup {dirPath}: 200 {jobId, uid, type: backup} at once, application/json",
          status == 200 and is_json and list(accepted) == ["jobId", "uid", "type"] and job_id
          and accepted["uid"] == "alice" and accepted["type"] == "backup", (status, accepted))
    job, seen, outputs, problems = alice.poll("backup", job_id, until=("RUNNING",))
    check("003:L712-736 while it runs: RUNNING, progress 0..100, endTime, errorMessage and zipFilePath null, destDir as given",
          job.get("status") == "RUNNING" and job.get("destDir") == "dump1" and not problems, (job, problems[:3]))
    job, seen, more, problems = alice.poll("backup", job_id)
    outputs += more
    check(f"003:L564 RUNNING -> COMPLETED, every answer with the seed's fields and formats (seen {' -> '.join(seen)})",
          seen[-1:] == ["COMPLETED"] and not problems, problems[:5])
    check("003:L622 the output while running is a progress line '[yyyy-MM-ddTHH:mm:ss]progress:NN.NN%'",
          outputs and all(PROGRESS_LINE.match(o) for o in outputs), outputs[:3])
    zip_path = f"dump1/{job_id}/backup-{job_id}.zip"
    check("003:L750-761 COMPLETED: progress 100, endTime after startTime, errorMessage null, output finish:success",
          job.get("progress") == 100 and job.get("endTime") > job.get("startTime") and job.get("errorMessage") is None
          and FINISH_LINE.match(str(job.get("output"))), job)
    check("003:L488 the zip is stored under STORAGE_DIR/[uid]/[dirPath]/[jobId]; zipFilePath is its path there",
          job.get("zipFilePath") == zip_path and os.path.isfile(f"{storage}/alice/{zip_path}"), job.get("zipFilePath"))
    listed = alice.jobs("backup") or []
    check("003:L549, L572 the list holds the caller's job as the status API shows it", listed == [job], listed)
    status, accepted, _ = bob.launch("backup", {"dirPath": "dump1"})
    bob_job = accepted.get("jobId")
    check("003:L549 each user lists only the jobs they instructed (alice and bob)",
          [j["jobId"] for j in bob.jobs("backup") or []] == [bob_job]
          and [j["jobId"] for j in alice.jobs("backup") or []] == [job_id] and bob.jobs("backup")[0]["uid"] == "bob",
          (bob.jobs("backup"), alice.jobs("backup")))
    bob.poll("backup", bob_job)
    check("003:L488 bob's backup is under bob's folder", os.path.isfile(f"{storage}/bob/dump1/{bob_job}/backup-{bob_job}.zip"),
          os.listdir(storage))
    return job


def refusals(alice, bob, storage, completed):
    """Every error of the seed's tables, exact texts where the seed gives them; nothing launched."""
    job_id = completed["jobId"]
    backups, restores = alice.jobs("backup"), alice.jobs("restore")
    status, body, is_json = alice.cancel("backup", job_id)
    check("003:L993-998 cancel of a COMPLETED job: 400 \"Can't cancel job. status=COMPLETED\"",
          status == 400 and is_json and body == {"errorMessage": "Can't cancel job. status=COMPLETED"}, (status, body))
    unknown = "20991231-000000-000000"
    status, body, _ = alice.cancel("backup", unknown)
    check("003:L987-992 cancel of an unknown job: 404 \"Specified job is not found. jobId:<id>\"",
          status == 404 and body == {"errorMessage": f"Specified job is not found. jobId:{unknown}"}, (status, body))
    status, body, _ = alice.status("backup", unknown)
    check("003:L912-917 status of an unknown job: 404 {errorMessage}", status == 404 and list(body) == ["errorMessage"],
          (status, body))
    for what, (status, body, _) in [("status of alice's job asked by bob", bob.status("backup", job_id)),
                                    ("cancel of alice's job asked by bob", bob.cancel("backup", job_id)),
                                    ("a backup job asked as a restore", alice.status("restore", job_id))]:
        check(f"003:L549, L912 {what}: 404 (another user's or type's job is not there)",
              status == 404 and list(body) == ["errorMessage"], (status, body))
    for what, (status, body, _) in [("list", alice.call("GET", "/api/br/list/dump")),
                                    ("status", alice.call("GET", f"/api/br/status/dump/{job_id}")),
                                    ("cancel", alice.call("POST", f"/api/br/cancel/Backup/{job_id}"))]:
        check(f"003:L693-696, L918-921, L999-1002 {what} with a type other than backup|restore: 400 {{errorMessage}}",
              status == 400 and list(body) == ["errorMessage"] and body["errorMessage"], (status, body))
    for path in [f"/api/br/status/backup/..%2F..%2F{job_id}", "/api/br/status/backup/a%2Fb", "/api/br/status/backup/..",
                 "/api/br/list/backup%2F..", f"/api/br/cancel/backup/{job_id}%2F..", "/api/br/status/backup%2Frestore/x"]:
        method = "POST" if "/cancel/" in path else "GET"
        status, body, is_json = alice.call(method, path)
        check(f"{method} {path}: a 4xx {{errorMessage}}, never a 5xx", 400 <= status < 500 and is_json
              and list(body) == ["errorMessage"], (status, body))
    # 003:L503-508: a directory path that is not the caller's: 400 {errorMessage}
    for body in [{"dirPath": "../bob"}, {"dirPath": "/tmp"}, {"dirPath": "a/../../x"}, {"dirPath": ""}, {"dirPath": "a//b"},
                 {"dirPath": {"path": "x"}}, {"dirPath": ["x"]}, {}, {"dirPath": "x", "extra": 1}]:
        status, answer, _ = alice.launch("backup", body)
        check(f"003:L503-508 backup {body}: 400 {{errorMessage}}", status == 400 and list(answer) == ["errorMessage"],
              (status, answer))
    for raw in [b"not json", b'["dump1"]', b"null"]:
        status, answer, _ = alice.call("POST", "/api/backup", raw=raw)
        check(f"a backup body {raw!r}: 400 {{errorMessage}}", status == 400 and list(answer) == ["errorMessage"],
              (status, answer))
    # 003:L540-543: no such backup file: 404 "Invalid path. path:<path>", before any job
    for path in ["dump1/missing.zip", f"../bob/dump1/{job_id}/backup-{job_id}.zip", "/etc/passwd", "dump1", "a/../../b.zip"]:
        status, answer, _ = alice.launch("restore", {"zipFilePath": path})
        check(f"003:L540-543 restore of {path}: 404 \"Invalid path. path:{path}\"",
              status == 404 and answer == {"errorMessage": f"Invalid path. path:{path}"}, (status, answer))
    status, answer, _ = bob.launch("restore", {"zipFilePath": completed["zipFilePath"]})
    check("003:L525 alice's zipFilePath is not in bob's folder: 404 Invalid path",
          status == 404 and answer.get("errorMessage", "").startswith("Invalid path. path:"), (status, answer))
    for body in [{"zipFilePath": 7}, {"zipFilePath": {"a": 1}}, {}]:
        status, answer, _ = alice.launch("restore", body)
        check(f"restore {body}: a 4xx {{errorMessage}}", 400 <= status < 500 and list(answer) == ["errorMessage"],
              (status, answer))
    status, answer, _ = Client(alice.server, None).call("GET", "/api/br/list/backup")
    check("003:L25-28 no access token: 401 {errorMessage}", status == 401 and list(answer) == ["errorMessage"], (status, answer))
    check("... none of those launched a job", alice.jobs("backup") == backups and alice.jobs("restore") == restores,
          (len(alice.jobs("backup")), len(alice.jobs("restore"))))
    check("... and nothing was written outside the users' folders", sorted(os.listdir(storage)) == ["alice", "bob"],
          os.listdir(storage))


def restore(alice, completed, storage):
    """003-C: a restore from the backup's zipFilePath; a corrupt zip fails."""
    status, accepted, _ = alice.launch("restore", {"zipFilePath": completed["zipFilePath"]})
    job_id = accepted.get("jobId") if isinstance(accepted, dict) else None
    check("003:L517-538 POST /api/restore {zipFilePath}: 200 {jobId, uid, type: restore}",
          status == 200 and list(accepted) == ["jobId", "uid", "type"] and accepted["uid"] == "alice"
          and accepted["type"] == "restore", (status, accepted))
    job, seen, outputs, problems = alice.poll("restore", job_id)
    check(f"003:L816-862 the restore job: RUNNING -> COMPLETED with the seed's fields (seen {' -> '.join(seen)})",
          seen[-1:] == ["COMPLETED"] and not problems and FINISH_LINE.match(str(job.get("output"))), (job, problems[:3]))
    check("003:L639, L861 zipFilePath is the path given, in every state", job.get("zipFilePath") == completed["zipFilePath"],
          job.get("zipFilePath"))
    check("003:L545, L640 the restore list holds it", [j["jobId"] for j in alice.jobs("restore") or []] == [job_id],
          alice.jobs("restore"))
    with open(f"{storage}/alice/dump1/corrupt.zip", "wb") as f:
        f.write(b"PK\x03\x04 not really a zip")
    status, accepted, _ = alice.launch("restore", {"zipFilePath": "dump1/corrupt.zip"})
    job, seen, _, problems = alice.poll("restore", accepted.get("jobId"))
    check("003:L864-886 a restore that fails: FAILED, progress 100, endTime, an errorMessage, zipFilePath as given",
          status == 200 and job.get("status") == "FAILED" and not problems and job.get("errorMessage")
          and job.get("zipFilePath") == "dump1/corrupt.zip", (job, problems[:3]))
    status, body, _ = alice.cancel("restore", accepted.get("jobId"))
    check("003:L993-998 cancel of a FAILED job: 400 \"Can't cancel job. status=FAILED\"",
          status == 400 and body == {"errorMessage": "Can't cancel job. status=FAILED"}, (status, body))
    newest_first = [j["startTime"] for j in alice.jobs("restore") or []]
    check("the list is newest first (C003-E03's reading)", newest_first == sorted(newest_first, reverse=True), newest_first)


def cancels(alice, storage, completed):
    """003-G: cancel answers CANCELED at once, for a running job and for one waiting its turn."""
    _, first, _ = alice.launch("backup", {"dirPath": "dump2"})
    _, second, _ = alice.launch("backup", {"dirPath": "dump3"})
    running, _, _, _ = alice.poll("backup", first.get("jobId"), until=("RUNNING",))
    _, waiting, _ = alice.status("backup", second.get("jobId"))
    check("003:L564 a job waiting for the database (queued behind another) is RUNNING, progress 0, no endTime",
          waiting.get("status") == "RUNNING" and waiting.get("progress") == 0 and waiting.get("endTime") is None, waiting)
    started = time.monotonic()
    status, job, is_json = alice.cancel("backup", first.get("jobId"))
    took = time.monotonic() - started
    check(f"003:L935-961 cancel of a running backup (at {running.get('progress')} %): 200, CANCELED in the answer"
          f" ({took:.1f}s)",
          status == 200 and is_json and job.get("status") == "CANCELED" and not job_problems(job, "backup"),
          (status, job, job_problems(job, "backup")))
    check("003:L940-960 the answer: uid the canceller, progress 100, endTime, errorMessage null, output the last progress "
          "line, destDir as given, zipFilePath null",
          job.get("uid") == "alice" and job.get("progress") == 100 and TIME.match(str(job.get("endTime")))
          and job.get("errorMessage") is None and PROGRESS_LINE.match(str(job.get("output")))
          and job.get("destDir") == "dump2" and job.get("zipFilePath") is None, job)
    _, shown, _ = alice.status("backup", first.get("jobId"))
    check("003:L790-814 status agrees: CANCELED", shown == job, shown)
    check("a cancelled backup leaves no zip", not os.path.exists(f"{storage}/alice/dump2/{first.get('jobId')}"),
          os.listdir(f"{storage}/alice"))
    status, body, _ = alice.cancel("backup", first.get("jobId"))
    check("003:L993-998 cancel of a CANCELED job: 400 \"Can't cancel job. status=CANCELED\"",
          status == 400 and body == {"errorMessage": "Can't cancel job. status=CANCELED"}, (status, body))
    status, job, _ = alice.cancel("backup", second.get("jobId"))
    check("003:L935-961 cancel of the job that was waiting its turn: 200 CANCELED",
          status == 200 and job.get("status") == "CANCELED" and not job_problems(job, "backup"), (status, job))
    _, accepted, _ = alice.launch("restore", {"zipFilePath": completed["zipFilePath"]})
    alice.poll("restore", accepted.get("jobId"), until=("RUNNING",))
    status, job, _ = alice.cancel("restore", accepted.get("jobId"))
    check("003:L963-985 cancel of a running restore: 200 CANCELED, zipFilePath the path given, no destDir",
          status == 200 and job.get("status") == "CANCELED" and not job_problems(job, "restore")
          and job.get("zipFilePath") == completed["zipFilePath"], (status, job, job_problems(job, "restore")))


def failures(alice, completed):
    """003:L764-788: a backup that fails."""
    status, accepted, _ = alice.launch("backup", {"dirPath": "dump4"})
    job, seen, _, problems = alice.poll("backup", accepted.get("jobId"))
    check("003:L764-788 a backup that fails: FAILED, progress 100, endTime, an errorMessage, zipFilePath null",
          status == 200 and job.get("status") == "FAILED" and not problems and job.get("errorMessage")
          and job.get("zipFilePath") is None and job.get("destDir") == "dump4", (job, problems[:3]))
    statuses = sorted({j["status"] for j in alice.jobs("backup") or []})
    check("003:L572-627 the list shows every state the seed's example has", statuses == ["CANCELED", "COMPLETED", "FAILED"],
          statuses)


if __name__ == "__main__":
    main()
