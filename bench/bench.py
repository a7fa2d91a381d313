"""Speed and memory benchmarks: one command, a markdown report on stdout and the raw numbers as JSON.

    .venv/bin/python bench/bench.py                   # everything (~15 min on 2 cores)
    .venv/bin/python bench/bench.py --quick           # tiny counts, to check that it runs
    .venv/bin/python bench/bench.py --sections mt,quality --mt-model path/to/opus-mt-id-en

Sections (see docs/benchmarks.md for what each measures and why; bench/llm_paths.py compares the two LLM
backends: constrained summaries, LLM translation and batched summaries; bench/ray_bench.py compares the
local engine with Ray on the 123 NTREX documents, docs/scaling.md):
  mt       translation throughput and peak RSS: naive baseline vs our engine (fp32, int8, bf16)
  cli      cold vs fully cached rerun of the seed articles through the real CLI, end-to-end seconds per
           article, and `summarizer --help` start-up time
  quality  int8 vs fp32: chrF on NTREX with real MT weights; output agreement with random weights

Every configuration runs in its own subprocess (bench/worker.py), so peak RSS is not shared. Inputs are
read from /work/shared at run time, never copied. When real MT weights are absent, models with the real
opus-mt-id-en and Qwen2.5-0.5B shapes and random weights stand in (bench/shapes.py): right for speed and
memory, meaningless for quality.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import report  # noqa: E402  (bench/report.py, next to this file)
import shapes  # noqa: E402

SHARED = Path("/work/shared")
NTREX = SHARED / "eval" / "ntrex128-id-en"
SEEDS = SHARED / "corpus" / "seeds"
GET_SMALL_LLM = SHARED / "tools" / "get-small-llm.sh"
WORK_DIR = Path.home() / ".cache" / "summarizer-bench"
SECTIONS = ("mt", "cli", "quality")
CONFIGS = {  # name -> worker kind, dtype, quantize
    "naive": ("naive", "float32", "none"),
    "engine-fp32": ("engine", "float32", "none"),
    "engine-int8": ("engine", "float32", "int8"),
    "engine-bf16": ("engine", "bfloat16", "none"),
}
# Full-run sizes. Throughput sentences: enough for several full batches of the engine (a batch is ~16 news
# sentences); the LLM decodes ~10x slower, so fewer. 40 new tokens is a typical news sentence in English
# (earlier measurements used the same). Quality: a few hundred sentences keep chrF's noise under ~0.5 points; with
# random weights only output agreement is measured, and 100 sentences settle it (every random output also
# trips the degenerate-output guard, doubling the decoding work).
FULL = {"sentences_seq2seq": 64, "sentences_causal": 16, "new_tokens": 40, "quality_seq2seq": 300,
        "quality_causal": 24, "quality_random": 100, "help_runs": 7, "cli_articles": None}
QUICK = {"sentences_seq2seq": 8, "sentences_causal": 2, "new_tokens": 8, "quality_seq2seq": 16,
         "quality_causal": 2, "quality_random": 4, "help_runs": 3, "cli_articles": 1}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    parser.add_argument("--quick", action="store_true", help="tiny counts: checks that everything runs")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--mt-model", action="append", default=[], metavar="SPEC",
                        help="a real translation model to include (repeatable); also used by the cli section")
    parser.add_argument("--shapes", default="marian,qwen",
                        help="architectures to include: marian (opus-mt-id-en shape, random weights), qwen "
                        "(Qwen2.5-0.5B: the small GGUF when present, else random weights), or none")
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"subset of {tuple(CONFIGS)}")
    parser.add_argument("--llm", help="GGUF/dir for the cli section (default: the team's shared ../shared/tools/get-small-llm.sh, not in this repository); "
                        "'none': no LLM (the cli section then runs `translate`)")
    parser.add_argument("--sentences", type=int, help="throughput sentences per target (overrides the defaults)")
    parser.add_argument("--new-tokens", type=int, help="generated tokens per sentence (fixed: min = max)")
    parser.add_argument("--quality-sentences", type=int, help="NTREX sentences for the quality section")
    parser.add_argument("--seeds", type=Path, default=SEEDS, help="articles for the cli section")
    parser.add_argument("--work-dir", type=Path, default=WORK_DIR, help="random-shape models and model cache")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "latest.json", help="where to write the JSON")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per subprocess")
    args = parser.parse_args(argv)
    args.sections = [s for s in args.sections.split(",") if s]
    args.configs = [c for c in args.configs.split(",") if c]
    args.shapes = [s for s in args.shapes.split(",") if s and s != "none"]
    unknown = (set(args.sections) - set(SECTIONS)) | (set(args.configs) - set(CONFIGS)) | (set(args.shapes) - {"marian", "qwen"})
    if unknown:
        parser.error(f"unknown section/config/shape: {', '.join(sorted(unknown))}")
    sizes = dict(QUICK if args.quick else FULL)
    if args.sentences:
        sizes["sentences_seq2seq"] = sizes["sentences_causal"] = args.sentences
    if args.new_tokens:
        sizes["new_tokens"] = args.new_tokens
    if args.quality_sentences:
        sizes["quality_seq2seq"] = sizes["quality_causal"] = sizes["quality_random"] = args.quality_sentences
    args.sizes = sizes
    return args


# --------------------------------------------------------------------------- processes


def measured_run(command: list[str], *, env: dict[str, str] | None = None, timeout: float,
                 stdout_path: Path | None = None) -> dict[str, Any]:
    """Run `command`, sampling its RSS (with children) with psutil every 100 ms (peak RSS is reached
    once a model is loaded and lasts seconds; faster polling would steal CPU from the measured process). Output goes to files,
    never pipes, so a chatty child cannot block while we poll; stdout is kept only in `stdout_path`."""
    import resource

    import psutil

    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as scratch:
        out_path = stdout_path or Path(scratch) / "stdout"
        err_path = Path(scratch) / "stderr"
        started = time.perf_counter()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            process = psutil.Popen(command, stdout=out, stderr=err, env=env, cwd=ROOT)
            peak = 0
            while process.poll() is None:
                try:
                    family = [process, *process.children(recursive=True)]
                    peak = max(peak, sum(p.memory_info().rss for p in family if p.is_running()))
                except psutil.Error:
                    pass
                if time.perf_counter() - started > timeout:
                    process.kill()
                    break
                time.sleep(0.1)
            seconds = time.perf_counter() - started
        returncode = process.wait()
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU seconds of the child: on a shared machine they vary far less than wall time.
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        return {"returncode": returncode, "seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak / 2**20,
                "stderr": err_path.read_text(encoding="utf-8", errors="replace")}


def child_env(threads: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUMMARIZER_")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)})
    return env


def run_worker(spec: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """One configuration in a fresh process; its result, with peak RSS, or an `error`."""
    spec = {**spec, "threads": args.threads, "cache_dir": str(args.work_dir / "cache")}
    with tempfile.TemporaryDirectory() as scratch:
        spec_path, result_path = Path(scratch) / "spec.json", Path(scratch) / "result.json"
        spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        run = measured_run([sys.executable, str(HERE / "worker.py"), str(spec_path), str(result_path)],
                           env=child_env(args.threads), timeout=args.timeout)
        if run["returncode"] != 0 or not result_path.exists():
            tail = run["stderr"].strip().splitlines()[-3:]
            return {"error": " | ".join(tail) or f"exit code {run['returncode']}"}
        result = json.loads(result_path.read_text(encoding="utf-8"))
    result["peak_rss_mb"] = max(run["peak_rss_mb"], result.pop("worker_peak_rss_mb"))
    return result


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- inputs and targets


def ntrex_sample(count: int) -> tuple[list[str], list[str]]:
    """`count` aligned NTREX lines spread evenly over the file (all 123 documents' styles, not just the
    first article's)."""
    sources = (NTREX / "newstest2019-ref.ind.txt").read_text(encoding="utf-8").splitlines()
    references = (NTREX / "newstest2019-src.eng.txt").read_text(encoding="utf-8").splitlines()
    step = max(1, len(sources) // count)
    picked = list(range(0, len(sources), step))[:count]
    return [sources[i] for i in picked], [references[i] for i in picked]


def mean_article_sentences() -> float:
    """Sentences per NTREX document: turns sentences/s into articles/min."""
    documents = (NTREX / "ntrex128_documents_ind_eng.jsonl").read_text(encoding="utf-8").splitlines()
    return statistics.mean(json.loads(line)["n_sentences"] for line in documents if line.strip())


def small_llm(args: argparse.Namespace) -> str | None:
    if args.llm:
        return None if args.llm == "none" else args.llm
    try:
        found = subprocess.run(["bash", str(GET_SMALL_LLM)], capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = found.stdout.strip().splitlines()
    return lines[-1] if found.returncode == 0 and lines and Path(lines[-1]).exists() else None


def mt_targets(args: argparse.Namespace, llm: str | None) -> list[dict[str, Any]]:
    """What the mt and quality sections run on: random real-shape models, then any real ones given."""
    targets = []
    if "marian" in args.shapes:
        progress("building/reusing the random-weight opus-mt-id-en shape")
        path = shapes.build_marian_opus_shape(args.work_dir / "shapes" / "opus-mt-id-en-shape")
        targets.append({"name": "opus-mt-id-en shape (random weights)", "model": str(path), "real": False,
                        "architecture": "seq2seq"})
    if "qwen" in args.shapes and llm and llm.endswith(".gguf"):
        # The small GGUF is a real Qwen2.5-0.5B-architecture model: no need for random weights.
        targets.append({"name": f"{Path(llm).name} (real weights, LLM translator)", "model": llm, "real": True,
                        "architecture": "causal"})
    elif "qwen" in args.shapes:
        progress("building/reusing the random-weight Qwen2.5-0.5B shape")
        path = shapes.build_qwen25_shape(args.work_dir / "shapes" / "qwen2.5-0.5b-shape")
        targets.append({"name": "Qwen2.5-0.5B shape (random weights, LLM translator)", "model": str(path),
                        "real": False, "architecture": "causal"})
    for spec in args.mt_model:
        targets.append({"name": spec, "model": spec, "real": True, "architecture": _architecture(spec)})
    return targets


def cli_translator(args: argparse.Namespace) -> str | None:
    """The cli section's MT model: the first real one given, else the opus-mt-shape stand-in."""
    if args.mt_model:
        return args.mt_model[0]
    if "marian" in args.shapes:
        return str(shapes.build_marian_opus_shape(args.work_dir / "shapes" / "opus-mt-id-en-shape"))
    return None


def _architecture(spec: str) -> str:
    from summarizer.config import Config
    from summarizer.models import resolve_model

    return resolve_model(spec, "translation", Config(mt_model=spec)).architecture


# --------------------------------------------------------------------------- sections


def section_mt(args: argparse.Namespace, targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    per_article = mean_article_sentences()
    results = []
    for target in targets:
        count = args.sizes[f"sentences_{target['architecture']}"]
        sentences, _ = ntrex_sample(count)
        runs = {}
        for name in args.configs:
            kind, dtype, quantize = CONFIGS[name]
            progress(f"mt: {target['name']}: {name} ({count} sentences x {args.sizes['new_tokens']} tokens)")
            runs[name] = run_worker({"kind": kind, "model": target["model"], "dtype": dtype, "quantize": quantize,
                                     "sentences": sentences, "new_tokens": args.sizes["new_tokens"]}, args)
        for run in runs.values():
            if "error" not in run:
                run["articles_per_minute"] = run["sentences_per_second"] * 60 / per_article
        report.add_ratios_and_agreement(runs)
        results.append({"target": target, "runs": runs, "sentences_per_article": per_article})
    return results


def section_quality(args: argparse.Namespace, targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    results = []
    for target in targets:
        count = args.sizes[f"quality_{target['architecture']}" if target["real"] else "quality_random"]
        sources, references = ntrex_sample(count)
        runs = {}
        for name, quantize in (("fp32", "none"), ("int8", "int8")):
            progress(f"quality: {target['name']}: {name} on {count} NTREX sentences")
            run = run_worker({"kind": "quality", "model": target["model"], "dtype": "float32", "quantize": quantize,
                              "sentences": sources, "references": references}, args)
            runs[name] = run
        results.append({"target": target, "runs": runs, **report.quality_comparison(runs, target["real"])})
    return results


def section_cli(args: argparse.Namespace, llm: str | None, mt_model: str | None) -> dict[str, Any]:
    """The real CLI in subprocesses: `--help` start-up time, then per command a cold run of the seed
    articles into a fresh cache and a fully cached rerun.

    `translate` uses `mt_model` (the opus-mt shape unless a real model was given). `summarize` needs real
    English to summarise (an LLM fed random-weight gibberish writes summaries of a length no real
    article causes), so it translates with a real MT model when one was given, else with the LLM itself.
    """
    summarizer = Path(sys.executable).with_name("summarizer")
    base = [str(summarizer)] if summarizer.exists() else [sys.executable, "-m", "summarizer"]
    helps = [measured_run([*base, "--help"], env=child_env(args.threads), timeout=120)["seconds"]
             for _ in range(args.sizes["help_runs"])]
    result: dict[str, Any] = {"help_seconds": helps, "help_median_seconds": statistics.median(helps),
                              "commands": {}}
    commands = {}
    if mt_model:
        commands["translate"] = ["translate", "--mt-model", mt_model]
    if llm:
        commands["summarize"] = ["summarize", "--llm", llm, "--mt-model", args.mt_model[0] if args.mt_model else llm]
    if not commands:
        result["error"] = "no model for the cold/cached runs"
    articles = sorted(path for path in args.seeds.iterdir() if path.is_file())[:args.sizes["cli_articles"]]
    result["articles"] = [path.name for path in articles]
    for name, command in commands.items():
        with tempfile.TemporaryDirectory() as cache:
            full = [*base, *command, *map(str, articles), "--threads", str(args.threads), "--cache-dir", cache,
                    "--quiet"]
            result["commands"][name] = {"models": command[1:],
                                        **{run: _cli_run(full, args, f"{name} {run}") for run in ("cold", "cached")}}
    return result


def _cli_run(command: list[str], args: argparse.Namespace, label: str) -> dict[str, Any]:
    progress(f"cli: {label} run")
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as out:
        run = measured_run(command, env=child_env(args.threads), timeout=args.timeout, stdout_path=Path(out.name))
        records = [json.loads(line) for line in Path(out.name).read_text(encoding="utf-8").splitlines() if line]
    stage_seconds = [sum(r.get("timings", {}).values()) for r in records]
    return {
        "seconds": run["seconds"], "returncode": run["returncode"], "peak_rss_mb": run["peak_rss_mb"],
        "articles": len(records), "failed": sum(1 for r in records if r.get("error")),
        "errors": sorted({r["error"]["message"][:200] for r in records if r.get("error")}),
        "seconds_per_article": run["seconds"] / len(records) if records else None,
        # The first article also loads the models; the others show the steady per-article cost.
        "steady_seconds_per_article": statistics.mean(stage_seconds[1:]) if len(stage_seconds) > 1 else None,
        "stderr_tail": run["stderr"].strip().splitlines()[-3:],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.time()
    machine = report.machine_description()
    llm = small_llm(args) if "cli" in args.sections or "qwen" in args.shapes else None
    targets = mt_targets(args, llm) if {"mt", "quality"} & set(args.sections) else []
    results: dict[str, Any] = {"machine": machine, "settings": {
        "threads": args.threads, "quick": args.quick, "sizes": args.sizes, "sections": args.sections,
        "configs": args.configs, "llm": llm, "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY")}}
    if "mt" in args.sections:
        results["mt"] = section_mt(args, targets)
    if "cli" in args.sections:
        results["cli"] = section_cli(args, llm, cli_translator(args))
    if "quality" in args.sections:
        results["quality"] = section_quality(args, targets)
    results["machine"]["load_average_end"] = os.getloadavg()
    results["seconds"] = time.time() - started
    results["targets"] = report.targets(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(report.markdown(results))
    progress(f"done in {results['seconds']:.0f} s; JSON in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
