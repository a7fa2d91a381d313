"""The generated hostile-input corpus (tests/hostile_corpus.py) through both commands with tiny models, in real
subprocesses: one record per input (or a counted skip), the expected error records, no traceback, every
stderr line one `summarizer:` message, and bounded time per input."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hostile_corpus import build, build_big_folder
from summarizer.sources import printable_source
from test_cli import cli_env

# Seconds: the bound per input in these runs. Tiny models answer in ~1 s on an idle core, but this suite
# shares 2 cores with other jobs; the point is that every input ends, not how fast.
ARTICLE_TIMEOUT = 60


def env_for(cache: Path) -> dict[str, str]:
    """The CLI's environment with one torch thread: on a shared, loaded machine two spinning OpenMP threads
    make the tiny models ~10x slower."""
    return cli_env(cache, OMP_NUM_THREADS="1")


def test_the_corpus_has_at_least_40_cases(tmp_path):
    cases = build(tmp_path / "corpus")
    assert len(cases) >= 40 and len({case.path for case in cases}) == len(cases)


def run(args: list[str], env: dict[str, str], timeout: float) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "summarizer", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)
    return done, time.monotonic() - started


def check_clean_stderr(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    for line in stderr.splitlines():
        assert line.startswith("summarizer: "), line


@pytest.mark.slow
@pytest.mark.parametrize("command", ["translate", "summarize"])
def test_hostile_corpus_through_both_commands(tmp_path, tiny_marian_dir, tiny_qwen2_long_dir, command):
    root = tmp_path / "corpus"
    cases = build(root)
    models = ["--mt-model", str(tiny_marian_dir)] + (["--llm", str(tiny_qwen2_long_dir)] if command == "summarize" else [])
    done, elapsed = run([command, str(root), *models, "--article-timeout", str(ARTICLE_TIMEOUT)],
                        env_for(tmp_path / "cache"), timeout=1800)
    assert done.returncode == 1, done.stderr  # some inputs are bad: exit 1, never a crash
    check_clean_stderr(done.stderr)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    by_source = {record["source"]: record for record in records}
    assert len(by_source) == len(records)  # no duplicate
    expected = {printable_source(str(root / case.path)): case for case in cases if case.expect != "skipped"}
    assert set(by_source) == set(expected)  # none lost
    for source, case in expected.items():
        if case.expect == "error":
            assert by_source[source]["error"], case.name
    assert "skipped" in done.stderr
    worst = max(sum(record["timings"].values()) for record in records)
    # Translation stages get one budget per article; summaries decoded together share the sum of theirs.
    assert worst < (2 if command == "summarize" else 1) * ARTICLE_TIMEOUT + 15
    good = sum(record["error"] is None for record in records)
    print(f"\n{command}: {len(cases)} cases, {len(records)} records ({good} good), worst {worst:.1f} s per input, "
          f"{elapsed:.0f} s in all")


@pytest.mark.slow
def test_a_2000_file_folder_through_both_commands(tmp_path, tiny_marian_dir, tiny_qwen2_long_dir):
    root = build_big_folder(tmp_path / "big")
    env = env_for(tmp_path / "cache")
    base = [str(root), "--mt-model", str(tiny_marian_dir), "--quiet"]
    translated, t_seconds = run(["translate", *base, "--out", str(tmp_path / "out")], env, timeout=1800)
    assert translated.returncode == 0, translated.stderr
    index = (tmp_path / "out" / "index.jsonl").read_text().splitlines()
    assert len(index) == 2000 and len({json.loads(line)["file"] for line in index}) == 2000
    summarized, s_seconds = run(["summarize", *base, "--llm", str(tiny_qwen2_long_dir)], env, timeout=1800)
    assert summarized.returncode in (0, 1), summarized.stderr
    check_clean_stderr(summarized.stderr)
    # JSON Lines are split at "\n" only: a record may hold U+2028 or U+0085 inside a string (valid JSON),
    # which str.splitlines would also split at.
    assert len(summarized.stdout.rstrip("\n").split("\n")) == 2000
    print(f"\n2,000 files: translate {t_seconds:.0f} s, summarize {s_seconds:.0f} s")
