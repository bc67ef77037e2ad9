"""The documentation set the docs pipeline publishes: the repository's README as the site's
index and every Markdown file under DOCS_SOURCE, with where each lands in the site."""
import os

REPO_ROOT = os.environ.get("DOCS_REPO_ROOT", "..")
DOCS_SOURCE = os.environ.get("DOCS_SOURCE", os.path.join(REPO_ROOT, "docs"))


def documents():
    """[(source path, site path)] with site paths relative to the site's docs/ folder."""
    docs = []
    readme = os.path.join(REPO_ROOT, "README.md")
    if os.path.isfile(readme):
        docs.append((os.path.normpath(readme), "index.html"))
    for base, _, files in sorted(os.walk(DOCS_SOURCE)):
        for name in sorted(files):
            if name.endswith(".md"):
                path = os.path.normpath(os.path.join(base, name))
                rel = os.path.relpath(path, DOCS_SOURCE)
                docs.append((path, rel[:-3] + ".html"))
    return docs


def site_path_of(source_path):
    target = os.path.normpath(source_path)
    for path, site in documents():
        if path == target:
            return site
    return None
