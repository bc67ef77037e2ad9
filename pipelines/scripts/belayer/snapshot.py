#!/usr/bin/env python3
"""snapshot: an online, consistent copy of the database with SQLite's backup API
(Connection.backup, BACKUP_PAGES pages per batch, default 64), reporting the real share of
pages copied as progress. A cancel (SIGTERM) removes the partial copy.
Output: snapshot (the copy's path, in the run's scratch directory)."""
import os
import sqlite3
import sys

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DATABASE, Progress, remove, throttle  # noqa: E402
from lib import die, exit_on_sigterm, inject_failure, output, run_dir  # noqa: E402

exit_on_sigterm()
inject_failure("backup failed: database is locked")
if not os.path.isfile(DATABASE):
    die(f"no database at {DATABASE}")
pages = int(os.environ.get("BACKUP_PAGES", "64") or 64)
target = os.path.join(run_dir("belayer"), "snapshot.db")
partial = target + ".partial"
remove(partial)
report = Progress()
report(0, 1)
source = sqlite3.connect(DATABASE)
copy = sqlite3.connect(partial)
try:
    def batch(status, remaining, total):
        report(total - remaining, total)
        throttle()

    source.backup(copy, pages=max(1, pages), progress=batch)
    copy.close()
    os.replace(partial, target)
except BaseException:
    copy.close()
    remove(partial)
    raise
finally:
    source.close()
report(1, 1)
print(f"snapshot of {DATABASE}: {os.path.getsize(target)} bytes")
output("snapshot", os.path.abspath(target))
