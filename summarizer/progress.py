"""Progress on stderr, the one home for progress bars: the batch's article bar (articles done, the current
article and stage, sentences translated, rate, ETA) and a plain counter for `summarizer eval`. Both are
rich bars on stderr, so stdout carries only results."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator

# Share of one article's work each stage stands for, so the bar moves within a single article. Rough:
# translation dominates `translate`; the LLM dominates `summarize` (docs/benchmarks.md).
STAGE_SPANS = {
    "translate": {"ingest": (0.0, 0.02), "translate": (0.02, 0.95), "check": (0.95, 1.0)},
    "summarize": {"ingest": (0.0, 0.01), "translate": (0.01, 0.25), "check": (0.25, 0.27), "summarize": (0.27, 1.0)},
}


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


@contextmanager
def counter(label: str, total: int) -> Iterator[Callable[[int], None] | None]:
    """A bar counting `total` steps (e.g. sentences) while stderr is a terminal; no callback otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.advance(task, done)
