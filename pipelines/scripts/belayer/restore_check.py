#!/usr/bin/env python3
"""check: the zip to restore must exist inside the storage area. Anything else, a path
leaving it included, ends with seed 003's `Invalid path. path:<path>` on stderr and exit 4
(the pipeline maps it to INVALID_PATH). Output: zip (its absolute path)."""
import os
import sys

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import EXIT_INVALID_PATH, confined  # noqa: E402
from lib import die, inject_failure, output  # noqa: E402

relative = os.environ.get("PARAM_ZIP_FILE_PATH", "")
path = confined(relative, "path")
if not os.path.isfile(path) or not relative.endswith(".zip"):
    die(f"Invalid path. path:{relative}", EXIT_INVALID_PATH)
inject_failure("check failed")
print(f"restoring from {relative} ({os.path.getsize(path)} bytes)")
output("zip", path)
