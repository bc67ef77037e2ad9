#!/usr/bin/env python3
"""summary: the run's report: what was fetched per target type (a type whose fetch failed
is listed in failed_targets: the run ends `partial`), what load inserted and updated. It is
written to $DEMO_ROOT/ingestion/reports/<run id>.json and given as outputs."""
import glob
import json
import os
import sys

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import DEMO_ROOT, inject_failure, output, run_dir  # noqa: E402

inject_failure("cannot write the run report")
requested = [t for t in os.environ.get("PARAM_TARGET_TYPES", "").split("\n") if t]
fetched = {}
for path in sorted(glob.glob(os.path.join(run_dir("ingestion"), "fetched-*.jsonl"))):
    with open(path, encoding="utf-8") as f:
        fetched[os.path.basename(path)[len("fetched-"):-len(".jsonl")]] = sum(1 for line in f if line.strip())
failed = [t for t in requested if t not in fetched]
report = {
    "run_id": os.environ.get("RUNNER_RUN_ID", "manual"),
    "trigger_mode": os.environ.get("PARAM_TRIGGER_MODE"),
    "run_kind": os.environ.get("PARAM_RUN_KIND"),
    "target_types": requested,
    "from_published_at": os.environ.get("PARAM_FROM_PUBLISHED_AT"),
    "trace_id": os.environ.get("PARAM_TRACE_ID"),
    "dry_run": os.environ.get("PARAM_DRY_RUN") == "true",
    "fetched": fetched,
    "failed_targets": failed,
    "inserted": int(os.environ.get("STEP_LOAD_INSERTED") or 0),
    "updated": int(os.environ.get("STEP_LOAD_UPDATED") or 0),
    "matched_videos": int(os.environ.get("STEP_SUPPLEMENT_MATCHED") or 0),
}
reports = os.path.join(DEMO_ROOT, "ingestion", "reports")
os.makedirs(reports, exist_ok=True)
with open(os.path.join(reports, f"{report['run_id']}.json"), "w", encoding="utf-8") as f:
    json.dump(report, f, ensure_ascii=False, indent=1)
print(json.dumps(report, ensure_ascii=False))
output("fetched", sum(fetched.values()))
output("inserted", report["inserted"])
output("updated", report["updated"])
output("targets_fetched", ",".join(sorted(fetched)))
output("failed_targets", ",".join(failed))
