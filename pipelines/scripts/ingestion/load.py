#!/usr/bin/env python3
"""load: upserts the fetched items of every successful fetch instance into the ingestion
database ($DEMO_ROOT/ingestion/ingestion.db, or INGESTION_DB) in one transaction.
Idempotent: videos are keyed by video_id, so a re-run inserts nothing and reports them as
unchanged; a changed item is updated. The pipeline skips this step on dry_run."""
import glob
import json
import os
import sqlite3
import sys

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import DEMO_ROOT, inject_failure, output, progress, run_dir  # noqa: E402

SCHEMA = """
CREATE TABLE IF NOT EXISTS videos (
  video_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL, target_type TEXT NOT NULL,
  published_at TEXT NOT NULL, title TEXT NOT NULL, loaded_by_run TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
  video_id TEXT NOT NULL REFERENCES videos(video_id), position INTEGER NOT NULL,
  meta_type TEXT NOT NULL, message_text TEXT NOT NULL, published_at TEXT NOT NULL,
  PRIMARY KEY (video_id, position));
"""


def main():
    inject_failure("database write failed")
    db_path = os.environ.get("INGESTION_DB", os.path.join(DEMO_ROOT, "ingestion", "ingestion.db"))
    os.makedirs(os.path.dirname(db_path), exist_ok=True)
    files = sorted(glob.glob(os.path.join(run_dir("ingestion"), "fetched-*.jsonl")))
    items = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            items += [json.loads(line) for line in f if line.strip()]
    db = sqlite3.connect(db_path)
    db.executescript(SCHEMA)
    inserted = updated = unchanged = 0
    run_id = os.environ.get("RUNNER_RUN_ID", "manual")
    with db:
        for index, item in enumerate(items, 1):
            row = db.execute("SELECT channel_id, target_type, published_at, title FROM videos WHERE video_id = ?",
                             (item["video_id"],)).fetchone()
            values = (item["channel_id"], item["target_type"], item["published_at"], item["title"])
            if row is None:
                inserted += 1
            elif tuple(row) != values:
                updated += 1
            else:
                unchanged += 1
                continue
            db.execute("""INSERT INTO videos VALUES (?, ?, ?, ?, ?, ?)
                          ON CONFLICT(video_id) DO UPDATE SET channel_id = excluded.channel_id,
                          target_type = excluded.target_type, published_at = excluded.published_at,
                          title = excluded.title, loaded_by_run = excluded.loaded_by_run""",
                       (item["video_id"], *values, run_id))
            db.execute("DELETE FROM records WHERE video_id = ?", (item["video_id"],))
            db.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?)",
                           [(item["video_id"], n, r["meta_type"], r["message_text"], r["published_at"])
                            for n, r in enumerate(item["records"])])
            progress(100 * index // max(1, len(items)))
    progress(100, f"{len(items)} items")
    total = db.execute("SELECT count(*) FROM videos").fetchone()[0]
    db.close()
    print(f"loaded {len(items)} items from {len(files)} files: {inserted} inserted, {updated} updated, "
          f"{unchanged} unchanged; {total} videos in {db_path}")
    output("inserted", inserted)
    output("updated", updated)
    output("unchanged", unchanged)


if __name__ == "__main__":
    main()
