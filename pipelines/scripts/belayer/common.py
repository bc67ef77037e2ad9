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
EXIT_INVALID_PATH = 4


def confined(relative, name="path"):
    """STORAGE_ROOT/relative, refusing what the runner's `path` params refuse before a job
    starts — an empty or absolute path, a NUL, a '.', '..' or empty segment, a path leading
    out of the storage area (symlinks followed) — with seed 003's `Invalid path. path:<path>`
    (exit 4)."""
    parts = relative.split("/")
    if not relative or relative.startswith("/") or "\0" in relative or any(p in ("", ".", "..") for p in parts):
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


def job_share():
    """JOB_PROGRESS "LOW HIGH": the part of the job's progress this step is (the pipeline's
    `progress.weights` say the same), default the whole."""
    text = os.environ.get("JOB_PROGRESS", "") or "0 100"
    try:
        low, high = (float(n) for n in text.split())
    except ValueError:
        die(f"JOB_PROGRESS must be two percentages 'LOW HIGH', not '{text}'", 2)
    return low, high


class Progress:
    """Writes `NN [time]progress:NN.NN%` lines when the step's whole percentage changes: NN
    the step's own, mapped into [low, high]; the line (seed 003's output while running,
    exactly that) the job's percentage, the step being its JOB_PROGRESS share."""

    def __init__(self, low=0, high=100):
        self.low, self.high, self.last = low, high, None
        self.job = job_share()

    def __call__(self, done, total):
        fraction = done / total if total else 1.0
        value = self.low + (self.high - self.low) * fraction
        if int(value) != self.last:
            self.last = int(value)
            job = self.job[0] + (self.job[1] - self.job[0]) * value / 100
            progress(int(value), f"[{stamp()}]progress:{job:.2f}%")


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
