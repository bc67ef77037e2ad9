#!/usr/bin/env python3
"""snapshot: an online, consistent copy of the database with SQLite's backup API, page
batch by page batch, reporting real progress."""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DATABASE, throttle  # noqa: E402
from lib import die, inject_failure, output, progress, run_dir  # noqa: E402

inject_failure("backup failed: database is locked")
if not os.path.exists(DATABASE):
    die(f"no database at {DATABASE}")
target = os.path.join(run_dir("belayer"), "snapshot.db")
if os.path.exists(target):
    os.remove(target)
source = sqlite3.connect(DATABASE)
copy = sqlite3.connect(target)


def report(status, remaining, total):
    done = total - remaining
    progress(90 * done // max(total, 1), f"{done}/{total} pages")
    throttle()


source.backup(copy, pages=64, progress=report)
source.close()
copy.close()
progress(90, "snapshot complete")
print(f"snapshot {target}: {os.path.getsize(target)} bytes")
output("snapshot", os.path.abspath(target))
