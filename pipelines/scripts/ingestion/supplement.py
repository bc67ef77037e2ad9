#!/usr/bin/env python3
"""supplement: the appearance supplement of seed 002: for each loaded video, counts the
records whose message matches the laughter pattern (default 草|w|くさ|kusa)."""
import os
import re
import sqlite3
import sys

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import DEMO_ROOT, die, inject_failure, output  # noqa: E402


def main():
    inject_failure("supplement failed")
    pattern_text = os.environ.get("SUPPLEMENT_PATTERN", "草|w|くさ|kusa")
    try:
        pattern = re.compile(pattern_text)
    except re.error as error:
        die(f"SUPPLEMENT_PATTERN is not a valid regular expression: {error}")
    db_path = os.environ.get("INGESTION_DB", os.path.join(DEMO_ROOT, "ingestion", "ingestion.db"))
    db = sqlite3.connect(db_path)
    db.execute("""CREATE TABLE IF NOT EXISTS supplements (video_id TEXT PRIMARY KEY, matches INTEGER NOT NULL,
                  records INTEGER NOT NULL, pattern TEXT NOT NULL)""")
    counts = {}
    for video_id, text in db.execute("SELECT video_id, message_text FROM records"):
        total, matches = counts.get(video_id, (0, 0))
        counts[video_id] = (total + 1, matches + (1 if pattern.search(text) else 0))
    with db:
        db.executemany("INSERT OR REPLACE INTO supplements VALUES (?, ?, ?, ?)",
                       [(video, matches, total, pattern_text) for video, (total, matches) in counts.items()])
    db.close()
    matched = sum(1 for total, matches in counts.values() if matches)
    print(f"supplement: {matched} of {len(counts)} videos have records matching /{pattern_text}/")
    output("videos", len(counts))
    output("matched", matched)


if __name__ == "__main__":
    main()
