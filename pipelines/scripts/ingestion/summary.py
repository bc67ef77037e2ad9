#!/usr/bin/env python3
"""summary: writes the run's report (what was fetched per target type) next to the database."""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import DEMO_ROOT, output, run_dir  # noqa: E402

fetched = {}
for path in sorted(glob.glob(os.path.join(run_dir("ingestion"), "fetched-*.jsonl"))):
    with open(path, encoding="utf-8") as f:
        fetched[os.path.basename(path)[len("fetched-"):-len(".jsonl")]] = sum(1 for line in f if line.strip())
report = {
    "run_id": os.environ.get("RUNNER_RUN_ID", "manual"),
    "trigger_mode": os.environ.get("PARAM_TRIGGER_MODE"),
    "run_kind": os.environ.get("PARAM_RUN_KIND"),
    "dry_run": os.environ.get("PARAM_DRY_RUN") == "true",
    "fetched": fetched,
    "inserted": int(os.environ.get("STEP_LOAD_INSERTED") or 0),
    "updated": int(os.environ.get("STEP_LOAD_UPDATED") or 0),
}
reports = os.path.join(DEMO_ROOT, "ingestion", "reports")
os.makedirs(reports, exist_ok=True)
with open(os.path.join(reports, f"{report['run_id']}.json"), "w", encoding="utf-8") as f:
    json.dump(report, f, ensure_ascii=False, indent=1)
print(json.dumps(report, ensure_ascii=False))
output("fetched", sum(fetched.values()))
output("targets_fetched", ",".join(sorted(fetched)))
