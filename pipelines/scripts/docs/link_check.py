#!/usr/bin/env python3
"""docs_link_check: every relative link and image in the published Markdown must resolve to
an existing file, and every #anchor to a heading of its target (GitHub's slug rules)."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import die, inject_failure, output, progress  # noqa: E402
from sources import documents  # noqa: E402
from mdhtml import slug, headings  # noqa: E402

LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def links(path):
    """(line number, target) of every inline link outside code fences and code spans."""
    in_fence = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            line = re.sub(r"`[^`]*`", "", line)
            for match in LINK.finditer(line):
                yield number, match.group(1)


def check(path):
    problems = []
    for number, target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
            continue  # external links are not checked offline
        file_part, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.exists(resolved):
            problems.append(f"{path}:{number}: broken link '{target}': {resolved} does not exist")
            continue
        if anchor and resolved.endswith(".md") and anchor not in {slug(h) for h in headings(resolved)}:
            problems.append(f"{path}:{number}: broken anchor '{target}': no heading '#{anchor}' in {resolved}")
    return problems


def main():
    inject_failure("link check failed")
    docs = documents()
    if not docs:
        die("no Markdown documents found (README.md or DOCS_SOURCE)")
    problems, count = [], 0
    for index, (path, _) in enumerate(docs, 1):
        problems += check(path)
        count += sum(1 for _ in links(path))
        progress(100 * index // len(docs), os.path.basename(path))
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"checked {count} links in {len(docs)} documents: {len(problems)} broken")
    output("documents", len(docs))
    output("links", count)
    if problems:
        die(f"{len(problems)} broken link(s)")


if __name__ == "__main__":
    main()
