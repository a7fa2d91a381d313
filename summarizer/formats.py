"""Article formats: HTML pages (trafilatura, with our own fallback parser) and Markdown, reduced to units of
text (candidate paragraphs with their input line) for boilerplate removal."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser

from summarizer.dates import parse_date
from summarizer.schema import Issue

# ------------------------------------------------------------------------------------------ HTML and Markdown

_HTML_START = re.compile(r"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL)


def looks_like_html(text: str) -> bool:
    return bool(_HTML_START.match(text[:4096]))


class _PageText(HTMLParser):
    """Stdlib walk of a page: visible text without scripts or navigation, plus title and date candidates."""

    _SKIP = frozenset({"head", "script", "style", "noscript", "template", "svg", "iframe", "nav", "header",
                       "footer", "aside", "form"})
    _BLOCK = frozenset({"p", "div", "br", "hr", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
                        "table", "article", "section", "main", "blockquote", "pre", "figure", "figcaption",
                        "dd", "dt"})

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = self.h1 = self.og_title = self.published = None
        self._skipping = 0
        self._capture: str | None = None
        self._buffer: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            attributes = dict(attrs)
            name, content = attributes.get("property") or attributes.get("name"), attributes.get("content") or ""
            if name == "og:title" and not self.og_title:
                self.og_title = " ".join(content.split()) or None
            elif name in ("article:published_time", "datePublished", "pubdate") and not self.published:
                self.published = parse_date(content[:10])
        elif tag in ("title", "h1") and self._capture is None and getattr(self, tag) is None:
            self._capture, self._buffer = tag, []
        self._skipping += tag in self._SKIP
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._capture:
            setattr(self, tag, " ".join("".join(self._buffer).split()) or None)
            self._capture = None
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._buffer.append(data)
        if not self._skipping:
            self.parts.append(data)


def extract_html(html: str) -> tuple[str | None, str, str | None, list[Issue]]:
    """Article text of a page with trafilatura (one paragraph a line), else a stdlib walk of the whole page.

    Returns (title, text, ISO date from the page's metadata, warnings).
    """
    import trafilatura  # lazy: pulls in lxml, and only HTML inputs need it

    page = _PageText(html)
    document = trafilatura.bare_extraction(
        html, include_comments=False, with_metadata=True,
        # Only dates the page states in its markup; no guessing from free text.
        date_extraction_params={"extensive_search": False, "original_date": True})
    text = (document.text if document else None) or ""
    warnings = []
    if not text.strip():
        text = "".join(page.parts)
        warnings.append(Issue(code="html-fallback", stage="ingest",
                              message="trafilatura found no article text; used the page's visible text"))
    title = (document.title if document else None) or page.og_title or page.h1 or page.title
    title = " ".join(title.split()) if title else None
    published = parse_date(document.date) if document and document.date else page.published
    return title, text, published, warnings


@dataclass
class Unit:
    """A candidate paragraph: its first input line, its text, and why it was dropped (None = content)."""

    line: int
    text: str
    reason: str | None = None


def markdown_units(source: str) -> tuple[list[Unit], str | None]:
    """Blocks of a Markdown article as units (markup stripped, wrapped lines joined), and a leading heading."""
    from markdown_it import MarkdownIt  # lazy: only Markdown inputs need it

    units: list[Unit] = []
    title, number = None, ""
    tokens = MarkdownIt("commonmark").parse(source)
    for previous, token in zip([None, *tokens], tokens):
        if token.type == "list_item_open" and token.info:  # ordered list: the number is content
            number = f"{token.info}{token.markup} "
        if token.type not in ("inline", "html_block", "fence", "code_block") or not token.map:
            continue
        images, parts = [], []
        for child in token.children or []:
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
            elif child.type == "image":
                images.append(child.content)
        if token.type == "html_block":
            parts = _PageText(token.content).parts
        elif token.type != "inline":
            parts = [token.content]
        text, line = " ".join("".join(parts).split()), token.map[0] + 1
        if previous is not None and previous.type == "heading_open" and not units and title is None:
            title = text or None
        elif text:
            units.append(Unit(line, number + text))
        elif images:
            units.append(Unit(line, " ".join(images) or "[image]", "image"))
        number = ""
    return units, title


# Editors wrap plain text at 72-80 columns; scraped one-line paragraphs are nearly always longer than 100
# characters, so a file whose longest line fits in 100 columns is treated as hard-wrapped.
HARD_WRAP_MAX_WIDTH = 100
_LIST_ITEM = re.compile(r"(?:\d{1,3}[.)]|[-*•]) ")
_SENTENCE_ENDS = (".", "!", "?", ":", '"', "”", "’", ")")


def units_from_lines(lines: Sequence[str], reflow: bool) -> list[Unit]:
    """Group lines into units. A line that was only wrapped continues the previous unit: it starts lowercase,
    or, in a hard-wrapped file, the line before ends mid-sentence and this line's first word would not have
    fitted on it."""
    width = max(map(len, lines), default=0)
    units: list[Unit] = []
    previous = ""
    for number, line in enumerate(lines, 1):
        if line and previous and reflow and not _LIST_ITEM.match(line) and (
                line[0].islower() or (width <= HARD_WRAP_MAX_WIDTH and not previous.endswith(_SENTENCE_ENDS)
                                      and len(previous) + 1 + len(line.split(" ", 1)[0]) > width)):
            units[-1].text += " " + line
        elif line:
            units.append(Unit(number, line))
        previous = line
    return units


