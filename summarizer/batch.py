"""Running the pipeline over many articles: progress on stderr, records out as each one finishes, the cache
closed and the --out index written as it goes, also when interrupted. One bad article never stops the others:
not a failing input, not one over its time budget (--article-timeout), not a record that cannot be
serialised. What stops the batch is what would fail every later article too: a setup error, an output that
cannot be written (OutputError, exit 2), a closed stdout (BrokenPipeError) or an interrupt."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Protocol, Sequence

from pydantic_core import PydanticSerializationError

from summarizer.config import Config
from summarizer.sources import InputDocument, printable_source
from summarizer.pipeline import process_articles
from summarizer.runtime import Runtime
from summarizer.progress import ProgressBar
from summarizer.render import DirectoryWriter, Format, StreamWriter
from summarizer.schema import ErrorInfo, Record


class Engine(Protocol):
    """Somewhere else to run the pipeline (e.g. ray_engine.RayEngine): `start` returns a function that gives
    the records of a group of documents, called on consecutive groups in input order; `close` stops it,
    keeping finished work cached."""

    def start(self, docs: Sequence[InputDocument], config: Config,
              runtime: Runtime) -> Callable[[Sequence[InputDocument]], list[Record]]: ...

    def close(self) -> None: ...


def run_batch(docs: Sequence[InputDocument], config: Config, *, fmt: Format = "jsonl", out: Path | None = None,
              quiet: bool = False, show_progress: bool = False, engine: Engine | None = None) -> int:
    """Process `docs` in order and emit each record as soon as it is ready. Returns the number that failed.

    Setup errors (e.g. a model that is not available) propagate: they would fail every article alike.
    """
    started = time.monotonic()
    runtime = Runtime.for_config(config)
    # When no input exists every record is "no such file": no model to resolve (or download), no engine to start.
    inputs_exist = any(doc.path is None or os.path.lexists(doc.path) for doc in docs)
    if inputs_exist:
        _resolve_models(runtime, config)
    process = engine.start(docs, config, runtime) if engine and inputs_exist else None
    writer = DirectoryWriter(out, fmt) if out else StreamWriter(sys.stdout, fmt)
    bar = ProgressBar(config.task, len(docs), enabled=show_progress)
    tally = Tally()
    try:
        with bar:
            # Summaries are decoded a group at a time on batching backends; records still go out in order.
            size = runtime.summary_batch_size if config.task == "summarize" else 1
            for start in range(0, len(docs), size):
                group = docs[start:start + size]
                bar.start_group([doc.source for doc in group])
                records = process(group) if process else process_articles(group, config, runtime, progress=bar.stage)
                for record in records:
                    record = _write(writer, record)
                    tally.add(record)
                    if record.error and not quiet:
                        bar.print(error_line(record))
                    bar.finish_article()
    finally:
        try:
            if engine:
                engine.close()
            writer.close()
        finally:
            runtime.close()
        if not quiet:
            bar.print(tally.final_line(str(out) if out else "stdout", time.monotonic() - started))
    return tally.failed


def _write(writer: DirectoryWriter | StreamWriter, record: Record) -> Record:
    """Write `record`; one that cannot be serialised is replaced by an error record, so it is not lost
    silently and the records after it are still written. Returns what was written."""
    try:
        writer.write(record)
        return record
    except (ValueError, PydanticSerializationError) as exc:  # UnicodeError is a ValueError
        fallback = Record(id=record.id, source=printable_source(record.source), source_b64=record.source_b64,
                          error=ErrorInfo(type="OutputError", message=f"record could not be serialised: {exc}"))
        writer.write(fallback)
        return fallback


def _resolve_models(runtime: Runtime, config: Config) -> None:
    """Resolve models up front: a missing model is a setup error (exit 2) before any work is done. Models
    given as local paths go first, so a mistyped .gguf path fails before the other model is downloaded."""
    from summarizer.models.resolve import looks_like_path

    specs = {"mt": config.mt_model, **({"llm": config.llm} if config.task == "summarize" else {})}
    for role in sorted(specs, key=lambda role: not looks_like_path(specs[role])):
        getattr(runtime, f"resolved_{role}")


def error_line(record: Record) -> str:
    """One line per failed article, naming the file once (messages often start with it already)."""
    assert record.error is not None
    message = record.error.message
    return f"summarizer: {message}" if message.startswith(record.source) else f"summarizer: {record.source}: {message}"


class Tally:
    """What the final stderr line reports: articles, failures, warnings by code."""

    def __init__(self) -> None:
        self.articles = self.failed = 0
        self.warnings: Counter[str] = Counter()

    def add(self, record: Record) -> None:
        self.articles += 1
        self.failed += record.error is not None
        self.warnings.update(warning.code for warning in record.warnings)

    def final_line(self, output: str, seconds: float) -> str:
        codes = ", ".join(f"{code} {count}" for code, count in self.warnings.most_common())
        total = sum(self.warnings.values())
        warnings = f"{total} warning{'' if total == 1 else 's'}" + (f" ({codes})" if codes else "")
        noun = "article" if self.articles == 1 else "articles"
        return (f"summarizer: {self.articles} {noun}, {self.failed} failed, {warnings}; "
                f"output: {output}; {seconds:.1f} s")


