#!/usr/bin/env bash
# copy-worktree.sh ROOT DEST: copies the working tree of the git repository ROOT (tracked and
# untracked files, not ignored ones; symlinks as links) into DEST. The end-to-end tests make
# throwaway repositories of it, so they publish what is in the tree, committed or not.
set -euo pipefail
mkdir -p "$2"
git -C "$1" ls-files -z -co --exclude-standard | python3 -c '
import os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
for rel in sys.stdin.buffer.read().decode().split("\0"):
    path = os.path.join(src, rel)
    if rel and (os.path.isfile(path) or os.path.islink(path)):
        os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
        shutil.copy2(path, os.path.join(dst, rel), follow_symlinks=False)
' "$1" "$2"
