"""Start-up and cached-rerun timings a new user feels (issue 12): `summarizer --help`, and a fully cached
rerun of the seed articles, each the median of several runs of the installed CLI in fresh processes.

    .venv/bin/python bench/first_run_bench.py                     # tiny random MT model built on the fly
    .venv/bin/python bench/first_run_bench.py --mt-model opus-mt-id-en --llm qwen2.5-1.5b-instruct-q4

A cached rerun loads no model, so the MT weights do not change what it measures; `--llm` adds the
`summarize` rerun (its cold run takes minutes per article with a real LLM). Targets: `--help` < 0.3 s,
cached rerun of the five seeds < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = Path("/work/shared/corpus/seeds")
TARGETS = {"help": 0.3, "cached": 1.0}


def cli() -> list[str]:
    """The installed console script next to this interpreter (what a user runs), else `-m summarizer`."""
    script = Path(sys.executable).with_name("summarizer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "summarizer"]


def timed(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, done


def median_time(args: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        seconds, done = timed(args, env)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        times.append(seconds)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=Path, default=SEEDS, help="folder of articles (default: the five seeds)")
    parser.add_argument("--mt-model", help="translation model SPEC (default: a tiny random MarianMT built here)")
    parser.add_argument("--llm", help="summary model SPEC; adds the `summarize` rerun")
    parser.add_argument("--runs", type=int, default=7, help="runs per median (default 7)")
    parser.add_argument("--work-dir", type=Path, help="keep caches and models here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="first-run-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    mt_model = args.mt_model
    if not mt_model:
        sys.path.insert(0, str(ROOT))
        from summarizer.models.tiny import build_marian

        target = work / "tiny-marian"
        mt_model = str(target if (target / "config.json").exists() else build_marian(target))

    results: dict[str, object] = {"load_before": os.getloadavg()[0], "runs": args.runs}
    results["help_s"] = median_time([*cli(), "--help"], env, args.runs)
    tasks = [("translate", ["--mt-model", mt_model])]
    if args.llm:
        tasks.append(("summarize", ["--mt-model", mt_model, "--llm", args.llm]))
    for task, models in tasks:
        command = [*cli(), task, str(args.seeds), *models, "-q", "--cache-dir", str(work / f"cache-{task}")]
        cold, done = timed(command, env)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{task} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        results[f"{task}_cold_s"] = cold
        results[f"{task}_cached_s"] = median_time(command, env, args.runs)
    results["load_after"] = os.getloadavg()[0]

    print(f"| measure | median of {args.runs} | target |")
    print("|---|---|---|")
    print(f"| `summarizer --help` | {results['help_s']:.3f} s | < {TARGETS['help']} s |")
    for task, _ in tasks:
        print(f"| `{task}` {args.seeds.name}/ fully cached | {results[f'{task}_cached_s']:.3f} s | "
              f"< {TARGETS['cached']} s |")
        print(f"| `{task}` {args.seeds.name}/ cold (once) | {results[f'{task}_cold_s']:.1f} s | - |")
    print(f"\nLoad average {results['load_before']:.2f} before, {results['load_after']:.2f} after; "
          f"MT model {mt_model}{'; LLM ' + args.llm if args.llm else ''}.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
