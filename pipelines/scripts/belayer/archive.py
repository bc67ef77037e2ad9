#!/usr/bin/env python3
"""archive: compresses the snapshot into <storage>/<dirPath>/<job>/backup-<job>.zip (the job
is the run id; seed 003's STORAGE_DIR/[dirPath]/[jobId]), streaming it in 1 MiB chunks with
progress. The zip is written under a temporary name and renamed when complete; a cancel
removes it. Outputs: zipFilePath (relative to the storage area), destDir (the dirPath)."""
import os
import sys
import zipfile

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Progress, confined, job_id, remove  # noqa: E402
from lib import die, exit_on_sigterm, inject_failure, output  # noqa: E402

CHUNK = 1 << 20

exit_on_sigterm()
dir_path = os.environ.get("PARAM_DIR_PATH", "")
confined(dir_path, "path")  # before anything else: a bad dirPath is refused even if the runner let it through
inject_failure("archive failed: no space left on device")
snapshot = os.environ.get("STEP_SNAPSHOT_SNAPSHOT", "")
if not os.path.isfile(snapshot):
    die("no snapshot to archive: snapshot must run first")
job = job_id()
relative = f"{dir_path}/{job}/backup-{job}.zip"
dest = confined(relative, "path")
os.makedirs(os.path.dirname(dest), exist_ok=True)
partial = dest + ".partial"
size = os.path.getsize(snapshot)
report = Progress()
report(0, size)
try:
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive, \
            open(snapshot, "rb") as source, archive.open("snapshot.db", "w", force_zip64=True) as member:
        done = 0
        while chunk := source.read(CHUNK):
            member.write(chunk)
            done += len(chunk)
            report(done, size)
    os.replace(partial, dest)
except BaseException:
    remove(partial)
    raise
report(size, size)
print(f"archived {size} bytes into {relative} ({os.path.getsize(dest)} bytes)")
output("zipFilePath", relative)
output("destDir", dir_path)
