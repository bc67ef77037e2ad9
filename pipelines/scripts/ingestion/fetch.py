#!/usr/bin/env python3
"""fetch[ITEM]: pages through the upstream API for one target type (official or appearance)
and keeps records published at or after the window's start. The upstream is a local fixture
(pipelines/fixtures/upstream/<type>.jsonl); its failures follow seed 002's table and are
injected with UPSTREAM_FAIL=rate_limit|quota|timeout|invalid, limited to the first
UPSTREAM_FAIL_TIMES attempts and to UPSTREAM_FAIL_TARGET when set. Exit codes: 75 rate
limit, 76 daily quota, 77 timeout/5xx, 78 invalid response (the pipeline's error classes)."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import die, inject_failure, output, progress, run_dir  # noqa: E402

EXIT = {"rate_limit": 75, "quota": 76, "timeout": 77, "invalid": 78}
MESSAGE = {
    "rate_limit": "upstream answered 429 Too Many Requests (rate limit, retry after backoff)",
    "quota": "upstream answered 429 quotaExceeded: the daily quota is exhausted until 00:00 UTC",
    "timeout": "upstream did not answer within 30s (HTTP 504 Gateway Timeout)",
}
REQUIRED = {"video_id": str, "channel_id": str, "published_at": str, "title": str, "records": list}
PAGE_SIZE = 10


class ContractError(Exception):
    pass


def injected_failure(target):
    mode = os.environ.get("UPSTREAM_FAIL", "")
    if not mode:
        return None
    if mode not in EXIT:
        die(f"UPSTREAM_FAIL must be one of {', '.join(EXIT)}, not '{mode}'", 2)
    only = os.environ.get("UPSTREAM_FAIL_TARGET", "")
    if only and only != target:
        return None
    times = os.environ.get("UPSTREAM_FAIL_TIMES", "")
    attempt = int(os.environ.get("RUNNER_ATTEMPT", "1"))
    if times and attempt > int(times):
        return None
    return mode


def upstream_pages(target, corrupt):
    """The upstream API: pages of up to PAGE_SIZE items, as parsed JSON responses."""
    path = os.path.join("fixtures", "upstream", f"{target}.jsonl")
    if not os.path.isfile(path):
        die(f"no upstream data for target type '{target}' ({path})")
    with open(path, encoding="utf-8") as f:
        items = [json.loads(line) for line in f if line.strip()]
    for start in range(0, len(items), PAGE_SIZE):
        page = [dict(item) for item in items[start:start + PAGE_SIZE]]
        if corrupt and start == PAGE_SIZE:
            del page[0]["video_id"]  # the upstream breaks its contract mid-stream
        delay = int(os.environ.get("UPSTREAM_DELAY_MS", "0"))
        if delay:
            time.sleep(delay / 1000)
        yield {"items": page, "next": start + PAGE_SIZE < len(items), "total": len(items)}


def validate(item, target):
    for key, kind in REQUIRED.items():
        if not isinstance(item.get(key), kind):
            raise ContractError(f"item {item.get('video_id', '?')}: '{key}' is missing or not a {kind.__name__}")
    if item.get("target_type", target) != target:
        raise ContractError(f"item {item['video_id']}: target_type {item.get('target_type')} in a {target} response")
    for record in item["records"]:
        if not {"meta_type", "message_text", "published_at"} <= record.keys():
            raise ContractError(f"item {item['video_id']}: a record lacks meta_type, message_text or published_at")


def main():
    inject_failure("fetch failed")
    target = os.environ.get("ITEM", "")
    if target not in ("official", "appearance"):
        die(f"unknown target type '{target}'")
    since = os.environ.get("STEP_PLAN_WINDOW_SINCE", "")
    mode = injected_failure(target)
    if mode in ("rate_limit", "quota", "timeout"):
        die(MESSAGE[mode], EXIT[mode])
    print(f"fetching {target} since {since or 'the beginning'} "
          f"(trigger {os.environ.get('PARAM_TRIGGER_MODE', '?')}, kind {os.environ.get('PARAM_RUN_KIND', '?')})")
    kept, seen = [], 0
    try:
        for page in upstream_pages(target, corrupt=mode == "invalid"):
            for item in page["items"]:
                validate(item, target)
                seen += 1
                if not since or item["published_at"] >= since:
                    kept.append(item)
            progress(100 * seen // page["total"], f"{seen}/{page['total']} items")
    except ContractError as error:
        die(f"upstream response violates the contract: {error}", EXIT["invalid"])
    path = os.path.join(run_dir("ingestion"), f"fetched-{target}.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for item in kept:
            item["target_type"] = target
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{target}: {len(kept)} of {seen} items in the window")
    output("fetched", len(kept))


if __name__ == "__main__":
    main()
