#!/usr/bin/env python3
"""quartz_build: renders the Markdown documents of the commit docs_link_check checked to HTML
under site/docs/ (README.md is docs/index.html), lists the schemas (schemas/*.json|yaml) with
their text under site/openapi/, and writes manifest.json with the SHA-256 of every file and a
content hash over them (what cdk_deploy compares with the live release).
Outputs: site_dir, content_hash, commit."""
import hashlib
import html
import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep pipelines/ free of __pycache__
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from lib import die, inject_failure, output, progress, run_dir  # noqa: E402
from mdhtml import EXTERNAL, convert  # noqa: E402
from sources import sources  # noqa: E402

SCHEMA_SUFFIXES = (".json", ".yaml", ".yml")
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}}
pre{{background:#f6f8fa;padding:1rem;overflow:auto}}code{{background:#f6f8fa}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ddd;padding:.3rem .5rem}}</style></head>
<body><nav><a href="{root}docs/index.html">docs</a> · <a href="{root}openapi/index.html">schemas</a></nav>
{body}
</body></html>
"""


def rewriter(src, source, site):
    """Links to published documents point at their pages, links to schemas at their copies
    under openapi/; the rest stays as written."""
    schemas = os.path.normpath(src.schemas_dir)

    def rewrite(href):
        if EXTERNAL.match(href) or href.startswith("#"):
            return href
        file_part, hash_mark, anchor = href.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(source), file_part))
        target = src.site_path_of(resolved) if file_part else None
        if target is None and os.path.dirname(resolved) == schemas and resolved.endswith(SCHEMA_SUFFIXES):
            target = os.path.join("..", "openapi", os.path.basename(resolved))
        if target is None:
            return href
        rel = os.path.relpath(target, os.path.dirname(site) or ".")
        return rel + (hash_mark + anchor if hash_mark else "")
    return rewrite


def title_of(text, fallback):
    match = re.search(r"^#\s+(.+)$", text, re.M)
    return match.group(1).strip() if match else fallback


def build(src, site_dir):
    docs = src.documents
    if not docs:
        die("nothing to build: no Markdown documents")
    for index, (source, site) in enumerate(docs, 1):
        with open(source, encoding="utf-8") as f:
            text = f.read()
        depth = site.count("/") + 1
        page = PAGE.format(title=html.escape(title_of(text, site)), root="../" * depth,
                           body=convert(text, rewriter(src, source, site)))
        path = os.path.join(site_dir, "docs", site)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
        progress(80 * index // len(docs), site)
    schemas_dir = src.schemas_dir
    schemas = sorted(n for n in os.listdir(schemas_dir) if n.endswith(SCHEMA_SUFFIXES)) if os.path.isdir(schemas_dir) else []
    os.makedirs(os.path.join(site_dir, "openapi"), exist_ok=True)
    items = []
    for name in schemas:
        shutil.copyfile(os.path.join(schemas_dir, name), os.path.join(site_dir, "openapi", name))
        with open(os.path.join(schemas_dir, name), encoding="utf-8") as f:
            body = f.read()
        items.append(f'<h2 id="{html.escape(name)}"><a href="{html.escape(name)}">{html.escape(name)}</a></h2>'
                     f"<pre><code>{html.escape(body)}</code></pre>")
    listing = "\n".join(items) or "<p>No schemas published yet.</p>"
    with open(os.path.join(site_dir, "openapi", "index.html"), "w", encoding="utf-8") as f:
        f.write(PAGE.format(title="Schemas", root="../", body="<h1>Schemas</h1>\n" + listing))
    with open(os.path.join(site_dir, "index.html"), "w", encoding="utf-8") as f:
        f.write('<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=docs/index.html">'
                '<a href="docs/index.html">docs</a>\n')
    manifest = {}
    for base, _, files in os.walk(site_dir):
        for name in files:
            path = os.path.join(base, name)
            with open(path, "rb") as f:
                manifest[os.path.relpath(path, site_dir)] = hashlib.sha256(f.read()).hexdigest()
    content_hash = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()
    with open(os.path.join(site_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump({"files": manifest, "content_hash": content_hash}, f, indent=1, sort_keys=True)
    progress(100, f"{len(manifest)} files")
    return len(docs), len(manifest), content_hash


def main():
    inject_failure("site build failed")
    src = sources(os.environ.get("STEP_DOCS_LINK_CHECK_COMMIT") or None)
    site_dir = os.path.join(run_dir("docs-publish"), "site")
    if os.path.exists(site_dir):
        shutil.rmtree(site_dir)
    pages, files, content_hash = build(src, site_dir)
    print(f"built {pages} pages, {files} files into {site_dir}"
          f"{' from commit ' + src.commit[:12] if src.commit else ''}")
    output("site_dir", os.path.abspath(site_dir))
    output("content_hash", content_hash)
    output("commit", src.commit or "")


if __name__ == "__main__":
    main()
