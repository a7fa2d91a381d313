"""Running the pipeline over many articles: progress on stderr, records out as each one finishes, the cache
closed and the --out index written even when interrupted. One bad article never stops the others."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from summarizer.config import Config
from summarizer.ingest import InputDocument
from summarizer.pipeline import Runtime, process_articles
from summarizer.render import DirectoryWriter, Format, StreamWriter


def run_batch(docs: Sequence[InputDocument], config: Config, *, fmt: Format = "jsonl", out: Path | None = None,
              quiet: bool = False, show_progress: bool = False) -> int:
    """Process `docs` in order and emit each record as soon as it is ready. Returns the number that failed.

    Setup errors (e.g. a model that is not available) propagate: they would fail every article alike.
    """
    runtime = Runtime.for_config(config)
    # Resolve models up front: a missing model is a setup error (exit 2) before any work is done.
    runtime.mt  # noqa: B018 - resolving is the point
    if config.task == "summarize":
        runtime.llm  # noqa: B018
    writer = DirectoryWriter(out, fmt) if out else StreamWriter(sys.stdout, fmt)
    failed = 0
    progress = _progress(show_progress)
    try:
        with progress:
            task = progress.add_task(config.task, total=len(docs))
            size = runtime.summary_batch_size if config.task == "summarize" else 1
            for start in range(0, len(docs), size):
                group = docs[start:start + size]
                progress.update(task, description=f"{config.task} {_short(group[0].source)}")
                for doc, record in zip(group, process_articles(group, config, runtime)):
                    writer.write(record)
                    if record.error:
                        failed += 1
                        if not quiet:
                            progress.console.print(f"summarizer: {doc.source}: {record.error.message}",
                                                   markup=False, highlight=False)
                    progress.advance(task)
    finally:
        writer.close()
        runtime.close()
    return failed


def _short(source: str, width: int = 40) -> str:
    return source if len(source) <= width else "…" + source[-(width - 1):]


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, disable=not enabled, transient=False,
    )
