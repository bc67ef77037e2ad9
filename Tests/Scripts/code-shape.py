#!/usr/bin/env python3
"""House style's hard limits (STYLE.md, issue 17): no Swift file in Sources over 500 lines, no
function, initializer or subscript over 60 lines. Prints each one over and exits 1 if any.
Usage: Tests/Scripts/code-shape.py [DIR]   (default Sources)"""
import pathlib
import re
import sys

MAX_FILE, MAX_FUNCTION = 500, 60
MODIFIERS = (r"public|private|fileprivate|internal|package|open|static|class|final|override|mutating|"
             r"nonisolated(?:\(unsafe\))?|required|convenience")
DECLARATION = re.compile(rf"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:{MODIFIERS})\s+)*(?:func\s+[^\s(<]+|init[?!]?|deinit|subscript)\b")
STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def body_length(lines, start):
    """Lines from the declaration at `start` to its closing brace; None when it has no body."""
    depth, opened = 0, False
    for j in range(start, len(lines)):
        code = STRING.sub('""', lines[j]).split("//")[0]
        for ch in code:
            if ch == "{":
                depth, opened = depth + 1, True
            elif ch == "}":
                depth -= 1
        if opened and depth <= 0:
            return j - start + 1
        if not opened and j > start + 15:  # a protocol requirement: no body
            return None
    return None


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "Sources")
    over = []
    for path in sorted(root.rglob("*.swift")):
        lines = path.read_text().split("\n")
        if len(lines) > MAX_FILE:
            over.append(f"{path}: {len(lines)} lines (at most {MAX_FILE})")
        for i, line in enumerate(lines):
            if DECLARATION.match(line):
                n = body_length(lines, i)
                if n and n > MAX_FUNCTION:
                    over.append(f"{path}:{i + 1}: {n} lines (at most {MAX_FUNCTION}): {line.strip()[:90]}")
    for line in over:
        print(f"code-shape: {line}")
    print(f"code-shape: {len(over)} over the limits" if over else "code-shape: every file and function within the limits")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
