#!/usr/bin/env python3
"""extract_and_restore: unzips the backup, checks its integrity, copies it into a new
database file with the backup API (with progress) and swaps it in with an atomic rename."""
import os
import sqlite3
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DATABASE, throttle  # noqa: E402
from lib import die, inject_failure, output, progress, run_dir  # noqa: E402

inject_failure("restore failed")
zip_path = os.environ.get("STEP_CHECK_ZIP", "")
if not os.path.isfile(zip_path):
    die("no backup archive to restore")
with tempfile.TemporaryDirectory(dir=run_dir("belayer")) as scratch:
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        if names != ["snapshot.db"]:
            die(f"unexpected archive content {names}: not a backup made by the backup pipeline")
        archive.extractall(scratch)
    progress(10, "extracted")
    source = sqlite3.connect(os.path.join(scratch, "snapshot.db"))
    result = source.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        die(f"backup fails integrity_check: {result}")
    os.makedirs(os.path.dirname(DATABASE), exist_ok=True)
    staging = DATABASE + ".restoring"
    if os.path.exists(staging):
        os.remove(staging)
    target = sqlite3.connect(staging)

    def report(status, remaining, total):
        progress(10 + 85 * (total - remaining) // max(total, 1), f"{total - remaining}/{total} pages")
        throttle()

    source.backup(target, pages=64, progress=report)
    source.close()
    target.close()
    os.replace(staging, DATABASE)
progress(100, "restored")
db = sqlite3.connect(DATABASE)
orders = db.execute("SELECT count(*) FROM orders").fetchone()[0] if db.execute(
    "SELECT 1 FROM sqlite_master WHERE name = 'orders'").fetchone() else 0
db.close()
print(f"restored {DATABASE} ({orders} orders)")
output("orders", orders)
