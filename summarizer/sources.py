"""Where articles come from and how their bytes become text: discovering files and stdin, size limits,
decoding (UTF-8, cp1252 fallback), line normalisation and the text hash. Format-specific reading is in
formats.py, boilerplate removal in boilerplate.py; ingest.py puts them together."""

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
from pathlib import Path
from typing import BinaryIO

from summarizer.errors import InputError
from summarizer.schema import Issue

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


