#!/usr/bin/env python3
"""fetch[ITEM]: the upstream client of seed 002. Pages through the upstream API for one
target type (ITEM: official or appearance), validates every response against the contract
and keeps the items published at or after the window's start (plan_window's `since`, i.e.
from_published_at normalised to UTC). The kept items go to the run's scratch directory as
fetched-<type>.jsonl for `load`.

The upstream is local: pipelines/fixtures/upstream/<type>.jsonl served page by page as JSON
text, as an HTTP API would. Its failures follow seed 002's table; the exit codes are what the
pipeline's error classes match:
  75 UPSTREAM_RATE_LIMIT (429, retried with backoff)   76 UPSTREAM_QUOTA_LIMIT (429 daily quota)
  77 UPSTREAM_TIMEOUT (timeout/5xx, retried)           78 UPSTREAM_INVALID_RESPONSE (contract)
Knobs: UPSTREAM_FAIL=rate_limit|quota|timeout|invalid, UPSTREAM_FAIL_TIMES=N (fail only
attempts 1..N, so a retry then succeeds; default: every attempt), UPSTREAM_FAIL_TARGET=
official|appearance (fail only that instance), UPSTREAM_DELAY_MS (latency per page, e.g. to
hit the step timeout), UPSTREAM_PAGE_SIZE (default 10)."""
import datetime
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import attempt, die, inject_failure, output, progress, run_dir  # noqa: E402

EXIT = {"rate_limit": 75, "quota": 76, "timeout": 77, "invalid": 78}
STATUS = {
    "rate_limit": "HTTP 429 Too Many Requests: rateLimitExceeded (retry after backoff)",
    "quota": "HTTP 429 Too Many Requests: quotaExceeded, the daily quota is exhausted until 00:00 UTC",
    "timeout": "upstream timed out after 30s (HTTP 504 Gateway Timeout)",
}
ITEM_FIELDS = {"video_id": str, "channel_id": str, "published_at": str, "title": str, "records": list}
RECORD_FIELDS = {"meta_type": str, "message_text": str, "published_at": str}


class UpstreamError(Exception):
    def __init__(self, mode, message):
        super().__init__(message)
        self.mode = mode


def env_int(name, default):
    text = os.environ.get(name, "")
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        die(f"{name} must be a whole number, not '{text}'", 2)


def parse_time(text, where):
    try:
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise UpstreamError("invalid", f"{where}: published_at '{text}' is not an ISO 8601 time")
    if value.tzinfo is None:
        raise UpstreamError("invalid", f"{where}: published_at '{text}' has no time zone")
    return value


class Upstream:
    """The upstream API over the fixture: GET /videos?type=&pageToken= -> JSON text."""

    def __init__(self, target):
        self.target = target
        path = os.path.join("fixtures", "upstream", f"{target}.jsonl")
        if not os.path.isfile(path):
            die(f"no upstream data for target type '{target}' ({path})")
        with open(path, encoding="utf-8") as f:
            self.items = [json.loads(line) for line in f if line.strip()]
        self.page_size = max(1, env_int("UPSTREAM_PAGE_SIZE", 10))
        self.delay = env_int("UPSTREAM_DELAY_MS", 0) / 1000
        self.failure = self.injected_failure()

    def injected_failure(self):
        mode = os.environ.get("UPSTREAM_FAIL", "")
        if not mode:
            return None
        if mode not in EXIT:
            die(f"UPSTREAM_FAIL must be one of {', '.join(EXIT)}, not '{mode}'", 2)
        only = os.environ.get("UPSTREAM_FAIL_TARGET", "")
        if only and only != self.target:
            return None
        times = env_int("UPSTREAM_FAIL_TIMES", 0)
        if times and attempt() > times:
            return None
        return mode

    def get(self, page_token):
        if self.delay:
            time.sleep(self.delay)
        start = int(page_token or 0)
        end = start + self.page_size
        # quota and timeouts fail the first request; the rate limit and the broken contract
        # hit mid-stream (the second page, or the first when there is only one)
        mid_stream = start > 0 or end >= len(self.items)
        if self.failure in ("quota", "timeout") or (self.failure == "rate_limit" and mid_stream):
            raise UpstreamError(self.failure, STATUS[self.failure])
        page = [dict(item) for item in self.items[start:end]]
        if self.failure == "invalid" and mid_stream and page:
            del page[0]["video_id"]
        body = {"kind": "videoList", "items": page, "pageInfo": {"totalResults": len(self.items)},
                "nextPageToken": str(end) if end < len(self.items) else None}
        return json.dumps(body, ensure_ascii=False)


def check_page(text):
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise UpstreamError("invalid", f"response is not JSON: {error}")
    if not isinstance(body, dict) or body.get("kind") != "videoList" or not isinstance(body.get("items"), list):
        raise UpstreamError("invalid", "response is not a videoList")
    token = body.get("nextPageToken")
    if token is not None and not (isinstance(token, str) and token.isdigit()):
        raise UpstreamError("invalid", f"nextPageToken {token!r} is not a page token")
    return body


def check_item(item, target):
    where = f"item {item.get('video_id', '?')}"
    for key, kind in ITEM_FIELDS.items():
        if not isinstance(item.get(key), kind):
            raise UpstreamError("invalid", f"{where}: '{key}' is missing or not a {kind.__name__}")
    if item.get("target_type", target) != target:
        raise UpstreamError("invalid", f"{where}: target_type {item.get('target_type')} in a {target} response")
    published = parse_time(item["published_at"], where)
    for n, record in enumerate(item["records"]):
        if not isinstance(record, dict) or any(not isinstance(record.get(k), t) for k, t in RECORD_FIELDS.items()):
            raise UpstreamError("invalid", f"{where}: record {n} lacks meta_type, message_text or published_at")
        parse_time(record["published_at"], f"{where} record {n}")
    return published


def main():
    inject_failure("fetch failed")
    target = os.environ.get("ITEM", "")
    if target not in ("official", "appearance"):
        die(f"unknown target type '{target}'")
    since_text = os.environ.get("STEP_PLAN_WINDOW_SINCE", "")
    since = parse_time(since_text, "window") if since_text else None
    print(f"fetching {target} since {since_text or 'the beginning'} (attempt {attempt()}, "
          f"trigger {os.environ.get('PARAM_TRIGGER_MODE', '?')}, kind {os.environ.get('PARAM_RUN_KIND', '?')})")
    upstream = Upstream(target)
    kept, seen, pages, token = [], 0, 0, None
    try:
        while True:
            body = check_page(upstream.get(token))
            pages += 1
            for item in body["items"]:
                published = check_item(item, target)
                seen += 1
                if since is None or published >= since:
                    kept.append(item)
            total = body["pageInfo"].get("totalResults") or seen
            progress(100 * seen // max(total, 1), f"page {pages}: {seen}/{total} items")
            token = body["nextPageToken"]
            if token is None:
                break
    except UpstreamError as error:
        kind = "upstream response violates the contract" if error.mode == "invalid" else "upstream request failed"
        die(f"{kind}: {error} (target {target}, page {pages + 1})", EXIT[error.mode])
    path = os.path.join(run_dir("ingestion"), f"fetched-{target}.jsonl")
    with open(path + ".partial", "w", encoding="utf-8") as f:
        for item in kept:
            item["target_type"] = target
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    os.replace(path + ".partial", path)
    print(f"{target}: {len(kept)} of {seen} items in the window, {pages} pages")
    output("fetched", len(kept))


if __name__ == "__main__":
    main()
