"""Render stage: records as JSON Lines, JSON, an analyst brief in Markdown, or plain English text; and the
`--out DIR` writer, which never leaves a half-written file behind."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Literal, TextIO

from summarizer.atomic import atomic_write
from summarizer.errors import OutputError
from summarizer.schema import Issue, Record, Summary

Format = Literal["jsonl", "json", "md", "text"]
EXTENSIONS = {"jsonl": ".json", "json": ".json", "md": ".md", "text": ".txt"}


# Characters JSON leaves raw inside strings but that many line readers (Python's str.splitlines, some
# editors and log tools) treat as line breaks: one record, one line, whatever the article contains.
_LINE_BREAKS_JSON_KEEPS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def line_safe_json(text: str) -> str:
    """JSON text with the line-break characters above escaped (still the same JSON value)."""
    return text.translate(_LINE_BREAKS_JSON_KEEPS)


def record_json(record: Record, indent: int | None = None) -> str:
    return line_safe_json(record.model_dump_json(indent=indent))


class StreamWriter:
    """Writes records to a stream as they finish, so a pipe consumer sees each article immediately."""

    def __init__(self, stream: TextIO, fmt: Format):
        self.stream, self.fmt, self.count = stream, fmt, 0

    def write(self, record: Record) -> None:
        if self.fmt == "jsonl":
            text = record_json(record) + "\n"
        elif self.fmt == "json":
            text = ("[\n" if self.count == 0 else ",\n") + record_json(record, indent=2)
        else:
            text = ("\n---\n\n" if self.count else "") + self._header(record) + render_text(record, self.fmt)
        self._emit(text)
        self.count += 1

    def _header(self, record: Record) -> str:
        """Plain text names each article's source and title, so a folder's output can be told apart
        (Markdown briefs already open with both)."""
        if self.fmt != "text":
            return ""
        return f"==> {record.source}" + (f" · {record.title}" if record.title else "") + " <==\n\n"

    def close(self) -> None:
        if self.fmt == "json":
            self._emit("[]\n" if self.count == 0 else "\n]\n")

    def _emit(self, text: str) -> None:
        """Write and flush. A closed pipe stays a BrokenPipeError (the CLI exits quietly); any other
        failure (disk full behind a redirect) is an OutputError."""
        try:
            self.stream.write(text)
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(f"cannot write the output: {exc.strerror or exc}",
                              hint="finished articles are cached, a rerun resumes") from None


class DirectoryWriter:
    """`--out DIR`: one file per article plus index.jsonl. Every article file is written to a temp file and
    renamed; its index line is appended (one write call) only after that, so after a kill the index lists
    exactly the finished files, and a rerun rewrites it from the start with no duplicate or missing line.

    Raises OutputError (exit 2) when the directory cannot be created or written.
    """

    def __init__(self, directory: Path, fmt: Format):
        self.directory, self.fmt = Path(directory), fmt
        self._index = None
        self._names: set[str] = set()  # files written by this run: same-named articles must not overwrite
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._index = os.open(self.directory / "index.jsonl",
                                  os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | getattr(os, "O_CLOEXEC", 0),
                                  0o666)
        except OSError as exc:
            raise _output_error(self.directory, exc) from None

    def write(self, record: Record) -> None:
        name = _file_name(record, self.fmt)
        stem, suffix = name[:-len(EXTENSIONS[self.fmt])], EXTENSIONS[self.fmt]
        number = 1
        while name in self._names:  # a/x.txt and b/x.txt with the same text, or both failing
            number += 1
            name = f"{stem}-{number}{suffix}"
        self._names.add(name)
        body = record_json(record, indent=2) + "\n" if self.fmt in ("json", "jsonl") else render_text(record, self.fmt)
        entry = line_safe_json(json.dumps({
            "source": record.source, "source_b64": record.source_b64, "id": record.id, "file": name,
            "error": record.error.model_dump() if record.error else None, "warnings": len(record.warnings),
        }, ensure_ascii=False)) + "\n"
        try:
            atomic_write(self.directory / name, body)
            os.write(self._index, entry.encode("utf-8"))
        except OSError as exc:
            raise _output_error(self.directory, exc) from None

    def close(self) -> None:
        if self._index is not None:
            try:
                os.fsync(self._index)
            except OSError:
                pass
            os.close(self._index)
            self._index = None


def _output_error(directory: Path, exc: OSError) -> OutputError:
    reason = "it exists and is not a directory" if isinstance(exc, (FileExistsError, NotADirectoryError)) \
        else exc.strerror or str(exc)
    return OutputError(f"cannot write to --out {directory}: {reason}",
                       hint="choose a writable directory; finished articles are cached, a rerun resumes")


# File names are at most 255 bytes; the temp name adds ~20 characters, and \w allows 4-byte characters.
MAX_STEM_CHARS = 48


def _file_name(record: Record, fmt: Format) -> str:
    stem = "stdin" if record.source == "-" else Path(record.source).stem
    stem = re.sub(r"[^\w.-]+", "_", stem).strip("._")[:MAX_STEM_CHARS] or "article"
    return f"{stem}-{(record.id or 'error')[:8]}{EXTENSIONS[fmt]}"


# ----------------------------------------------------------------------------- human formats


def render_text(record: Record, fmt: Format) -> str:
    return render_markdown(record) if fmt == "md" else render_plain(record)


def render_plain(record: Record) -> str:
    """Plain English: the translation (and, when summarised, the summary first)."""
    if record.error:
        message = record.error.message
        return f"error: {message}\n" if message.startswith(record.source) else f"[{record.source}] error: {message}\n"
    parts: list[str] = []
    if record.summary:
        s = record.summary
        parts += [s.headline, s.one_line, s.summary]
        parts += ["\n".join(f"- {point.text}" for point in s.key_points)] if s.key_points else []
    elif record.translation:
        if record.translation.title:
            parts.append(record.translation.title)
        parts.append(record.translation.text)
    return "\n\n".join(p for p in parts if p) + "\n"


def render_markdown(record: Record) -> str:
    """An analyst brief: what the article says, where each fact comes from, and what to double-check."""
    if record.error:
        return f"## {record.source}\n\n**Error** ({record.error.type}): {record.error.message}\n"
    s = record.summary
    heading = (s.headline if s else None) or (record.translation.title if record.translation else None)
    lines = [f"# {heading or record.title or record.source}", "", _byline(record), ""]
    if s:
        lines += _summary_markdown(s)
    elif record.translation:
        lines += [record.translation.text, ""]
    if record.warnings:
        lines += [f"## Warnings ({len(record.warnings)})", "", *_warning_lines(record.warnings), ""]
    return "\n".join(lines)


# Distinct messages shown per warning code; the rest are counted. With ~12 codes a brief's warnings stay on
# one screen however many sentences a bad translation spoils.
WARNING_EXAMPLES = 3


def _warning_lines(warnings: list[Issue]) -> list[str]:
    """One line per warning code: how many, and its first distinct messages with the sentences they hit."""
    by_code: dict[str, dict[str, list[str]]] = {}
    for w in warnings:
        places = by_code.setdefault(w.code, {}).setdefault(w.message, [])
        if w.sentence and w.sentence not in places:
            places.append(w.sentence)
    lines = []
    for code, messages in by_code.items():
        count = sum(1 for w in warnings if w.code == code)
        shown = [f"{message}{_cite(places[:4])}{' …' if len(places) > 4 else ''}"
                 for message, places in list(messages.items())[:WARNING_EXAMPLES]]
        more = len(messages) - WARNING_EXAMPLES
        lines.append(f"- **{code}** ×{count}: " + "; ".join(shown) + (f"; and {more} more" if more > 0 else ""))
    return lines


def _byline(record: Record) -> str:
    bits = []
    if record.dateline:
        bits.append(", ".join(b for b in (record.dateline.place, record.dateline.outlet) if b) or record.dateline.text)
    if record.published:
        bits.append(record.published)
    bits.append(f"source: `{record.source}`")
    if record.title:
        bits.append(f"original title: *{record.title}*")
    return " · ".join(bits)


def _cite(sources: list[str]) -> str:
    return f" [{', '.join(sources)}]" if sources else ""


def _cell(value: object) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return out + [""]


def _summary_markdown(s: Summary) -> list[str]:
    lines = [f"> {s.one_line}", "", s.summary, ""]
    if s.key_points:
        lines += ["## Key points", ""]
        lines += [f"- {p.text}{_cite(p.sources)}{_flags(p.issues)}" for p in s.key_points]
        lines.append("")
    sections = [
        ("People", ["Name", "Role", "Affiliation", "Sources"],
         [[p.name, p.role, p.affiliation, ", ".join(p.sources) + _flags(p.issues)] for p in s.people]),
        ("Organizations", ["Name", "Sources"], [[o.name, ", ".join(o.sources) + _flags(o.issues)] for o in s.organizations]),
        ("Locations", ["Name", "Sources"], [[loc.name, ", ".join(loc.sources) + _flags(loc.issues)] for loc in s.locations]),
        ("Numbers", ["Value", "Unit", "What", "Sources"],
         [[_number(n.value), n.unit, n.what, ", ".join(n.sources) + _flags(n.issues)] for n in s.numbers]),
        ("Dates", ["Date", "ISO", "What", "Sources"],
         [[d.text, d.iso, d.what, ", ".join(d.sources) + _flags(d.issues)] for d in s.dates]),
    ]
    for title, header, rows in sections:
        if rows:
            lines += [f"## {title}", "", *_table(header, rows)]
    if s.quotes:
        lines += ["## Quotes", ""]
        for q in s.quotes:
            lines += [f"> “{q.text_en}”", f"> — {q.speaker or 'unattributed'}{_cite(q.sources)}{_flags(q.issues)}",
                      f"> *{q.text_id}*", ""]
    if s.topics:
        lines += [f"**Topics:** {', '.join(s.topics)}", ""]
    if s.grounding:
        g = s.grounding
        lines += [f"*Grounding ({g.mode}): {g.checked} items checked, {g.unsupported} unsupported, "
                  f"{len(g.dropped)} dropped, {len(g.rewritten)} rewritten.*", ""]
    return lines


def _flags(issues: list[str]) -> str:
    return f" ⚠ {'; '.join(issues)}" if issues else ""


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"
