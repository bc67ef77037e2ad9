"""The documentation set the docs pipeline publishes, read from the commit `targetRef`
names: the repository's README.md becomes the site's index page (docs/index.html), every
Markdown file under docs/ a page of its own (docs/X.md -> docs/X.html), and so does every
other Markdown file of the tree those pages link to (pipelines/README.md ->
docs/pipelines/README.html), so that no published link leads out of the site.

Where the sources come from:
- RUNNER_WORKSPACE set (the pipeline declares `workspace: {from: params.targetRef}`): the
  runner's checkout of the commit targetRef resolved to when the run was created
  (PARAM_TARGET_REF_SHA); the runner made it with libgit2, nothing is exported here.
- PARAM_TARGET_REF set (the scripts run by hand or by a pipeline without a workspace): the
  commit it resolves to in the repository
  DOCS_REPO_ROOT (the pipeline sets `..`), exported with `git archive` into the run's scratch
  directory, so what is published is exactly that commit, whatever the working tree holds.
- DOCS_SOURCE set: that directory of Markdown files, with the working tree's README.md
  (a local preview or a test of other documents; the ref is not read).
- neither: the working tree.
"""
import os
import re
import subprocess
import tarfile

from lib import die, run_dir
from mdhtml import EXTERNAL, links

REPO_ROOT = os.environ.get("DOCS_REPO_ROOT", "..")
EXIT_BAD_REF = 3


class Sources:
    def __init__(self, root, docs_dir, commit):
        self.root, self.docs_dir, self.commit = root, docs_dir, commit
        self.documents = self._documents()
        self._site_of = {path: site for path, site in self.documents}

    def _documents(self):
        """[(source path, site path relative to the site's docs/ folder)]"""
        docs, taken = [], set()

        def add(path, site):
            if path not in {p for p, _ in docs} and site not in taken:
                docs.append((path, site))
                taken.add(site)

        readme = os.path.normpath(os.path.join(self.root, "README.md"))
        if os.path.isfile(readme):
            add(readme, "index.html")
        for base, dirs, files in os.walk(self.docs_dir):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(".md"):
                    path = os.path.normpath(os.path.join(base, name))
                    site = os.path.relpath(path, self.docs_dir)[:-3] + ".html"
                    add(path, "docs-index.html" if site == "index.html" else site)
        # Markdown files of the tree that published pages link to are published too.
        root = os.path.normpath(self.root)
        queue = [path for path, _ in docs]
        while queue:
            source = queue.pop(0)
            for _, target in links(source):
                file_part = target.partition("#")[0].split("?", 1)[0]
                if EXTERNAL.match(target) or file_part.startswith("/") or not file_part.endswith(".md"):
                    continue
                path = os.path.normpath(os.path.join(os.path.dirname(source), file_part))
                rel = os.path.relpath(path, root)
                if rel.startswith("..") or not os.path.isfile(path) or path in {p for p, _ in docs}:
                    continue
                add(path, rel[:-3] + ".html")
                queue.append(path)
        return docs

    def site_path_of(self, source_path):
        return self._site_of.get(os.path.normpath(source_path))

    def display(self, path):
        """A path as messages show it: relative to the source tree when inside it."""
        rel = os.path.relpath(path, self.root)
        return path if rel.startswith("..") else rel

    @property
    def schemas_dir(self):
        return os.path.join(self.root, "schemas")


def resolve(ref):
    """The commit SHA `ref` names in REPO_ROOT; exit 3 (INVALID_TARGET_REF) when it names none."""
    if not ref or ref.startswith("-") or re.search(r"[\s\x00-\x1f\x7f]", ref):
        die(f"targetRef '{ref}' is not a git ref", EXIT_BAD_REF)
    result = subprocess.run(["git", "-C", REPO_ROOT, "rev-parse", "--verify", "--quiet", "--end-of-options",
                             ref + "^{commit}"], capture_output=True, text=True)
    if result.returncode != 0:
        die(f"targetRef '{ref}' does not name a commit in {os.path.abspath(REPO_ROOT)}", EXIT_BAD_REF)
    return result.stdout.strip()


def export(commit):
    """The tree of `commit`, exported once per run into the run's scratch directory."""
    dest = os.path.join(run_dir("docs-publish"), "src")
    marker = os.path.join(dest, ".commit")
    if os.path.isfile(marker):
        with open(marker, encoding="utf-8") as f:
            if f.read().strip() == commit:
                return dest
    partial = dest + ".partial"
    for path in (partial, dest):
        if os.path.exists(path):
            subprocess.run(["rm", "-rf", "--", path], check=True)
    os.makedirs(partial)
    proc = subprocess.Popen(["git", "-C", REPO_ROOT, "archive", "--format=tar", commit], stdout=subprocess.PIPE)
    with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
        archive.extractall(partial, filter="data")
    if proc.wait() != 0:
        die(f"git archive {commit} failed")
    with open(os.path.join(partial, ".commit"), "w", encoding="utf-8") as f:
        f.write(commit + "\n")
    os.rename(partial, dest)
    return dest


def sources(pinned_commit=None):
    explicit = os.environ.get("DOCS_SOURCE")
    if explicit:
        return Sources(REPO_ROOT, explicit, None)
    workspace = os.environ.get("RUNNER_WORKSPACE")
    if workspace:
        commit = os.environ.get("PARAM_TARGET_REF_SHA")
        if pinned_commit and commit and pinned_commit != commit:
            die(f"the workspace holds {commit}, not the pinned commit {pinned_commit}", EXIT_BAD_REF)
        return Sources(workspace, os.path.join(workspace, "docs"), commit)
    ref = os.environ.get("PARAM_TARGET_REF")
    if ref is None and not pinned_commit:
        return Sources(REPO_ROOT, os.path.join(REPO_ROOT, "docs"), None)
    commit = pinned_commit or resolve(ref)
    root = export(commit)
    return Sources(root, os.path.join(root, "docs"), commit)
