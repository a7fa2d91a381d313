"""Turning raw benchmark results into comparisons, target checks and a markdown report."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any, Sequence

# The project's performance targets (docs/benchmarks.md explains where each comes from).
ENGINE_SPEEDUP_GOAL = 3.0  # engine tokens/s over the naive baseline, fp32, 2 threads
CACHED_RERUN_GOAL_SECONDS = 1.0  # five seed articles, everything cached
HELP_GOAL_SECONDS = 0.5
MARIAN_RSS_GOAL_MB = 1536  # 1.5 GB peak RSS translating with a Marian-size model


def machine_description() -> dict[str, Any]:
    import psutil
    import torch
    import transformers

    cpu = "unknown"
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and cpu == "unknown":
                cpu = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpu_features": sorted(flags & {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx512_vnni"}),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "load_average_start": os.getloadavg(),
    }


# --------------------------------------------------------------------------- comparisons


def word_agreement(reference: Sequence[str], other: Sequence[str]) -> dict[str, float]:
    """How far two configurations' greedy outputs agree, word by word.

    Greedy decoding diverges for good after its first different token, so the shared prefix (as a share of
    the longer output) is the natural per-sentence measure; exact match counts identical outputs.
    """
    prefixes, exact = [], 0
    for a, b in zip(reference, other):
        words_a, words_b = a.split(), b.split()
        shared = 0
        for x, y in zip(words_a, words_b):
            if x != y:
                break
            shared += 1
        longest = max(len(words_a), len(words_b))
        prefixes.append(shared / longest if longest else 1.0)
        exact += words_a == words_b
    count = len(prefixes)
    return {"exact_match": exact / count if count else 0.0,
            "prefix_agreement": sum(prefixes) / count if count else 0.0}


def add_ratios_and_agreement(runs: dict[str, dict[str, Any]]) -> None:
    """Speed-up over the naive baseline, and agreement of each configuration with the fp32 engine (the
    naive baseline's agreement with the fp32 engine shows whether batching changes outputs)."""
    naive = runs.get("naive", {})
    reference = runs.get("engine-fp32", {})
    for name, run in runs.items():
        if "error" in run:
            continue
        if "error" not in naive and naive:
            run["speedup_vs_naive"] = run["source_tokens_per_second"] / naive["source_tokens_per_second"]
        if name != "engine-fp32" and reference and "error" not in reference:
            run["agreement_with_engine_fp32"] = word_agreement(reference["outputs"], run["outputs"])


def quality_comparison(runs: dict[str, dict[str, Any]], real_weights: bool) -> dict[str, Any]:
    fp32, int8 = runs.get("fp32", {}), runs.get("int8", {})
    if "error" in fp32 or "error" in int8:
        return {"comparison": None}
    chrf = [run["report"]["scores"]["sentence"]["chrf"] for run in (fp32, int8)]
    return {"comparison": {
        "real_weights": real_weights,
        "chrf_fp32": chrf[0], "chrf_int8": chrf[1], "chrf_delta": chrf[1] - chrf[0],
        "agreement": word_agreement(fp32["outputs"], int8["outputs"]),
    }}


def _first(results: dict[str, Any], architecture: str) -> dict[str, Any] | None:
    return next((r for r in results.get("mt", []) if r["target"]["architecture"] == architecture), None)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each project target with the measured value and whether it is met (None: not measured)."""
    rows = []
    marian = _first(results, "seq2seq")
    engine = (marian or {}).get("runs", {}).get("engine-fp32", {})
    speedup = engine.get("speedup_vs_naive")
    rows.append({"target": f"engine >= {ENGINE_SPEEDUP_GOAL:g}x naive source tokens/s "
                           f"({results['settings']['threads']} threads, fp32, Marian-size)",
                 "measured": None if speedup is None else f"{speedup:.1f}x",
                 "met": None if speedup is None else speedup >= ENGINE_SPEEDUP_GOAL})
    cli = results.get("cli", {})
    commands = cli.get("commands", {})
    # The whole product (summarize) when it ran, else translate.
    command = "summarize" if "summarize" in commands else "translate"
    cached = commands.get(command, {}).get("cached", {})
    cached_ok = cached.get("returncode") == 0 and not cached.get("failed")
    rows.append({"target": f"fully cached rerun of the seed articles < {CACHED_RERUN_GOAL_SECONDS:g} s",
                 "measured": f"{cached['seconds']:.2f} s (`{command}`)" + ("" if cached_ok else ", with failures")
                 if cached else None,
                 "met": (cached_ok and cached["seconds"] < CACHED_RERUN_GOAL_SECONDS) if cached else None})
    help_seconds = cli.get("help_median_seconds")
    rows.append({"target": f"`summarizer --help` < {HELP_GOAL_SECONDS:g} s (median)",
                 "measured": None if help_seconds is None else f"{help_seconds:.2f} s",
                 "met": None if help_seconds is None else help_seconds < HELP_GOAL_SECONDS})
    peaks = {name: run["peak_rss_mb"] for name, run in (marian or {}).get("runs", {}).items()
             if name.startswith("engine") and "error" not in run}
    worst = max(peaks.values()) if peaks else None
    rows.append({"target": f"peak RSS translating with a Marian-size model < {MARIAN_RSS_GOAL_MB / 1024:g} GB",
                 "measured": None if worst is None else f"{worst:,.0f} MB (worst engine configuration)",
                 "met": None if worst is None else worst < MARIAN_RSS_GOAL_MB})
    return rows


# --------------------------------------------------------------------------- markdown


def _f(value: Any, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def markdown(results: dict[str, Any]) -> str:
    machine, settings = results["machine"], results["settings"]
    lines = [
        "# Benchmark results", "",
        f"{machine['cpu']} ({machine['usable_cpus']} usable of {machine['logical_cpus']} logical CPUs; "
        f"{', '.join(machine['cpu_features'])}), {machine['ram_gb']} GB RAM; Python {machine['python']}, "
        f"torch {machine['torch']}, transformers {machine['transformers']}. {settings['threads']} threads"
        + (f", OMP_WAIT_POLICY={settings['omp_wait_policy']}" if settings.get("omp_wait_policy") else "") + ". "
        f"Load average at start {_f(machine['load_average_start'][0], 2)}, at end "
        f"{_f(machine.get('load_average_end', [None])[0], 2)}."
        + (" QUICK RUN: tiny counts, numbers are not meaningful." if settings["quick"] else ""), "",
        "## Targets", "",
    ]
    status = {True: "met", False: "NOT met", None: "not measured"}
    lines += _table(["target", "measured", "status"],
                    [[t["target"], t["measured"] or "-", status[t["met"]]] for t in results["targets"]])
    for title, render in (("mt", _markdown_mt), ("cli", _markdown_cli),
                          ("quality", _markdown_quality)):
        if title in results:
            lines += render(results)
    return "\n".join(lines)


def _markdown_mt(results: dict[str, Any]) -> list[str]:
    lines = ["## Translation throughput", ""]
    for item in results["mt"]:
        runs = item["runs"]
        some = next((r for r in runs.values() if "error" not in r), {})
        lines += [f"### {item['target']['name']}", "",
                  f"{some.get('sentences', '?')} NTREX sentences, exactly {some.get('new_tokens_per_sentence', '?')} "
                  f"generated tokens each; articles/min at {item['sentences_per_article']:.1f} sentences per "
                  "article (NTREX mean).", ""]
        rows = []
        for name, run in runs.items():
            if "error" in run:
                rows.append([name, f"failed: {run['error']}", *["-"] * 7])
                continue
            agreement = run.get("agreement_with_engine_fp32")
            rows.append([name, _f(run["source_tokens_per_second"]), _f(run["generated_tokens_per_second"]),
                         _f(run["sentences_per_second"], 2), _f(run["articles_per_minute"], 1),
                         _f(run.get("speedup_vs_naive"), 1, "x"), _f(run["peak_rss_mb"], 0),
                         _f(run["load_seconds"], 1),
                         "-" if not agreement else f"{agreement['exact_match']:.0%} / {agreement['prefix_agreement']:.0%}"])
        lines += _table(["configuration", "source tok/s", "generated tok/s", "sentences/s", "articles/min",
                         "vs naive", "peak RSS MB", "load s", "same output as engine-fp32 (exact / word prefix)"], rows)
    return lines


def _markdown_cli(results: dict[str, Any]) -> list[str]:
    cli = results["cli"]
    lines = ["## CLI: cold vs cached, start-up", "",
             f"`summarizer --help`: median {_f(cli['help_median_seconds'], 3)} s over {len(cli['help_seconds'])} runs.", ""]
    if "error" in cli:
        return lines + [f"Cold/cached runs not measured: {cli['error']}", ""]
    lines += ["Seed articles through the installed CLI, each command into a fresh cache directory. Steady "
              "s/article: mean of the stage timings of the articles after the first (which also loads the "
              "models).", ""]
    rows, errors = [], []
    for command, runs in cli["commands"].items():
        models = " ".join(f"`{Path(part).name}`" if "/" in part else part for part in runs["models"])
        for name in ("cold", "cached"):
            run = runs[name]
            rows.append([f"`{command}` {name}", models, _f(run["seconds"], 2), run["articles"], run["failed"],
                         _f(run["seconds_per_article"], 2), _f(run["steady_seconds_per_article"], 2),
                         _f(run["peak_rss_mb"], 0)])
            errors += [f"`{command}` {name}: {message}" for message in run["errors"]]
    lines += _table(["run", "models", "seconds", "articles", "failed", "s/article", "steady s/article",
                     "peak RSS MB"], rows)
    return lines + ([f"Failures: {'; '.join(errors)}", ""] if errors else [])


def _markdown_quality(results: dict[str, Any]) -> list[str]:
    lines = ["## int8 vs fp32 quality", ""]
    rows = []
    notes = []
    for item in results["quality"]:
        comparison = item["comparison"]
        name = item["target"]["name"]
        if comparison is None:
            errors = "; ".join(run.get("error", "") for run in item["runs"].values() if "error" in run)
            rows.append([name, "-", "-", "-", "-", f"failed: {errors}"])
            continue
        sentences = item["runs"]["fp32"]["report"]["dataset"]["sentences"]
        agreement = comparison["agreement"]
        if comparison["real_weights"]:
            chrf = [_f(comparison["chrf_fp32"], 2), _f(comparison["chrf_int8"], 2), _f(comparison["chrf_delta"], 2)]
        else:
            chrf = ["n/a", "n/a", "n/a"]
            notes.append(name)
        rows.append([name, sentences, *chrf,
                     f"{agreement['exact_match']:.0%} / {agreement['prefix_agreement']:.0%}"])
    lines += _table(["model", "NTREX sentences", "chrF fp32", "chrF int8", "Δ chrF", "int8 = fp32 output (exact / word prefix)"], rows)
    if notes:
        lines += ["Random weights (" + "; ".join(notes) + "): chrF needs the real weights, which cannot be "
                  "downloaded here; the agreement of int8 with fp32 greedy outputs is reported instead.", ""]
    return lines
