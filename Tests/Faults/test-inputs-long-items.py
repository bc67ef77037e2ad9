#!/usr/bin/env -S python3 -B
"""`for_each` items of any length (issue 16, item 13): each instance's log, outputs and
progress are kept, in files whose names fit in a path component (NAME_MAX, 255 bytes).
Items of 200, 255, 1,000 and 100,000 bytes, ASCII and multibyte, through `runner apply`.

Usage: Tests/Faults/test-inputs-long-items.py RUNNER
"""
import json
import os

from faults import Work, check, checks


# The items are listed in the file: as one list param they would be more than its variable
# holds (RUN2105).
PIPELINE = """\
version: 1
name: long-items
steps:
  - name: each
    for_each: ITEMS
    run: |
      printf 'item of %s bytes\\n' "$(printf %s "$ITEM" | wc -c)"
      echo "size=$(printf %s "$ITEM" | wc -c)" >> "$RUNNER_OUTPUT"
      echo "60 most of it" >> "$RUNNER_PROGRESS"
    outputs: [size]
"""

ITEMS = ["a" * 200, "b" * 255, "c" * 1000, "d" * 100_000, "é" * 100, "日" * 85, "🙂" * 25_000, "x" * 240 + "/y"]


def main():
    with Work("faults-long-items.") as work:
        print("for_each items of any length keep their logs and outputs")
        pipeline = work.write("long.yaml", PIPELINE.replace("ITEMS", json.dumps(ITEMS, ensure_ascii=False)))
        r = work.cli("apply", pipeline, "--json")
        run = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
        check("the run succeeded", r.returncode == 0 and run.get("status") == "succeeded", (r.returncode, r.stderr[-400:]))
        steps = {s["name"]: s for s in run.get("steps", [])}
        attempts = {a["step"]: a for a in run.get("attempts", [])}
        for item in ITEMS:
            size = len(item.encode())
            name = f"each[{item}]"
            step, attempt = steps.get(name, {}), attempts.get(name, {})
            log = attempt.get("log") or ""
            text = open(log, encoding="utf-8").read() if log and os.path.exists(log) else None
            label = f"an item of {size:,} bytes" + (" (multibyte)" if size != len(item) else "") + (" with a '/'" if "/" in item else "")
            check(f"{label}: its log, its output and its progress are kept",
                  text == f"item of {size} bytes\n" and step.get("outputs") == {"size": str(size)}
                  and step.get("progress_message") == "most of it",
                  (len(os.path.basename(log).encode()), text, step.get("outputs"), step.get("progress_message")))
        logs = os.path.join(work.home, "logs", run.get("id", "?"))
        names = sorted(os.listdir(logs)) if os.path.isdir(logs) else []
        check("every file of the run's log folder has a name of at most 255 bytes, one log per instance",
              names and all(len(n.encode()) <= 255 for n in names) and sum(n.endswith(".log") for n in names) == len(ITEMS),
              [len(n.encode()) for n in names])
        journal_path = os.path.join(logs, "launches")
        journal = open(journal_path, encoding="utf-8").read() if os.path.exists(journal_path) else ""
        check("the launch journal names every instance whole (not by its shortened file name)",
              all(f"each[{item.replace('/', '%2F')}]" in journal for item in ITEMS), len(journal))
        shown = work.cli("runs", "logs", run.get("id", "?"), f"each[{ITEMS[3]}]")
        check("runs logs finds the 100,000-byte item's log", shown.returncode == 0 and "item of 100000 bytes" in shown.stdout,
              (shown.returncode, shown.stderr[-300:]))
    checks.finish("test-inputs-long-items")


if __name__ == "__main__":
    main()
