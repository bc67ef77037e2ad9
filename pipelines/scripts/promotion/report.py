#!/usr/bin/env python3
"""report: the promotion's targets with their status, release and error_message (Heroku's
GET /pipeline-promotions/:id/promotion-targets), from the target records and the apps
themselves: a target counts as succeeded only if it now runs a release of this promotion.
Marks the promotion completed. Outputs: summary (`app=status,...`), succeeded, failed,
targets (the records as one line of JSON)."""
import json
import os
import sys

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import DEMO_ROOT, inject_failure, output  # noqa: E402

inject_failure("cannot read the promotion records")

APPS_ROOT = os.environ.get("APPS_ROOT", os.path.join(DEMO_ROOT, "promotion", "apps"))
PROMOTIONS_ROOT = os.environ.get("PROMOTIONS_ROOT", os.path.join(DEMO_ROOT, "promotion", "promotions"))
run = os.environ.get("RUNNER_RUN_ID", "manual")
records_dir = os.path.join(PROMOTIONS_ROOT, run)
targets = [t for t in os.environ.get("PARAM_TARGETS", "").split("\n") if t]


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


results = []
for target in targets:  # each as the request named it: an app id or name
    record = load(os.path.join(records_dir, f"{target}.json")) if "/" not in target else None
    record = record or {"app": target, "status": "failed", "release": None, "error_message": "the promotion did not reach this target"}
    app = str(record.get("app") or target)
    if record.get("status") == "succeeded" and "/" not in app:
        running = load(os.path.join(APPS_ROOT, app, "current", "release.json")) or {}
        if running.get("promotion") != run:
            record = dict(record, status="failed", error_message=f"{app} no longer runs {record.get('release')}")
    results.append({k: record.get(k) for k in ("app", "status", "release", "error_message")})
    print(f"{target}: {record['status']}" + (f" ({record.get('release')})" if record.get("release") else "")
          + (f": {record['error_message']}" if record.get("error_message") else ""))

promotion_path = os.path.join(records_dir, "promotion.json")
promotion = load(promotion_path)
if promotion is not None:
    promotion.update(status="completed", targets=results)
    with open(promotion_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(promotion, f, ensure_ascii=False, indent=1)
    os.replace(promotion_path + ".tmp", promotion_path)

output("summary", ",".join(f"{r['app']}={r['status']}" for r in results))
output("succeeded", sum(r["status"] == "succeeded" for r in results))
output("failed", sum(r["status"] != "succeeded" for r in results))
output("targets", json.dumps(results, ensure_ascii=False))
