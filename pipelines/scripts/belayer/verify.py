#!/usr/bin/env python3
"""verify: the archive must pass `unzip -t` and hold exactly snapshot.db, and the extracted
copy must pass PRAGMA integrity_check; then the snapshot is removed and the job's output
line is written (seed 003: `[yyyy-MM-ddTHH:mm:ss]finish:success`). Output: output."""
import os
import sqlite3
import subprocess
import sys
import tempfile
import zipfile

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Progress, confined, remove, stamp  # noqa: E402
from lib import die, inject_failure, output, run_dir  # noqa: E402

inject_failure("verification failed: archive is corrupt")
relative = os.environ.get("STEP_ARCHIVE_ZIP_FILE_PATH", "")
path = confined(relative, "path")
if not os.path.isfile(path):
    die(f"no archive at {relative}")
report = Progress()
report(0, 4)
test = subprocess.run(["unzip", "-tq", path], capture_output=True, text=True)
if test.returncode != 0:
    die(f"unzip -t {relative} failed: {(test.stdout + test.stderr).strip()}")
with zipfile.ZipFile(path) as archive:
    names = archive.namelist()
    if names != ["snapshot.db"]:
        die(f"unexpected archive content {names}")
    report(1, 4)
    with tempfile.TemporaryDirectory(dir=run_dir("belayer")) as scratch:
        archive.extract("snapshot.db", scratch)
        report(2, 4)
        db = sqlite3.connect(os.path.join(scratch, "snapshot.db"))
        try:
            result = [row[0] for row in db.execute("PRAGMA integrity_check")]
            tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            db.close()
if result != ["ok"]:
    die(f"integrity_check of the archived database: {'; '.join(result[:5])}")
remove(os.environ.get("STEP_SNAPSHOT_SNAPSHOT", "") or os.path.join(run_dir("belayer"), "snapshot.db"))
report(4, 4)
print(f"{relative}: unzip -t ok, integrity_check ok, {tables} tables")
output("output", f"[{stamp()}]finish:success")
