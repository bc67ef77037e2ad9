"""Paths of the Belayer-like job scripts: the database being backed up and the storage area
where backups live, confined to STORAGE_ROOT."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import DEMO_ROOT, die  # noqa: E402

DATABASE = os.environ.get("BELAYER_DATABASE", os.path.join(DEMO_ROOT, "belayer", "app.db"))
STORAGE_ROOT = os.environ.get("BELAYER_STORAGE_ROOT", os.path.join(DEMO_ROOT, "belayer", "storage"))
SAFE = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


def confined(relative, name):
    """STORAGE_ROOT/relative, refusing absolute paths, '..' and odd characters (seed 003:
    paths are relative to the user's storage area)."""
    if not relative or not SAFE.match(relative) or any(part in (".", "..") for part in relative.split("/")):
        die(f"Invalid path. {name}:{relative}", 4)
    path = os.path.normpath(os.path.join(STORAGE_ROOT, relative))
    if not path.startswith(os.path.normpath(STORAGE_ROOT) + os.sep):
        die(f"Invalid path. {name}:{relative}", 4)
    return path


def throttle():
    """BACKUP_THROTTLE_MS slows each page batch down, so tests can watch progress and cancel;
    the work done is the same real backup."""
    import time
    delay = int(os.environ.get("BACKUP_THROTTLE_MS", "0"))
    if delay:
        time.sleep(delay / 1000)
