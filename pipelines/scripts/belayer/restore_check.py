#!/usr/bin/env python3
"""check: the zip to restore must exist inside the storage area (seed 003: 404
'Invalid path. path:<path>' otherwise; here exit 4)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import confined  # noqa: E402
from lib import die, inject_failure, output  # noqa: E402

inject_failure("check failed")
relative = os.environ.get("PARAM_ZIP_FILE_PATH", "")
path = confined(relative, "path")
if not os.path.isfile(path):
    die(f"Invalid path. path:{relative}", 4)
print(f"restoring from {relative} ({os.path.getsize(path)} bytes)")
output("zip", os.path.abspath(path))
