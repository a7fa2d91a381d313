"""Parallel test sets for `summarizer eval`: line-aligned source and reference files (FLORES-200 style), or
whole documents as JSONL (NTREX-128's document file). Reading only; evaluate.py translates and scores."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from summarizer.errors import UsageError

# Fields of one --docs JSONL record (the NTREX-128 document file's layout).
DOC_SOURCE_FIELD = "ind_sentences"
DOC_REFERENCE_FIELD = "eng_sentences"
DOC_ID_FIELD = "doc_id"


@dataclass(frozen=True)
class EvalDocument:
    """Aligned source and reference sentences of one document (one line in line-aligned mode)."""

    doc_id: str
    sources: list[str]
    references: list[str]


@dataclass(frozen=True)
class EvalSet:
    mode: Literal["lines", "documents"]
    documents: list[EvalDocument]
    description: dict[str, Any] = field(default_factory=dict)

    @property
    def sentence_count(self) -> int:
        return sum(len(d.sources) for d in self.documents)


def _read_lines(path: Path, option: str) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {option} {path}: {exc}", hint="pass a UTF-8 text file, one segment a line") from None


def read_line_pairs(src: Path, ref: Path, limit: int | None = None) -> EvalSet:
    """Line-aligned source and reference files; `limit` keeps the first N lines.

    Raises:
        UsageError: a file is unreadable or the two files have different numbers of lines.
    """
    sources, references = _read_lines(src, "--src"), _read_lines(ref, "--ref")
    if len(sources) != len(references):
        raise UsageError(
            f"--src {src} has {len(sources)} lines but --ref {ref} has {len(references)}",
            hint="the files must be line-aligned: line N of --ref is the translation of line N of --src",
        )
    if not sources:
        raise UsageError(f"--src {src} is empty", hint="pass a file with one source segment a line")
    pairs = list(zip(sources, references))[:limit]
    documents = [EvalDocument(f"line{n}", [s], [r]) for n, (s, r) in enumerate(pairs, 1)]
    return EvalSet("lines", documents, {"src": str(src), "ref": str(ref), "lines_in_files": len(sources)})


def read_documents(path: Path, limit: int | None = None) -> EvalSet:
    """Whole documents from JSONL (one object per line with `ind_sentences` and `eng_sentences` lists of
    equal length, as in NTREX-128's document file); `limit` keeps the first N documents.

    Raises:
        UsageError: the file is unreadable, a line is not such an object, or its lists differ in length.
    """
    documents: list[EvalDocument] = []
    total = 0
    for number, line in enumerate(_read_lines(path, "--docs"), 1):
        if not line.strip():
            continue
        total += 1
        try:
            record = json.loads(line)
            sources, references = record[DOC_SOURCE_FIELD], record[DOC_REFERENCE_FIELD]
            valid = all(isinstance(x, list) and all(isinstance(s, str) for s in x) for x in (sources, references))
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            raise UsageError(
                f"--docs {path} line {number} is not a document record",
                hint=f"each line must be a JSON object with string lists {DOC_SOURCE_FIELD!r} and {DOC_REFERENCE_FIELD!r}",
            )
        if len(sources) != len(references) or not sources:
            raise UsageError(
                f"--docs {path} line {number}: {len(sources)} source sentences but {len(references)} references",
                hint="each document's source and reference lists must be non-empty and sentence-aligned",
            )
        if limit is None or len(documents) < limit:
            documents.append(EvalDocument(str(record.get(DOC_ID_FIELD) or f"doc{number}"), sources, references))
    if not documents:
        raise UsageError(f"--docs {path} holds no documents", hint="pass a JSONL file, one document a line")
    return EvalSet("documents", documents, {"docs": str(path), "documents_in_file": total})
