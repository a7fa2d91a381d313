"""Ingest: the bytes of one article (.txt, .md, .html or stdin) -> a cleaned `Article`.

Scraped news is messy: mixed encodings, repeated headlines, "Baca juga" cross-links, photo captions and
comment boxes around the story. A rule only drops a line that cannot be article text, and every dropped line
is kept in `Article.removed` with its reason, so nothing is lost silently.

Line numbers in `removed` count the lines of the decoded input; for HTML they count the lines of the
extracted text, whose first line is the page title.
"""

from __future__ import annotations


from summarizer.errors import InputError
from summarizer.boilerplate import remove_boilerplate
from summarizer.dates import body_date
from summarizer.formats import extract_html, looks_like_html, markdown_units, units_from_lines
from summarizer.sources import (DEFAULT_MAX_CHARS, InputDocument, canonical_text, decode_bytes, normalize_lines,
                                read_limit, text_hash)
from summarizer.schema import Article, Issue

# ------------------------------------------------------------------------------------------ ingest


def ingest(doc: InputDocument, max_chars: int = DEFAULT_MAX_CHARS) -> Article:
    """Read, decode, normalise and clean one article.

    Raises: InputError when the input is missing, empty, binary, not a regular file, longer than
    `max_chars` characters of text, or holds no article text.
    """
    data = doc.read_bytes(read_limit(max_chars))
    if not data:
        raise InputError(f"{doc.source}: empty file", hint="pass a file that holds a news article")
    try:
        text, warnings = decode_bytes(data)
    except InputError as error:
        raise InputError(f"{doc.source}: {error.message}", hint=error.hint) from None
    lines, controls = normalize_lines(text)
    if controls:
        warnings.append(Issue(code="control-characters", stage="ingest",
                              message=f"dropped {controls} control character(s) that are not text"))
    full_text = canonical_text(lines)
    if not full_text:
        raise InputError(f"{doc.source}: only whitespace", hint="pass a file that holds a news article")
    is_html = (doc.path.suffix.lower() if doc.path else "") in (".html", ".htm") or looks_like_html(text)
    if not is_html:
        _check_size(doc.source, full_text, max_chars)

    suffix = doc.path.suffix.lower() if doc.path else ""
    published = None
    if is_html:
        title, body, published, html_warnings = extract_html(text)
        warnings += html_warnings
        lines, _ = normalize_lines(f"{title}\n\n{body}" if title else body)
        full_text = canonical_text(lines)
        _check_size(doc.source, full_text, max_chars)
        units = [unit for unit in units_from_lines(lines, reflow=False) if not (title and unit.line == 1)]
    elif suffix == ".md" or full_text.startswith("# "):
        units, title = markdown_units("\n".join(lines))
    else:
        units, title = units_from_lines(lines, reflow=True), None

    title, dateline, date_line, paragraphs, removed = remove_boilerplate(units, title)
    if not paragraphs:
        raise InputError(f"{doc.source}: no article text found ({len(removed)} boilerplate line(s) removed)",
                         hint="pass a file that holds a news article")
    return Article(source=doc.source, text_hash=text_hash(full_text), title=title, dateline=dateline,
                   published=date_line or published or body_date(paragraphs), paragraphs=paragraphs, removed=removed,
                   warnings=warnings)


def _check_size(source: str, text: str, max_chars: int) -> None:
    if len(text) > max_chars:
        raise InputError(f"{source}: {len(text):,} characters of text, over the limit of {max_chars:,}",
                         hint="raise --max-chars to process it, or split the file")

