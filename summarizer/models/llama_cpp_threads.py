"""How many threads llama.cpp runs with, chosen from the time each token takes, so that decoding on two
threads never collapses when other processes take the cores.

Why: llama.cpp's threads meet at a barrier after every operation of a token's forward pass, hundreds of
times per token. On an idle machine two threads decode twice as fast as one. When other processes keep the
cores busy, a thread waiting at the barrier for a partner the kernel has descheduled spins through the time
the partner needs. Measured (Qwen2.5-0.5B Q4_K_M, 2 cores; docs/benchmarks.md): idle, 2 threads 38-42
tokens/s, 1 thread 20; with two busy processes on the cores, 2 threads 0.7-7.8 tokens/s, 1 thread 14-15.
`OMP_WAIT_POLICY=PASSIVE` (threads sleep at the barrier at once) does not collapse under load, but halves the
idle speed (16-20 tokens/s). The short spin the product sets (`loading.prepare_openmp`) keeps the idle speed
but does not prevent the collapse. The thread count at start (`idle_cores`) reads the load average, which
lags by a minute and cannot see load that arrives mid-run.

So decoding starts with the configured threads and times every step. Now and then (sooner when steps
suddenly slow down) a few steps run with the other count (1 or all threads), and the faster one stays.
Prompt evaluation follows the same count. It suffers from the same cause, less: with two busy processes on
the cores, 2 threads evaluated a prompt at 15 tokens/s and 1 thread at 27, where decoding on 2 threads
collapsed. So decode steps, cheap to try and the first to slow down, are the signal for both; trying a
prompt chunk on one thread would cost ~0.3 s on an idle machine.

The choice never changes an output: llama.cpp gives each thread whole rows of a matrix product, so every
number is computed the same way on 1 thread or on 2 (tests/test_decode_threads.py checks it).
"""

from __future__ import annotations

import os
import time
from collections import deque
from statistics import median
from typing import Any, Callable, Sequence

FIRST_PROBE = 4  # decode steps before the first try of the other thread count
LONGEST_INTERVAL = 512  # steps between tries while the same count keeps winning (doubling from FIRST_PROBE)
PROBE_STEPS = 3  # steps per try; a step already SLOWDOWN times slower or faster ends the try at once
RECENT = 8  # the current count's cost is the median of its last RECENT steps
SLOWDOWN = 2.0  # SLOW_STEPS steps in a row this much slower than that median mean the machine changed (one
SLOW_STEPS = 2  # may be a page fault): the other count is tried at once
SWITCH_BELOW = 0.8  # the other count wins only when its median costs less than this fraction


def idle_cores() -> int:
    """Cores this process may use that other processes are not already keeping busy (at least 1): the thread
    count llama.cpp starts with. On an idle machine every core is used."""
    cores = len(os.sched_getaffinity(0))
    busy = int(os.getloadavg()[0])
    return max(1, min(cores, cores - busy + 1))


class DecodeThreads:
    """Chooses between `most` threads and 1 for single-token decode steps, by their measured wall time."""

    def __init__(self, most: int, apply: Callable[[int], None], clock: Callable[[], float] = time.perf_counter):
        """`apply(n)` makes the next decode steps use n threads."""
        self.most = most
        self.best = most
        self._apply = apply
        self._clock = clock
        self._applied = most
        self._recent: deque[float] = deque(maxlen=RECENT)
        self._interval = FIRST_PROBE
        self._countdown = FIRST_PROBE
        self._probe: list[float] | None = None  # seconds of the steps of a try in progress
        self._slow: list[float] = []  # seconds of the latest steps in a row that were SLOWDOWN times slower

    @property
    def current(self) -> int:
        """The thread count the next decode step uses."""
        return self._other() if self._probe is not None else self.best

    def _other(self) -> int:
        return 1 if self.best == self.most else self.most

    def step(self, evaluate: Callable[[], Any]) -> Any:
        """Run one decode step with the current thread count and learn from its time."""
        threads = self.current
        if threads != self._applied:
            self._apply(threads)
            self._applied = threads
        started = self._clock()
        result = evaluate()
        self._record(self._clock() - started)
        return result

    def _record(self, seconds: float) -> None:
        if self._probe is not None:
            self._probe.append(seconds)
            ratio = seconds / median(self._recent)
            if len(self._probe) >= PROBE_STEPS or not 1 / SLOWDOWN <= ratio <= SLOWDOWN:  # or already clear
                self._decide()
            return
        self._slow = self._slow + [seconds] if self._recent and seconds > SLOWDOWN * median(self._recent) else []
        if len(self._slow) == SLOW_STEPS:  # the machine changed: measure afresh against the other count now
            self._recent = deque(self._slow, maxlen=RECENT)
            self._slow, self._countdown = [], 0
        else:
            self._recent.append(seconds)
        self._countdown -= 1
        if self._countdown <= 0:
            self._probe = []

    def _decide(self) -> None:
        assert self._probe is not None
        if median(self._probe) < SWITCH_BELOW * median(self._recent):
            self.best = self._other()
            self._recent = deque(self._probe, maxlen=RECENT)
            self._interval = FIRST_PROBE
        else:
            self._interval = min(2 * self._interval, LONGEST_INTERVAL)
        self._countdown = self._interval
        self._probe = None


def govern(llm: Any, threads: int) -> DecodeThreads | None:
    """Route `llm`'s single-token evaluations (those of llama-cpp-python's own generate loop too, which calls
    `self.eval`) through a DecodeThreads whose choice prompt chunks also use, and return it. Nothing to
    choose with one thread."""
    if threads < 2:
        return None
    import llama_cpp

    context = llm._ctx.ctx
    chooser = DecodeThreads(threads, lambda n: llama_cpp.llama_set_n_threads(context, n, n))
    evaluate = llm.eval

    def eval(tokens: Sequence[int]) -> None:
        if len(tokens) == 1:
            chooser.step(lambda: evaluate(tokens))
        else:
            evaluate(tokens)

    llm.eval = eval
    return chooser
