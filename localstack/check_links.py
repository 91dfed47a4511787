#!/usr/bin/env python3
"""Checks that every relative link in README.md and docs/**/*.md resolves.

A link or image, `[text](target)`, `![alt](target)` or a reference definition `[name]: target`,
whose target has no scheme (http:, https:, mailto: ... are left alone) must name a file or
directory that exists, relative to the file that links it (a leading `/` is the repository's
root). A `#fragment`, alone or after a Markdown file, must be a heading of that file, by GitHub's
rules for heading anchors. Links inside fenced code blocks and inline code are not links.
Every docs/*.md outside docs/benchmark/ must also be linked from README.md, so a reader finds it.

Usage: check_links.py (no arguments; run from anywhere). Prints each broken link as
`file:line: target (why)` and exits 1, or prints a one-line summary and exits 0.
"""

import re
import sys
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent

SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
# `[text](target)` or `![alt](target "title")`; the text may hold one level of brackets.
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)", re.MULTILINE)
HTML_ANCHOR = re.compile(r"<a\s+[^>]*(?:name|id)\s*=\s*\"([^\"]+)\"", re.IGNORECASE)
# GitHub's line anchors on a source file: #L10, #L10-L20.
LINE_ANCHOR = re.compile(r"^L\d+(?:-L\d+)?$")


def outside_fences(text):
    """The text with fenced code blocks blanked out, line breaks kept."""
    lines, fence = [], None
    for line in text.split("\n"):
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)
            lines.append("")
        elif fence is not None:
            closing = re.match(r"^ {0,3}(" + re.escape(fence[0]) + r"{3,})[ \t]*$", line)
            if closing and len(closing.group(1)) >= len(fence):
                fence = None
            lines.append("")
        else:
            lines.append(line)
    return "\n".join(lines)


def prose(text):
    """The text with fenced code blocks and inline code blanked out, line breaks kept."""
    text = outside_fences(text)
    # A code span runs from a run of backticks to the next run of the same length.
    out, i = [], 0
    for m in re.finditer(r"`+", text):
        if m.start() < i:
            continue
        closing = re.compile(r"(?<!`)" + re.escape(m.group()) + r"(?!`)").search(text, m.end())
        if not closing:
            continue
        out.append(text[i : m.start()])
        out.append(re.sub(r"[^\n]", " ", text[m.start() : closing.end()]))
        i = closing.end()
    out.append(text[i:])
    return "".join(out)


def slug(heading):
    """GitHub's anchor for a heading: its text lowercased, punctuation dropped but hyphens and
    underscores, each space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link or image: its text
    text = re.sub(r"<[^>]+>", "", text)  # HTML tags
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(path, cache={}):
    """The anchors a Markdown file's headings (and HTML anchors) give, duplicates numbered."""
    if path not in cache:
        found, seen = set(), {}
        lines = outside_fences(path.read_text(encoding="utf-8")).split("\n")
        for n, line in enumerate(lines):
            heading = None
            atx = ATX.match(line)
            if atx:
                heading = atx.group(2) or ""
            elif n > 0 and lines[n - 1].strip() and SETEXT.match(line) and not ATX.match(lines[n - 1]):
                heading = lines[n - 1].strip()
            if heading is not None:
                base = slug(heading)
                anchor = base
                while anchor in found:
                    seen[base] = seen.get(base, 0) + 1
                    anchor = f"{base}-{seen[base]}"
                found.add(anchor)
            found.update(HTML_ANCHOR.findall(line))
        cache[path] = found
    return cache[path]


def links(path):
    """(line, target) of every link in a Markdown file, outside code."""
    text = prose(path.read_text(encoding="utf-8"))
    for m in list(INLINE.finditer(text)) + list(DEFINITION.finditer(text)):
        target = m.group(1)
        if target.startswith("<") and target.endswith(">"):
            target = target[1:-1]
        yield text.count("\n", 0, m.start()) + 1, target


def check(path, target):
    """Why a relative target does not resolve from `path`, or None if it does."""
    where, _, fragment = target.partition("#")
    where = unquote(where)
    if where:
        resolved = (ROOT / where.lstrip("/")) if where.startswith("/") else (path.parent / where)
        resolved = resolved.resolve()
        if not resolved.exists():
            return None, "no such file"
        if ROOT not in resolved.parents and resolved != ROOT:
            return None, "outside the repository"
    else:
        resolved = path
    if not fragment:
        return resolved, None
    fragment = unquote(fragment)
    if resolved.is_dir():
        return resolved, "a fragment on a directory"
    if resolved.suffix.lower() not in (".md", ".markdown"):
        return resolved, None if LINE_ANCHOR.match(fragment) else "a fragment on a file that is not Markdown"
    if fragment.lower() not in anchors(resolved):
        return resolved, f"no heading #{fragment} in {resolved.relative_to(ROOT)}"
    return resolved, None


def main():
    files = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))
    broken, checked, from_readme = [], 0, set()
    for path in files:
        name = path.relative_to(ROOT)
        for line, target in links(path):
            if SCHEME.match(target):
                continue
            checked += 1
            resolved, why = check(path, target)
            if why:
                broken.append(f"{name}:{line}: {target} ({why})")
            elif path.name == "README.md" and path.parent == ROOT:
                from_readme.add(resolved)
    for doc in sorted((ROOT / "docs").glob("*.md")):
        if doc.resolve() not in from_readme:
            broken.append(f"README.md: {doc.relative_to(ROOT)} (not linked from README.md)")
    for line in broken:
        print(line)
    if broken:
        return 1
    print(f"links: {checked} checked in {len(files)} files, all resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
