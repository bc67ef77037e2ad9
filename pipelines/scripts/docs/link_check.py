#!/usr/bin/env python3
"""docs_link_check: every relative link and image in the published Markdown (inline
`[text](target)`, `![alt](src)` and reference definitions `[id]: target`) must resolve to an
existing file of the same commit, and every `#anchor` to a heading of its target (GitHub's
slug rules). Each problem is reported as `file:line: broken link 'target': why`.
Outputs: documents, links, commit (the commit checked, which quartz_build then builds)."""
import os
import re
import sys

sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import die, inject_failure, output, progress  # noqa: E402
from mdhtml import EXTERNAL, anchors, links  # noqa: E402
from sources import sources  # noqa: E402


def check(path, src, anchor_cache):
    problems = []
    for number, target in links(path):
        if EXTERNAL.match(target) or target.startswith("//"):
            continue  # external links are not checked offline
        where = f"{src.display(path)}:{number}: broken link '{target}'"
        file_part, _, anchor = target.partition("#")
        file_part = file_part.split("?", 1)[0]
        if file_part.startswith("/"):
            problems.append(f"{where}: an absolute path does not resolve in the published site")
            continue
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.exists(resolved):
            problems.append(f"{where}: {src.display(resolved)} does not exist")
            continue
        if anchor and resolved.endswith(".md"):
            if resolved not in anchor_cache:
                anchor_cache[resolved] = anchors(resolved)
            if anchor.lower() not in anchor_cache[resolved]:
                problems.append(f"{where}: broken anchor '#{anchor}', no such heading in {src.display(resolved)}")
    return problems


def main():
    inject_failure("link check failed")
    src = sources()
    if not src.documents:
        die("no Markdown documents found (README.md, docs/ or DOCS_SOURCE)")
    problems, count, cache = [], 0, {}
    for index, (path, _) in enumerate(src.documents, 1):
        problems += check(path, src, cache)
        count += sum(1 for _ in links(path))
        progress(100 * index // len(src.documents), src.display(path))
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"checked {count} links in {len(src.documents)} documents"
          f"{' of commit ' + src.commit[:12] if src.commit else ''}: {len(problems)} broken")
    output("documents", len(src.documents))
    output("links", count)
    output("commit", src.commit or "")
    if problems:
        die(f"{len(problems)} broken link(s)")


if __name__ == "__main__":
    main()
