"""Smoke test of the benchmark script (bench/bench.py) with the tiny Marian model and tiny counts: every
section it can run here runs end to end and writes a complete report. Nothing here asserts on speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import report  # noqa: E402  (bench/report.py)


def test_word_agreement_measures_the_shared_greedy_prefix():
    result = report.word_agreement(["a b c d", "x y", ""], ["a b z d", "x y", ""])
    assert result["exact_match"] == pytest.approx(2 / 3)
    assert result["prefix_agreement"] == pytest.approx((2 / 4 + 1 + 1) / 3)


def test_speedup_and_agreement_are_relative_to_the_same_run():
    runs = {
        "naive": {"source_tokens_per_second": 10.0, "outputs": ["a b", "c"]},
        "engine-fp32": {"source_tokens_per_second": 40.0, "outputs": ["a b", "c"]},
        "engine-int8": {"source_tokens_per_second": 80.0, "outputs": ["a x", "c"]},
        "engine-bf16": {"error": "failed"},
    }
    report.add_ratios_and_agreement(runs)
    assert runs["engine-fp32"]["speedup_vs_naive"] == pytest.approx(4.0)
    assert runs["engine-int8"]["speedup_vs_naive"] == pytest.approx(8.0)
    assert runs["engine-int8"]["agreement_with_engine_fp32"]["exact_match"] == pytest.approx(0.5)
    assert runs["naive"]["agreement_with_engine_fp32"]["exact_match"] == 1.0
    assert "speedup_vs_naive" not in runs["engine-bf16"]


def _articles(folder: Path) -> Path:
    folder.mkdir()
    (folder / "hujan.txt").write_text(
        "Hujan Deras di Kota\n\nHujan deras turun sejak pagi di pusat kota. Warga menunggu di halte selama 2 jam.\n",
        encoding="utf-8")
    (folder / "pasar.txt").write_text(
        "Pasar Baru Dibuka\n\nPemerintah kota membuka pasar baru pada Senin. Pasar itu memiliki 150 kios.\n",
        encoding="utf-8")
    return folder


@pytest.mark.slow
def test_bench_script_runs_every_section_with_a_tiny_model(tmp_path, tiny_marian_dir):
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUMMARIZER_")}
    command = [
        sys.executable, str(BENCH / "bench.py"), "--quick", "--sections", "mt,cli,quality", "--shapes", "none",
        "--mt-model", str(tiny_marian_dir), "--llm", "none", "--configs", "naive,engine-fp32",
        "--sentences", "2", "--new-tokens", "3", "--quality-sentences", "2", "--threads", "1",
        "--seeds", str(_articles(tmp_path / "articles")), "--work-dir", str(tmp_path / "work"), "--json", str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(out.read_text(encoding="utf-8"))

    [mt] = results["mt"]
    assert set(mt["runs"]) == {"naive", "engine-fp32"}
    for run in mt["runs"].values():
        assert "error" not in run, run
        assert run["sentences"] == 2 and len(run["outputs"]) == 2 and run["peak_rss_mb"] > 0
        assert run["new_tokens_per_sentence"] == 3
    assert mt["runs"]["engine-fp32"]["speedup_vs_naive"] > 0
    assert "agreement_with_engine_fp32" in mt["runs"]["naive"]

    cli = results["cli"]
    assert len(cli["help_seconds"]) == 3
    assert set(cli["commands"]) == {"translate"}  # --llm none: no summarize runs
    assert cli["articles"] == ["hujan.txt"]  # --quick: the first article only
    runs = cli["commands"]["translate"]
    assert runs["cold"]["articles"] == runs["cached"]["articles"] == 1
    assert runs["cold"]["failed"] == runs["cached"]["failed"] == 0

    [quality] = results["quality"]
    assert quality["comparison"]["real_weights"] is True  # passed with --mt-model: treated as real weights
    assert quality["runs"]["int8"]["report"]["model"]["quantize"] == "int8"
    assert quality["runs"]["fp32"]["report"]["dataset"]["sentences"] == 2

    assert [t["met"] is None for t in results["targets"]] == [False, False, False, False]
    assert results["machine"]["torch"] and results["settings"]["threads"] == 1
    assert "| configuration | source tok/s |" in done.stdout and "## int8 vs fp32 quality" in done.stdout
