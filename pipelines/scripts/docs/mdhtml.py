"""A small Markdown to HTML converter for the docs site: headings with GitHub-style ids,
paragraphs, lists, block quotes, fenced code, tables, inline code, emphasis and links."""
import html
import re


INLINE_LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
FENCE = re.compile(r"^\s*(```|~~~)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:|^//", re.I)


def links(path):
    """(line number, target) of every link and image outside code fences and code spans:
    inline `[text](target)`, `![alt](src)` and reference definitions `[id]: target`."""
    in_fence = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            line = re.sub(r"(`+).*?\1", "", line)
            for match in INLINE_LINK.finditer(line):
                yield number, match.group(1).strip("<>")
            match = DEFINITION.match(line)
            if match:
                yield number, match.group(1).strip("<>")


def slug(text):
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text, flags=re.UNICODE)
    return text.replace(" ", "-")


def anchors(path):
    """The anchors a document's headings get on GitHub: slugs, repeated ones suffixed -1, -2."""
    seen, result = {}, set()
    for title in headings(path):
        result.add(unique_slug(slug(title), seen))
    return result


def unique_slug(base, seen):
    count = seen.get(base, 0)
    seen[base] = count + 1
    return base if count == 0 else f"{base}-{count}"


def headings(path):
    result, in_fence = [], False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if re.match(r"^\s*(```|~~~)", line):
                in_fence = not in_fence
            elif not in_fence:
                match = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
                if match:
                    result.append(match.group(2))
    return result


def inline(text, rewrite_link):
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) >= 2:
            out.append("<code>" + html.escape(part[1:-1]) + "</code>")
            continue
        part = html.escape(part, quote=False)
        part = re.sub(r"!\[([^\]]*)\]\(([^)\s]+)\)",
                      lambda m: f'<img alt="{m.group(1)}" src="{html.escape(rewrite_link(m.group(2)))}">', part)
        part = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)",
                      lambda m: f'<a href="{html.escape(rewrite_link(m.group(2)))}">{m.group(1)}</a>', part)
        part = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", part)
        part = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"<em>\1</em>", part)
        out.append(part)
    return "".join(out)


def table(rows, rewrite_link):
    cells = [[c.strip() for c in re.split(r"(?<!\\)\|", r.strip().strip("|"))] for r in rows]
    head, body = cells[0], cells[2:]
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{inline(c, rewrite_link)}</th>" for c in head) + "</tr></thead>", "<tbody>"]
    for row in body:
        out.append("<tr>" + "".join(f"<td>{inline(c.replace(chr(92) + '|', '|'), rewrite_link)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def convert(text, rewrite_link=lambda href: href):
    lines = text.split("\n")
    out, i = [], 0
    seen = {}
    paragraph = []

    def flush():
        if paragraph:
            out.append("<p>" + inline(" ".join(paragraph), rewrite_link) + "</p>")
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        fence = re.match(r"^\s*(```|~~~)\s*([\w+-]*)", line)
        if fence:
            flush()
            marker, lang, code = fence.group(1), fence.group(2), []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marker):
                code.append(lines[i])
                i += 1
            cls = f' class="language-{lang}"' if lang else ""
            out.append(f"<pre><code{cls}>" + html.escape("\n".join(code)) + "</code></pre>")
            i += 1
            continue
        heading = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if heading:
            flush()
            level, title = len(heading.group(1)), heading.group(2)
            out.append(f'<h{level} id="{unique_slug(slug(title), seen)}">{inline(title, rewrite_link)}</h{level}>')
            i += 1
            continue
        if line.strip().startswith("|") and i + 1 < len(lines) and re.match(r"^\s*\|?\s*:?-{3,}", lines[i + 1]):
            flush()
            rows = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(lines[i])
                i += 1
            out.append(table(rows, rewrite_link))
            continue
        item = re.match(r"^(\s*)([-*+]|\d+\.)\s+(.*)", line)
        if item:
            flush()
            ordered = item.group(2)[0].isdigit()
            tag = "ol" if ordered else "ul"
            out.append(f"<{tag}>")
            while i < len(lines):
                m = re.match(r"^(\s*)([-*+]|\d+\.)\s+(.*)", lines[i])
                if m:
                    out.append("<li>" + inline(m.group(3), rewrite_link) + "</li>")
                elif lines[i].startswith("  ") and lines[i].strip():
                    out[-1] = out[-1][:-5] + " " + inline(lines[i].strip(), rewrite_link) + "</li>"
                else:
                    break
                i += 1
            out.append(f"</{tag}>")
            continue
        if line.startswith(">"):
            flush()
            quote = []
            while i < len(lines) and lines[i].startswith(">"):
                quote.append(lines[i][1:].lstrip())
                i += 1
            out.append("<blockquote>" + convert("\n".join(quote), rewrite_link) + "</blockquote>")
            continue
        if not line.strip():
            flush()
        else:
            paragraph.append(line.strip())
        i += 1
    flush()
    return "\n".join(out)
