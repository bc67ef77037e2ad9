#!/usr/bin/env python3
"""restore: unzips the backup into a temporary directory, tests it (`unzip -t`, exactly
snapshot.db, PRAGMA integrity_check), copies it with SQLite's backup API into a new file
next to the database (progress per page batch, BACKUP_THROTTLE_MS applies) and renames that
file over the database: readers see the old database or the restored one, never a mix. A
cancel (SIGTERM) removes the new file and leaves the database as it was.
Outputs: zipFilePath, orders (rows of the restored orders table), output."""
import os
import sqlite3
import subprocess
import sys
import tempfile
import zipfile

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DATABASE, STORAGE_ROOT, Progress, remove, stamp, throttle  # noqa: E402
from lib import die, exit_on_sigterm, inject_failure, output, run_dir  # noqa: E402

exit_on_sigterm()
inject_failure("restore failed: the database is in use")
zip_path = os.environ.get("STEP_CHECK_ZIP", "")
if not os.path.isfile(zip_path):
    die("no backup archive to restore: check must run first")
report = Progress()
report(0, 1)
test = subprocess.run(["unzip", "-tq", zip_path], capture_output=True, text=True)
if test.returncode != 0:
    die(f"the backup archive is corrupt: {(test.stdout + test.stderr).strip()}")
staging = DATABASE + f".restoring-{os.getpid()}"
try:
    with tempfile.TemporaryDirectory(dir=run_dir("belayer")) as scratch:
        with zipfile.ZipFile(zip_path) as archive:
            names = archive.namelist()
            if names != ["snapshot.db"]:
                die(f"unexpected archive content {names}: not a backup made by the backup pipeline")
            archive.extract("snapshot.db", scratch)
        report(5, 100)
        source = sqlite3.connect(os.path.join(scratch, "snapshot.db"))
        try:
            result = [row[0] for row in source.execute("PRAGMA integrity_check")]
            if result != ["ok"]:
                die(f"the backup fails integrity_check: {'; '.join(result[:5])}")
            report(10, 100)
            os.makedirs(os.path.dirname(os.path.abspath(DATABASE)), exist_ok=True)
            target = sqlite3.connect(staging)
            copy = Progress(10, 95)
            try:
                def batch(status, remaining, total):
                    copy(total - remaining, total)
                    throttle()
                source.backup(target, pages=int(os.environ.get("BACKUP_PAGES", "64") or 64), progress=batch)
            finally:
                target.close()
        finally:
            source.close()
    os.replace(staging, DATABASE)
except BaseException:
    remove(staging)
    raise
db = sqlite3.connect(DATABASE)
try:
    has_orders = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'orders'").fetchone()
    orders = db.execute("SELECT count(*) FROM orders").fetchone()[0] if has_orders else 0
finally:
    db.close()
report(1, 1)
relative = os.path.relpath(zip_path, os.path.realpath(STORAGE_ROOT))
print(f"restored {DATABASE} from {relative} ({orders} orders)")
output("zipFilePath", relative)
output("orders", orders)
output("output", f"[{stamp()}]finish:success")
