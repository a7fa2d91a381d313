"""Running the pipeline over many articles: progress on stderr, records out as each one finishes, the cache
closed and the --out index written as it goes, also when interrupted. One bad article never stops the others:
not a failing input, not one over its time budget (--article-timeout), not a record that cannot be
serialised. What stops the batch is what would fail every later article too: a setup error, an output that
cannot be written (OutputError, exit 2), a closed stdout (BrokenPipeError) or an interrupt."""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Protocol, Sequence

from pydantic_core import PydanticSerializationError

from summarizer.config import Config
from summarizer.sources import InputDocument, printable_source
from summarizer.pipeline import Runtime, process_articles
from summarizer.render import DirectoryWriter, Format, StreamWriter
from summarizer.schema import ErrorInfo, Record

# Share of one article's work each stage stands for, so the bar moves within a single article. Rough:
# translation dominates `translate`; the LLM dominates `summarize` (docs/benchmarks.md).
STAGE_SPANS = {
    "translate": {"ingest": (0.0, 0.02), "translate": (0.02, 0.95), "check": (0.95, 1.0)},
    "summarize": {"ingest": (0.0, 0.01), "translate": (0.01, 0.25), "check": (0.25, 0.27), "summarize": (0.27, 1.0)},
}


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
    _resolve_models(runtime, config)
    process = engine.start(docs, config, runtime) if engine else None
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
        getattr(runtime, role)


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


class ProgressBar:
    """The stderr bar: articles done/total, then the current article, its stage, sentences translated,
    rate and ETA. Progress within an article (stage spans, sentences) moves it even for one article."""

    def __init__(self, task: str, total: int, enabled: bool):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.spans = STAGE_SPANS["summarize" if task == "summarize" else "translate"]
        self.total, self.done, self.enabled = total, 0, enabled
        self.current_stage, self.stage_started = "", time.monotonic()
        self.started = time.monotonic()
        self.progress = Progress(
            TextColumn("{task.fields[count]}"), BarColumn(bar_width=20), TextColumn("{task.fields[now]}"),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(stderr=True, soft_wrap=True), disable=not enabled, transient=False,
        )
        self.task = self.progress.add_task(task, total=total, count=self._count(), now="", rate="")
        self.group: list[str] = []
        self.group_done = 0
        self.in_flight: dict[str, float] = {}

    def __enter__(self) -> "ProgressBar":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def print(self, line: str) -> None:
        """A whole line on stderr, above the bar, never wrapped or read as markup."""
        if self.enabled:
            self.progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            print(line, file=sys.stderr, flush=True)

    def start_group(self, sources: list[str]) -> None:
        """The articles about to be processed together (one, or a summary batch)."""
        self.group = sources
        self.group_done = self.done
        self.in_flight = {source: 0.0 for source in sources}

    def stage(self, source: str, stage: str, done: int, total: int) -> None:
        """The pipeline's progress callback: `source` is at `stage`, `done` of `total` sentences."""
        if not self.enabled:
            return
        now = time.monotonic()
        if stage != self.current_stage:
            self.current_stage, self.stage_started = stage, now
        start, end = self.spans.get(stage, (0.0, 0.0))
        self.in_flight[source] = start + (end - start) * (done / total if total else 0.0)
        detail, rate = "", self._rate()
        if stage == "translate" and total:
            detail = f" {done}/{total} sentences"
            if done and now > self.stage_started:
                rate = f"{done / (now - self.stage_started):.1f} sentences/s"
        where = _short(source) if stage != "summarize" or len(self.group) == 1 else f"{len(self.group)} articles"
        self.progress.update(self.task, completed=self.group_done + sum(self.in_flight.values()),
                             count=self._count(), now=f"{where} · {stage}{detail}", rate=rate)

    def finish_article(self) -> None:
        """The next record of the group is out (records come in group order)."""
        self.done += 1
        if self.in_flight:
            self.in_flight.pop(next(iter(self.in_flight)))
        if self.enabled:
            self.progress.update(self.task, completed=self.done + sum(self.in_flight.values()),
                                 count=self._count(), rate=self._rate())

    def _count(self) -> str:
        return f"{self.done}/{self.total} articles"

    def _rate(self) -> str:
        elapsed = time.monotonic() - self.started
        return f"{elapsed / self.done:.1f} s/article" if self.done else ""


def _short(source: str, width: int = 32) -> str:
    return source if len(source) <= width else "…" + source[-(width - 1):]
