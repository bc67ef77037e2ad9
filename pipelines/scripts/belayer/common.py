"""Shared by the Belayer-like job scripts (seed 003): the database being backed up, the
storage area backups live in (every user-given path is confined to it), and the job's
progress and output lines in the seed's format."""
import datetime
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import DEMO_ROOT, die, progress  # noqa: E402

DATABASE = os.environ.get("BELAYER_DATABASE", os.path.join(DEMO_ROOT, "belayer", "app.db"))
# seed 003: STORAGE_DIR/[uid]/...: the caller's own folder (the pipelines' path params are
# confined to the same root, "${DEMO_ROOT}/belayer/storage/{actor}", before a job starts)
STORAGE_ROOT = os.path.join(DEMO_ROOT, "belayer", "storage", os.environ.get("RUNNER_ACTOR", ""))
SAFE = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
EXIT_INVALID_PATH = 4


def confined(relative, name="path"):
    """STORAGE_ROOT/relative, refusing empty and absolute paths, '.' and '..' segments and any
    character outside [A-Za-z0-9._-/] with seed 003's `Invalid path. path:<path>` (exit 4)."""
    if not relative or not SAFE.match(relative) or any(part in (".", "..") for part in relative.split("/")):
        die(f"Invalid path. {name}:{relative}", EXIT_INVALID_PATH)
    root = os.path.realpath(STORAGE_ROOT)
    path = os.path.realpath(os.path.join(root, relative))
    if not path.startswith(root + os.sep):  # a symlink inside the storage area pointing out
        die(f"Invalid path. {name}:{relative}", EXIT_INVALID_PATH)
    return path


def job_id():
    run = os.environ.get("RUNNER_RUN_ID", "manual")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", run) or run in (".", ".."):
        die(f"unexpected run id '{run}'")
    return run


def stamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


class Progress:
    """Writes `NN [time]progress:NN.NN%` lines (seed 003's output while running), only when
    the whole percentage changes, mapped into [low, high] of the step."""

    def __init__(self, low=0, high=100):
        self.low, self.high, self.last = low, high, None

    def __call__(self, done, total, note=""):
        fraction = done / total if total else 1.0
        value = self.low + (self.high - self.low) * fraction
        if int(value) != self.last:
            self.last = int(value)
            progress(int(value), f"[{stamp()}]progress:{value:.2f}%{(' ' + note) if note else ''}")


def throttle():
    """BACKUP_THROTTLE_MS slows each page batch down, so tests can watch progress and cancel;
    the work done is the same real backup."""
    text = os.environ.get("BACKUP_THROTTLE_MS", "0") or "0"
    try:
        delay = int(text)
    except ValueError:
        die(f"BACKUP_THROTTLE_MS must be a whole number of milliseconds, not '{text}'", 2)
    if delay > 0:
        time.sleep(delay / 1000)


def remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
