"""Per-article time budget (--article-timeout): an article that runs too long gets an error record and the
batch goes on.

Why a timer signal and not a worker thread: a thread cannot be stopped, so an abandoned one would keep
the CPU (and the model) busy while the next article runs. SIGALRM instead raises `ArticleTimeout` in the
main thread at the next Python bytecode, which in model generation is the next decoding step, so the
article's own stack unwinds and frees everything it held. Limits: work inside one C call (one forward pass,
one regex or lxml parse over a huge input) is interrupted only when that call returns; the input caps in
ingest keep those calls short. The timer repeats every second, so a library that swallows the exception
is interrupted again. Off the main thread (e.g. inside another engine's worker) the budget is not enforced.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

from summarizer.errors import ArticleTimeout

REPEAT_SECONDS = 1.0


def _enforceable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_budget(seconds: float, source: str) -> Iterator[None]:
    """Raise ArticleTimeout (about `source`) inside the block once `seconds` have passed (0 = no limit)."""
    if not seconds or not _enforceable():
        yield
        return

    def expire(signum, frame):  # noqa: ARG001 - signal handler signature
        raise ArticleTimeout(f"{source}: stopped after the --article-timeout of {seconds:g} s",
                             hint="raise --article-timeout, or split the article")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def paused() -> Iterator[None]:
    """Stop the clock inside the block (model loading is setup, not the article's time)."""
    if not _enforceable():
        yield
        return
    remaining, interval = signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        yield
    finally:
        if remaining:
            signal.setitimer(signal.ITIMER_REAL, remaining, interval)
