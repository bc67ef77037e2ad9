#!/usr/bin/env python3
"""verify: the archive must unzip cleanly and hold a database that passes
PRAGMA integrity_check; then the job's output line is written."""
import datetime
import os
import sqlite3
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import STORAGE_ROOT, confined  # noqa: E402
from lib import die, inject_failure, output, progress, run_dir  # noqa: E402

inject_failure("verification failed: archive is corrupt")
relative = os.environ.get("STEP_ARCHIVE_ZIP_FILE_PATH", "")
path = confined(relative, "zipFilePath")
with zipfile.ZipFile(path) as archive:
    bad = archive.testzip()
    if bad:
        die(f"archive member {bad} is corrupt")
    with tempfile.TemporaryDirectory(dir=run_dir("belayer")) as scratch:
        archive.extractall(scratch)
        db = sqlite3.connect(os.path.join(scratch, "snapshot.db"))
        result = db.execute("PRAGMA integrity_check").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        db.close()
if result != "ok":
    die(f"integrity_check: {result}")
os.remove(os.path.join(run_dir("belayer"), "snapshot.db"))
progress(100, "verified")
stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
print(f"{relative}: integrity ok, {tables} tables")
output("output", f"[{stamp}]finish:success")
