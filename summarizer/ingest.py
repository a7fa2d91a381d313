"""Ingest: the bytes of one article (.txt, .md, .html or stdin) -> a cleaned `Article`.

Scraped news is messy: mixed encodings, repeated headlines, "Baca juga" cross-links, photo captions and
comment boxes around the story. A rule only drops a line that cannot be article text, and every dropped line
is kept in `Article.removed` with its reason, so nothing is lost silently.

Line numbers in `removed` count the lines of the decoded input; for HTML they count the lines of the
extracted text, whose first line is the page title.
"""

from __future__ import annotations

import base64
import codecs
import errno
import hashlib
import os
import re
import stat
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import BinaryIO

from summarizer.errors import InputError
from summarizer.schema import Article, Dateline, Issue, RemovedLine

ARTICLE_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm"})

# ------------------------------------------------------------------------------------------ discovery

# Input caps. A news article is ~5,000 characters and the longest features ~50,000; beyond the caps an input
# is not an article (a dump, a log, a novel) and would hold up the batch for minutes. Over a cap the
# article gets an error record (never a silent truncation); --max-chars raises the cap.
DEFAULT_MAX_CHARS = 100_000
DEFAULT_MAX_SENTENCES = 2_000
# Bytes read from one file at most: HTML markup can be ~10x its article text, and 16 MiB bounds the memory
# and parse time a single input can take (/dev/zero or a 5 GB log must not be read to the end).
MIN_READ_BYTES = 16 * 2**20
BYTES_PER_CHAR = 16


def read_limit(max_chars: int = DEFAULT_MAX_CHARS) -> int:
    """How many bytes of one input are read at most for a given character cap."""
    return max(MIN_READ_BYTES, BYTES_PER_CHAR * max_chars)


_FILE_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def printable_source(name: str) -> str:
    """A file name as valid, one-line text: bytes that are not UTF-8 (surrogate escapes from the OS) and
    control characters become backslash escapes. Serialisers and terminals accept the result."""
    text = os.fsencode(name).decode("utf-8", errors="backslashreplace")
    return "".join(char if char.isprintable() or char == " " else char.encode("unicode_escape").decode("ascii")
                   for char in text)


@dataclass(frozen=True)
class InputDocument:
    """One input: a file (read lazily, so a bad file fails alone) or the bytes of stdin.

    `source` is always printable text; when that is not the exact file name, `source_b64` holds the
    name's raw bytes (base64), so records stay lossless for names that are not UTF-8.
    """

    source: str
    path: Path | None
    data: bytes | None = None
    source_b64: str | None = None

    @classmethod
    def for_path(cls, path: Path) -> "InputDocument":
        name = str(path)
        source = printable_source(name)
        raw = None if source == name else base64.b64encode(os.fsencode(name)).decode("ascii")
        return cls(source, path, None, raw)

    def read_bytes(self, limit: int | None = None) -> bytes:
        """The raw bytes, at most `limit` of them. Only regular files are opened: a FIFO would block,
        a device never ends. Raises InputError when the input is missing, unreadable, not a regular file
        or larger than `limit`."""
        limit = read_limit() if limit is None else limit
        if self.path is None:
            data = self.data or b""
        else:
            data = self._read_file(limit)
        if len(data) > limit:
            raise InputError(f"{self.source}: input is larger than {limit:,} bytes",
                             hint="this is not a single news article; raise --max-chars to allow it")
        return data

    def _read_file(self, limit: int) -> bytes:
        try:
            info = os.stat(self.path)  # follows a symlink to its target; a symlink loop raises ELOOP
            _require_regular(self.source, info.st_mode)
            # O_NONBLOCK: if a FIFO was swapped in since the stat, opening it must not wait for a writer.
            handle = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
            try:
                _require_regular(self.source, os.fstat(handle).st_mode)
                chunks, size = [], 0
                while size <= limit and (chunk := os.read(handle, min(2**20, limit + 1 - size))):
                    chunks.append(chunk)
                    size += len(chunk)
                return b"".join(chunks)
            finally:
                os.close(handle)
        except OSError as error:
            reason = {errno.ENOENT: "no such file", errno.EISDIR: "is a directory", errno.EACCES: "permission denied",
                      errno.EPERM: "permission denied", errno.ELOOP: "symlink loop"}.get(error.errno, error.strerror)
            raise InputError(f"{self.source}: {reason}", hint="check the path and its permissions") from None


def _require_regular(source: str, mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a regular file")
        raise InputError(f"{source}: {kind}, not a regular file; not read",
                         hint="pass regular files; pipe a stream into stdin ('-') instead")


def discover(paths: Sequence[str], stdin: BinaryIO | None = None, *, max_bytes: int | None = None,
             skipped: Counter[str] | None = None) -> list[InputDocument]:
    """Expand CLI paths into documents, in argument order; directories are walked recursively and sorted.

    A path that does not exist (or is a FIFO, a device, a symlink loop) still becomes a document: reading it
    raises InputError, so the batch gives it an error record instead of stopping. The same file (or stdin)
    given twice is processed once. Files a walk leaves out are counted per reason in `skipped`.
    At most `max_bytes` + 1 bytes of stdin are read, so an endless stream cannot fill memory.
    """
    max_bytes = read_limit() if max_bytes is None else max_bytes
    skipped = Counter() if skipped is None else skipped
    documents: list[InputDocument] = []
    seen: set[str] = set()
    for given in paths:
        if given == "-":
            if "-" not in seen:
                seen.add("-")
                stream = stdin if stdin is not None else sys.stdin.buffer
                documents.append(InputDocument("-", None, stream.read(max_bytes + 1)))
            continue
        path = Path(given)
        for file in _article_files(path, skipped) if path.is_dir() else [path]:
            key = os.path.realpath(file)
            if key not in seen:
                seen.add(key)
                documents.append(InputDocument.for_path(file))
    return documents


def _article_files(directory: Path, skipped: Counter[str]) -> list[Path]:
    """Article files under `directory`, skipping hidden files and directories, sorted by relative path.

    Symlinked directories are followed once: a directory already visited (a symlink loop, or two links to
    one place) is not entered again.
    """
    found = []
    visited: set[tuple[int, int]] = set()

    def unreadable(error: OSError) -> None:
        skipped["unreadable directory"] += 1

    for root, dirnames, filenames in os.walk(directory, onerror=unreadable, followlinks=True):
        try:
            info = os.stat(root)
        except OSError:
            skipped["unreadable directory"] += 1
            continue
        if (info.st_dev, info.st_ino) in visited:
            skipped["directory visited already (symlink loop)"] += 1
            dirnames[:] = []
            continue
        visited.add((info.st_dev, info.st_ino))
        skipped["hidden"] += sum(name.startswith(".") for name in dirnames)
        dirnames[:] = [name for name in dirnames if not name.startswith(".")]
        for name in filenames:
            file = Path(root, name)
            if name.startswith("."):
                skipped["hidden"] += 1
            elif file.is_symlink() and not file.exists():
                skipped["broken symlink or symlink loop"] += 1
            elif file.suffix.lower() not in ARTICLE_SUFFIXES:
                skipped["not .txt/.md/.html/.htm"] += 1
            else:
                found.append(file)
    for reason in [reason for reason, count in skipped.items() if not count]:
        del skipped[reason]
    return sorted(found, key=lambda file: file.relative_to(directory).parts)


# ------------------------------------------------------------------------------------------ decoding

_CONTROL_BYTES = bytes(byte for byte in range(32) if byte not in b"\t\n\r\x0b\x0c")
# Text has next to no C0 control bytes and random binary ~10%; 2% tolerates stray bytes in scraped text
# yet still catches a binary file that happens to hold no NUL byte.
MAX_CONTROL_BYTE_RATIO = 0.02
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # how errors="surrogateescape" marks a byte that is not UTF-8
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"
_SINGLE_BYTE = {0xDC00 + byte: bytes([byte]).decode("latin-1" if byte in _CP1252_UNDEFINED else "cp1252")
                for byte in range(0x80, 0x100)}


def decode_bytes(data: bytes) -> tuple[str, list[Issue]]:
    """Bytes -> text: UTF-8 with or without BOM (UTF-16 only with a BOM); bytes that are not UTF-8 are read
    as cp1252, and the five bytes cp1252 leaves undefined as Latin-1, with a warning for each kind.

    Decoding byte by byte keeps the UTF-8 parts of a file that mixes both encodings intact.
    Raises: InputError for binary data.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError:
            raise InputError("invalid UTF-16 text", hint="re-save the file as UTF-8") from None
    data = data.removeprefix(codecs.BOM_UTF8)
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if b"\0" in data or controls > MAX_CONTROL_BYTE_RATIO * len(data):
        raise InputError("binary data, not text", hint="pass a .txt, .md or .html news article")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="surrogateescape")
    latin1 = sum(text.count(chr(0xDC00 + byte)) for byte in _CP1252_UNDEFINED)
    cp1252 = len(_ESCAPED_BYTE.findall(text)) - latin1
    warnings = [Issue(code=code, stage="ingest", message=f"input is not valid UTF-8: read {count} byte(s) as {name}")
                for code, count, name in (("decoded-cp1252", cp1252, "cp1252 (Windows-1252)"),
                                          ("decoded-latin1", latin1, "Latin-1"))
                if count]
    return text.translate(_SINGLE_BYTE), warnings


# ------------------------------------------------------------------------------------------ normalising

_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Invisible characters that are never content: zero-width space, word joiner, a stray BOM, soft hyphen.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))


def normalize_lines(text: str) -> tuple[list[str], int]:
    """NFC, one kind of line break, single spaces: the text as lines, one for one with the input's lines.

    Returns the lines and how many control characters were dropped. Curly quotes and dashes stay.
    """
    text = _LINE_BREAKS.sub("\n", unicodedata.normalize("NFC", text)).translate(_INVISIBLE)
    text, controls = _CONTROL_CHARS.subn("", text)
    return [" ".join(line.split()) for line in text.split("\n")], controls


def canonical_text(lines: Sequence[str]) -> str:
    """The normalised full text: paragraphs separated by at most one blank line, no blank ends."""
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
class _Unit:
    """A candidate paragraph: its first input line, its text, and why it was dropped (None = content)."""

    line: int
    text: str
    reason: str | None = None


def _markdown_units(source: str) -> tuple[list[_Unit], str | None]:
    """Blocks of a Markdown article as units (markup stripped, wrapped lines joined), and a leading heading."""
    from markdown_it import MarkdownIt  # lazy: only Markdown inputs need it

    units: list[_Unit] = []
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
            units.append(_Unit(line, number + text))
        elif images:
            units.append(_Unit(line, " ".join(images) or "[image]", "image"))
        number = ""
    return units, title


# Editors wrap plain text at 72-80 columns; scraped one-line paragraphs are nearly always longer than 100
# characters, so a file whose longest line fits in 100 columns is treated as hard-wrapped.
HARD_WRAP_MAX_WIDTH = 100
_LIST_ITEM = re.compile(r"(?:\d{1,3}[.)]|[-*•]) ")
_SENTENCE_ENDS = (".", "!", "?", ":", '"', "”", "’", ")")


def _units_from_lines(lines: Sequence[str], reflow: bool) -> list[_Unit]:
    """Group lines into units. A line that was only wrapped continues the previous unit: it starts lowercase,
    or, in a hard-wrapped file, the line before ends mid-sentence and this line's first word would not have
    fitted on it."""
    width = max(map(len, lines), default=0)
    units: list[_Unit] = []
    previous = ""
    for number, line in enumerate(lines, 1):
        if line and previous and reflow and not _LIST_ITEM.match(line) and (
                line[0].islower() or (width <= HARD_WRAP_MAX_WIDTH and not previous.endswith(_SENTENCE_ENDS)
                                      and len(previous) + 1 + len(line.split(" ", 1)[0]) > width)):
            units[-1].text += " " + line
        elif line:
            units.append(_Unit(number, line))
        previous = line
    return units


# ------------------------------------------------------------------------------------------ dates

_MONTHS = {
    "januari": 1, "january": 1, "jan": 1, "februari": 2, "pebruari": 2, "february": 2, "feb": 2,
    "maret": 3, "march": 3, "mar": 3, "april": 4, "apr": 4, "mei": 5, "may": 5, "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7, "agustus": 8, "august": 8, "agus": 8, "agu": 8, "agt": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nopember": 11, "nov": 11, "nop": 11, "desember": 12, "december": 12, "des": 12, "dec": 12,
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_FORMS = (
    re.compile(rf"(?P<d>\d{{1,2}}) (?P<m>{_MONTH})\.? (?P<y>\d{{4}})", re.IGNORECASE),
    re.compile(rf"(?P<m>{_MONTH})\.? (?P<d>\d{{1,2}}),? (?P<y>\d{{4}})", re.IGNORECASE),
    re.compile(r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
)
_WEEKDAY = "senin|selasa|rabu|kamis|jumat|jum'at|jum’at|sabtu|minggu|ahad|monday|tuesday|wednesday|thursday|" \
           "friday|saturday|sunday"
# A line that is only a date: "Jumat, 30 Oktober 2020", "Minggu (25/10/2020)", "30 Okt 2020 | 10:15 WIB".
_DATE_LINE = re.compile(
    rf"(?:(?:diterbitkan|dipublikasikan|published|posted|updated|diperbarui|tanggal)(?: on| pada)?:? )?"
    rf"(?:(?:{_WEEKDAY}),? )?\(?(?P<date>[^()|]{{6,30}}?)\)?"
    r"(?:,? (?:[|•,–—-] )?(?:pukul |jam )?\d{1,2}[.:]\d{2}(?:[.:]\d{2})?(?: ?(?:wib|wita|wit|gmt|utc)"
    r"(?: ?[+-]\d{1,2}(?::?\d{2})?)?)?)?", re.IGNORECASE)
_BODY_DATE = re.compile(r"\((\d{1,2}/\d{1,2}/\d{4})\)")  # "Minggu (25/10/2020)"


def parse_date(text: str) -> str | None:
    """ISO "YYYY-MM-DD" of a date written as "30 Oktober 2020", "Okt 30, 2020", "25/10/2020" or
    "2020-10-25"; None when it is not exactly one valid date."""
    for form in _DATE_FORMS:
        if match := form.fullmatch(text.strip()):
            month = match["m"]
            try:
                return date(int(match["y"]), _MONTHS.get(month.lower()) or int(month), int(match["d"])).isoformat()
            except ValueError:
                return None
    return None


def _date_line(text: str) -> str | None:
    """ISO date when the whole line is a publication date."""
    match = _DATE_LINE.fullmatch(text) if len(text) <= 80 else None
    return parse_date(match["date"]) if match else None


# ------------------------------------------------------------------------------------------ datelines

_PLACE = r"(?P<place>[A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){0,3})"
_DOMAIN = r"(?P<outlet>[A-Za-z0-9][\w-]*(?:\.[A-Za-z]{2,}){1,2})"
_DASH = re.compile(r" ?[–—]+ ?| -{1,2} ?|-{1,2} ")
# (pattern, whether it needs a dash when it stands alone on its line)
_DATELINES = (
    (re.compile(rf"{_PLACE} \((?P<outlet>[^()]{{2,40}})\)"), True),  # Moskow (ANTARA) –
    (re.compile(rf"{_DOMAIN} ?, ?{_PLACE}"), False),  # Detil.co,Brussels -
    (re.compile(rf"{_PLACE} ?, ?{_DOMAIN}"), False),  # JAKARTA, Saorakyat.com– / Washington, Infomalangraya.com
    (re.compile(_DOMAIN), True),  # Saorakyat.com –
    (re.compile(r"(?P<place>[A-Z]{3,}(?: [A-Z]{3,})?|[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})?)(?= [–—-])"),
     True),  # JAKARTA – / Jakarta -
)
DATELINE_MAX_CHARS = 80  # the longest real datelines ("Kuala Lumpur, Infomalangraya.com –") are ~40


def match_dateline(text: str) -> tuple[Dateline, str] | None:
    """Split a leading dateline off a paragraph: (dateline, rest); rest is "" when the line is only that."""
    head = text[:DATELINE_MAX_CHARS]
    for pattern, needs_dash in _DATELINES:
        if not (match := pattern.match(head)):
            continue
        dash = _DASH.match(text, match.end())
        cut = dash.end() if dash else match.end()
        rest = text[cut:]
        if (rest and not dash) or (not rest and needs_dash and not dash):
            continue
        groups = match.groupdict()
        return Dateline(place=groups.get("place"), outlet=groups.get("outlet"), text=text[:cut].strip()), rest
    return None


def _is_dateline_line(text: str) -> bool:
    """The whole line is a dateline ("Washington, Infomalangraya.com"), not a paragraph that starts with one."""
    return (found := match_dateline(text)) is not None and not found[1]


# ------------------------------------------------------------------------------------------ boilerplate

_NON_WORD = re.compile(r"[\W_]+")


def _key(text: str) -> str:
    """Comparison key: case and punctuation do not matter ("+ There are no comments" = "there are no comments")."""
    return _NON_WORD.sub(" ", text.casefold()).strip()


_DANGLING_CROSS_LINKS = {"baca juga", "lihat juga", "simak juga", "baca", "read", "read more", "read also"}
_WHOLE_LINES = {
    **dict.fromkeys(_DANGLING_CROSS_LINKS | {"baca selengkapnya", "selengkapnya"}, "cross-link"),
    **dict.fromkeys(("you may also like", "more from author", "related posts", "related articles", "related news",
                     "related stories", "more stories", "recommended for you", "berita terkait", "artikel terkait",
                     "berita lainnya", "artikel lainnya", "rekomendasi untuk anda"), "related-links"),
    **dict.fromkeys(("there are no comments", "no comments", "add yours", "leave a reply", "leave a comment",
                     "cancel reply", "post comment", "comments", "komentar", "tulis komentar", "kirim komentar",
                     "tinggalkan komentar", "tinggalkan balasan", "belum ada komentar", "be the first to comment",
                     "you must be logged in to post a comment"), "comment-box"),
}
_LIST_HEADERS = ("related-links", "comment-box")
_SHORT_CREDIT = r"[^ ]+(?: [^ ]+){0,7}"  # at most 8 words: a name or an outlet, never a sentence
_PATTERNS = (
    ("cross-link", re.compile(r"(?i:baca(?: juga)?|lihat(?: juga)?|simak(?: juga)?|read(?: more| also)?) ?: ?\S.*")),
    ("cross-link", re.compile(r"(?:(?i:baca|lihat|simak) (?i:juga)|READ(?: MORE| ALSO)?) [^ ].*(?<![.!?])")),
    ("read-time", re.compile(r"(?i:(?:estimated )?read(?:ing)? time\b.{0,30}|\d+ ?min(?:ute)?s? read|"
                             r"waktu baca\b.{0,30}|(?:sekitar )?\d+ menit (?:waktu )?(?:membaca|baca))")),
    ("photo-credit", re.compile(r"\(?(?i:foto|photo|sumber foto|kredit foto|ilustrasi|image|gambar) ?[:/] ?"
                                rf"{_SHORT_CREDIT}\)?")),
    ("source-credit", re.compile(rf"\(?(?i:sumber|source) ?: ?{_SHORT_CREDIT}\)?")),
    ("byline", re.compile(rf"(?i:editor|penulis|reporter|pewarta|redaktur|penyunting|kontributor|oleh|author|"
                          rf"writer) ?: ?{_SHORT_CREDIT}")),
    ("separator", re.compile(r"\*{3,}|(?:\* ){2,}\*|\(\*\)|-{3,}|_{3,}|={3,}|~{3,}")),
    ("comment-box", re.compile(r"(?i:\d+ (?:comments?|komentar))")),
)
# A photo credit closing a caption line: "... memerangi ekstremisme. Foto: Reuters/Sindonews"
_CREDIT_TAIL = re.compile(
    r"(?<![^\s.!?”\"])\(?(?:Foto|FOTO|Photo|PHOTO|Ilustrasi|ILUSTRASI) ?[:/] ?[^\s!?][^!?]{0,60}$")
# Boilerplate lines are short; photo captions, the longest kind, run a sentence or two. A longer line is a
# body paragraph (a credit glued onto one stays with it), and the bound keeps the rules cheap on huge lines.
MAX_CAPTION_CHARS = 400
_SHARE_WORDS = frozenset("share shares bagikan tweet whatsapp wa facebook fb twitter x telegram line email e mail "
                         "linkedin pinterest copy link salin tautan print cetak on ke via this artikel ini berita "
                         "messenger reddit".split())
_SHARE_TRIGGERS = frozenset("share shares bagikan tweet whatsapp facebook twitter telegram linkedin pinterest".split())
# Attached to the last paragraph: "tukasnya.***", "orang tua.(*)", "... bersama. (ant)"
_END_MARKER = re.compile(r" ?(?:\(\*\)|\*{2,}|(?<=[.!?”\"]) ?\([a-z]{2,6}(?:/[a-z]{2,6})*\))$")


def _boilerplate_reason(text: str) -> str | None:
    """Why a whole line is boilerplate, or None. Context-free rules only; see `_clean` for the rest."""
    if len(text) > MAX_CAPTION_CHARS:
        return None
    if reason := _WHOLE_LINES.get(_key(text)):
        return reason
    for reason, pattern in _PATTERNS:
        if pattern.fullmatch(text):
            return reason
    if _date_line(text):
        return "publication-date"
    if _CREDIT_TAIL.search(text):
        return "photo-credit"
    words = re.findall(r"[^\W\d_]+", text.casefold())
    if words and len(text) <= 120 and _SHARE_TRIGGERS.intersection(words) and _SHARE_WORDS.issuperset(words):
        return "share-buttons"
    return None


def _looks_like_headline(text: str) -> bool:
    """Short, not ending like a sentence. Headlines run 5-15 words; 25 words / 200 characters leaves room
    for long ones while rejecting a lede paragraph."""
    return (len(text) <= 200 and len(text.split()) <= 25 and not text.endswith((".", ",", ";", ":"))
            and any(char.isalpha() for char in text))


def _clean(units: list[_Unit], title: str | None
           ) -> tuple[str | None, Dateline | None, str | None, list[str], list[RemovedLine]]:
    """Drop boilerplate and detect title, dateline and date line.

    Returns (title, dateline, ISO date of a date line, paragraphs, removed lines).
    """
    extra: list[RemovedLine] = []
    for unit in units:
        unit.reason = unit.reason or _boilerplate_reason(unit.text)
    for previous, unit in zip(units, units[1:]):  # "Baca Juga" on its own line, the linked headline below it
        if (previous.reason == "cross-link" and _key(previous.text) in _DANGLING_CROSS_LINKS
                and unit.reason is None and _looks_like_headline(unit.text)):
            unit.reason = "cross-link"
    candidates = [unit for unit in units if unit.reason is None]
    if title is None and len(candidates) > 1 and _looks_like_headline(candidates[0].text) \
            and not _is_dateline_line(candidates[0].text):
        title, candidates[0].reason = candidates[0].text, "title"
    if title:
        for unit in units:
            if unit.reason is None and len(unit.text) <= 2 * len(title) and _key(unit.text) == _key(title):
                unit.reason = "repeated-headline"
    _mark_trailing_lists(units)

    content = [unit for unit in units if unit.reason is None]
    dateline = None
    if content:
        first = content[0]
        if title and first.text[:len(title)].casefold() == title.casefold():
            if (dash := _DASH.match(first.text, len(title))) and first.text[dash.end():]:
                extra.append(RemovedLine(line=first.line, text=first.text[:dash.end()].strip(),
                                         reason="repeated-headline"))
                first.text = first.text[dash.end():]
        if found := match_dateline(first.text):
            dateline, first.text = found
            if not first.text:
                first.reason = "dateline"
                content.pop(0)
    if content and (marker := _END_MARKER.search(content[-1].text[-40:])):
        last = content[-1]
        extra.append(RemovedLine(line=last.line, text=marker.group().strip(), reason="end-marker"))
        last.text = last.text[:len(last.text) - len(marker.group())]
    last_line = content[-1].line if content else 0
    for unit in units:
        if unit.reason == "separator" and unit.line > last_line:
            unit.reason = "end-marker"
    published = next((_date_line(unit.text) for unit in units if unit.reason == "publication-date"), None)
    removed = [RemovedLine(line=unit.line, text=unit.text, reason=unit.reason)
               for unit in units if unit.reason not in (None, "title", "dateline")]
    removed = sorted(removed + extra, key=lambda item: item.line)
    return title, dateline, published, [unit.text for unit in content], removed


def _mark_trailing_lists(units: list[_Unit]) -> None:
    """Headlines listed under a trailing "You May Also Like" or comment header are links, not article text.
    Only the tail of the article counts: after the header there must be no sentence-like paragraph."""
    start = None
    for index in range(len(units) - 1, -1, -1):
        if units[index].reason in _LIST_HEADERS:
            start = index
        elif units[index].reason is None and not _looks_like_headline(units[index].text):
            break
    header = None
    for unit in units[start:] if start is not None else []:
        if unit.reason in _LIST_HEADERS:
            header = unit.reason
        elif unit.reason is None:
            unit.reason = header


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
        units = [unit for unit in _units_from_lines(lines, reflow=False) if not (title and unit.line == 1)]
    elif suffix == ".md" or full_text.startswith("# "):
        units, title = _markdown_units("\n".join(lines))
    else:
        units, title = _units_from_lines(lines, reflow=True), None

    title, dateline, date_line, paragraphs, removed = _clean(units, title)
    if not paragraphs:
        raise InputError(f"{doc.source}: no article text found ({len(removed)} boilerplate line(s) removed)",
                         hint="pass a file that holds a news article")
    body_date = next((iso for paragraph in paragraphs for found in _BODY_DATE.finditer(paragraph)
                      if (iso := parse_date(found.group(1)))), None)
    return Article(source=doc.source, text_hash=text_hash(full_text), title=title, dateline=dateline,
                   published=date_line or published or body_date, paragraphs=paragraphs, removed=removed,
                   warnings=warnings)


def _check_size(source: str, text: str, max_chars: int) -> None:
    if len(text) > max_chars:
        raise InputError(f"{source}: {len(text):,} characters of text, over the limit of {max_chars:,}",
                         hint="raise --max-chars to process it, or split the file")
