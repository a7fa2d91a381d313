"""The decode thread count follows the measured step time (models/llama_cpp_threads.py), and never changes a reply."""

from __future__ import annotations

import importlib.util
import itertools
import os

import pytest

from summarizer.config import Config
from summarizer.models import load_chat_model, resolve_model
from summarizer.models import llama_cpp_threads, loading
from summarizer.models.base import DecodeOptions
from summarizer.models.llama_cpp_threads import LONGEST_INTERVAL, DecodeThreads

IDLE = {2: 0.025, 1: 0.050}  # seconds per token on two idle cores (docs/benchmarks.md, rounded)
BUSY = {2: 1.0, 1: 0.070}  # two other busy processes: two threads collapse


class Machine:
    """A clock whose decode steps cost what `costs` says for the thread count last applied."""

    def __init__(self, costs: dict[int, float]):
        self.costs, self.now, self.threads, self.switches = costs, 0.0, 2, 0

    def clock(self) -> float:
        return self.now

    def apply(self, threads: int) -> None:
        self.threads, self.switches = threads, self.switches + 1

    def decode(self, chooser: DecodeThreads, steps: int) -> float:
        started = self.now
        for _ in range(steps):
            chooser.step(self._work)
        return self.now - started

    def _work(self) -> None:
        self.now += self.costs[self.threads]


def test_an_idle_machine_keeps_both_threads_and_tries_one_ever_more_rarely():
    machine = Machine(IDLE)
    chooser = DecodeThreads(2, machine.apply, machine.clock)
    seconds = machine.decode(chooser, 2000)
    assert chooser.best == 2
    assert seconds < 1.02 * 2000 * IDLE[2]  # the tries of one thread cost under 2%
    assert machine.switches <= 2 * 10  # tries at 4, 8, 16, ... 512 steps apart, not every few steps


def test_two_threads_that_collapse_under_load_give_way_to_one_within_a_few_steps():
    machine = Machine(BUSY)
    chooser = DecodeThreads(2, machine.apply, machine.clock)
    seconds = machine.decode(chooser, 1000)
    assert chooser.best == 1
    assert seconds < 1.3 * 1000 * BUSY[1]  # against 14x slower with two threads throughout
    first_switch = Machine(BUSY)
    early = DecodeThreads(2, first_switch.apply, first_switch.clock)
    first_switch.decode(early, 5)  # four steps on two threads, one on one
    assert early.best == 1


def test_load_that_arrives_mid_run_is_noticed_at_once_and_its_end_within_the_longest_interval():
    machine = Machine(IDLE)
    chooser = DecodeThreads(2, machine.apply, machine.clock)
    machine.decode(chooser, 1500)
    assert chooser.best == 2
    machine.costs = BUSY
    machine.decode(chooser, 3)  # two slow steps, then one on one thread
    assert chooser.best == 1
    machine.costs = IDLE
    machine.decode(chooser, LONGEST_INTERVAL + 10)
    assert chooser.best == 2


def test_noise_does_not_switch_to_the_slower_count():
    jitter = itertools.cycle([1.0, 1.3, 0.9, 1.1, 2.5, 1.0, 0.95])
    machine = Machine(IDLE)
    machine._work = lambda: setattr(machine, "now", machine.now + machine.costs[machine.threads] * next(jitter))
    chooser = DecodeThreads(2, machine.apply, machine.clock)
    machine.decode(chooser, 3000)
    assert chooser.best == 2


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None and not os.environ.get("CI"),
                    reason="llama-cpp-python not installed (pip install -e '.[gguf]')")
def test_replies_are_the_same_whatever_thread_count_each_step_runs_with(tiny_gguf_long_path, tmp_path, monkeypatch):
    import llama_cpp

    def load(threads: int):
        config = Config(task="summarize", cache_dir=tmp_path, threads=threads, use_cache=False)
        return load_chat_model(resolve_model(str(tiny_gguf_long_path), "summary", config), config)

    conversations = [[{"role": "system", "content": "Translate to English."},
                      {"role": "user", "content": text}]
                     for text in ("Hujan deras di Jakarta pada hari Senin.", "Harga beras naik 10 persen.")]
    options = DecodeOptions(max_new_tokens=24, min_new_tokens=24)
    alone = load(1).generate(conversations, options)

    applied: list[int] = []
    set_threads = llama_cpp.llama_set_n_threads
    monkeypatch.setattr(llama_cpp, "llama_set_n_threads",
                        lambda context, n, batch: applied.append(n) or set_threads(context, n, batch))
    alternating = itertools.cycle([1, 2])
    monkeypatch.setattr(llama_cpp_threads.DecodeThreads, "current", property(lambda self: next(alternating)))
    switching = load(2)
    assert switching.generate(conversations, options) == alone
    assert len(applied) >= 40 and set(applied) == {1, 2}  # every step changed the count


@pytest.mark.parametrize("user_setting", [None, ("OMP_WAIT_POLICY", "ACTIVE"), ("GOMP_SPINCOUNT", "0")])
def test_openmp_waits_briefly_unless_the_user_chose(user_setting, monkeypatch):
    """torch and llama.cpp share one libgomp: a short spin keeps llama.cpp's barriers fast where PASSIVE halved
    its speed; a user's own OpenMP setting is left as it is."""
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    if user_setting:
        monkeypatch.setenv(*user_setting)
    loading.prepare_openmp()
    if user_setting:
        assert os.environ[user_setting[0]] == user_setting[1]
        assert ({"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"} - {user_setting[0]}).pop() not in os.environ
    else:
        assert os.environ["GOMP_SPINCOUNT"] == str(loading.OPENMP_SPIN_COUNT)
        assert "OMP_WAIT_POLICY" not in os.environ
