#!/usr/bin/env python3
"""plan_window: the collection window starts at from_published_at (already checked and
normalised to UTC by the runner) or, without it, at the beginning of the upstream data."""
import os
import sys

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import inject_failure, output  # noqa: E402

inject_failure("cannot plan the collection window")
since = os.environ.get("PARAM_FROM_PUBLISHED_AT", "")
targets = os.environ.get("PARAM_TARGET_TYPES", "").split("\n")
print(f"window: since {since or 'the beginning'}; targets {', '.join(targets)}; dry run {os.environ.get('PARAM_DRY_RUN')}")
output("since", since)
output("targets", len([t for t in targets if t]))
