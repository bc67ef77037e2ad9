#!/usr/bin/env python3
"""invalidation: the local "CDN" keeps copies of served files in cdn-cache/. Invalidation
drops entries whose content differs from the live release and primes the cache from it, then
records an invalidation id. INJECT_FAIL=invalidation makes the CDN API refuse."""
import hashlib
import json
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import DEMO_ROOT, die, inject_failure, output, progress  # noqa: E402


def main():
    inject_failure("CDN invalidation API returned 503 Service Unavailable")
    root = os.environ.get("PUBLISH_ROOT", os.path.join(DEMO_ROOT, "docs-publish", "site"))
    current = os.path.join(root, "current")
    manifest_path = os.path.join(current, "manifest.json")
    if not os.path.isfile(manifest_path):
        die(f"no live release at {current}")
    with open(manifest_path, encoding="utf-8") as f:
        files = json.load(f)["files"]
    cache = os.path.join(root, "cdn-cache")
    os.makedirs(cache, exist_ok=True)
    stale = 0
    for base, _, names in os.walk(cache):
        for name in names:
            path = os.path.join(base, name)
            rel = os.path.relpath(path, cache)
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            if files.get(rel) != digest:
                os.remove(path)
                stale += 1
    for index, rel in enumerate(sorted(files), 1):
        target = os.path.join(cache, rel)
        if not os.path.exists(target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(os.path.join(current, rel), target)
        progress(100 * index // len(files))
    invalidation = f"I{int(time.time() * 1000):x}"
    with open(os.path.join(root, "invalidations"), "a", encoding="utf-8") as f:
        f.write(f"{invalidation} {os.environ.get('RUNNER_RUN_ID', 'manual')} {stale} {os.path.basename(os.path.realpath(current))}\n")
    print(f"invalidation {invalidation}: {stale} stale entries dropped, {len(files)} files primed")
    output("invalidation_id", invalidation)
    output("stale", stale)


if __name__ == "__main__":
    main()
