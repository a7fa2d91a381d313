"""Throughput of `--engine local` against `--engine ray` (2 workers) on the NTREX-128 documents, and what the
Ray driver costs per article. A markdown table on stdout, the raw numbers as JSON.

    .venv/bin/python bench/ray_bench.py                  # all 123 documents (long on a busy 2-core machine)
    .venv/bin/python bench/ray_bench.py --limit 20       # a subset
    .venv/bin/python bench/ray_bench.py --mt-model DIR   # real opus-mt-id-en weights instead of the shape
    .venv/bin/python bench/ray_bench.py --quantize int8  # both engines with int8 Linear layers
    .venv/bin/python bench/ray_bench.py --new-tokens 0   # natural decoding (random weights: slow, see below)

The model is opus-mt-id-en's shape with random weights (bench/shapes.py) unless --mt-model is given: right
for speed, meaningless for quality. Random weights never emit end-of-sentence, so left alone every sentence
would decode to the engine's length bound (~85 tokens here) and then go through its retry and repair passes:
~45 CPU seconds per article, work no real model does. So by default every sentence decodes exactly as many
tokens as a real translation has (Config.forced_new_tokens, which also skips the retry and repair): the
mean length of the NTREX English reference sentences under the model's tokenizer, end-of-sentence included
(33.1 for the shape on all 123 documents), measured at run time and reported. --new-tokens N sets it, 0
decodes naturally. Both engines translate the same documents (written as article files into a temp dir at
run time, never copied into the repo) from an empty cache, with the same total CPU budget: local uses 2
model threads in one process, ray uses 2 actors of 1 CPU (1 thread) each on a local Ray instance started
here. Measured:
  - wall seconds, articles/s and sentences/s of a cold run (ray includes starting Ray and its workers);
  - the ray run's time to its first record and its steady-state rate after that;
  - driver overhead per article: the driver's own CPU seconds and its probe time (ingest, segment, cache
    look-ups, shipping) per article in the cold run, and per article in a fully cached rerun.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from statistics import mean

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from summarizer.models.loading import prepare_openmp  # noqa: E402

# Both engines alike: the product's OpenMP wait, set before torch loads here and before Ray's workers
# inherit the environment.
prepare_openmp()

import shapes  # noqa: E402

NTREX_DOCS = Path("/work/shared/eval/ntrex128-id-en/ntrex128_documents_ind_eng.jsonl")
WORK_DIR = Path.home() / ".cache" / "summarizer-bench"


def read_documents(limit: int | None) -> list[dict]:
    with NTREX_DOCS.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle][:limit]


def write_articles(folder: Path, documents: list[dict]) -> tuple[list[Path], int]:
    """One .txt article per NTREX document: its title line, then one paragraph per source sentence."""
    folder.mkdir(parents=True, exist_ok=True)
    paths, sentences = [], 0
    for number, document in enumerate(documents):
        path = folder / f"ntrex_{number:03d}.txt"
        path.write_text("\n\n".join(document["ind_sentences"]) + "\n", encoding="utf-8")
        paths.append(path)
        sentences += len(document["ind_sentences"])
    return paths, sentences


def reference_tokens(model: str, documents: list[dict], cache_dir: Path) -> float:
    """Mean tokens per English reference sentence under the model's target tokenizer, end-of-sentence
    included: what a real translation of these documents decodes per sentence. `cache_dir` is the local
    run's, whose fingerprint memo then saves that run from hashing the weights again."""
    from transformers import AutoTokenizer

    from summarizer.config import Config
    from summarizer.models import resolve_model
    from summarizer.models.resolve import local_snapshot_dir

    resolved = resolve_model(model, "translation", Config(mt_model=model, cache_dir=cache_dir, offline=True))
    if resolved.architecture != "seq2seq":
        sys.exit(f"ray_bench: no target tokenizer to measure for {resolved.display}; pass --new-tokens N")
    languages = {k: v for k, v in resolved.settings.items() if k in ("src_lang", "tgt_lang")}
    tokenizer = AutoTokenizer.from_pretrained(str(local_snapshot_dir(resolved)), **languages)
    references = [sentence for document in documents for sentence in document["eng_sentences"]]
    return mean(len(ids) for ids in tokenizer(text_target=references)["input_ids"])


def run(paths: list[Path], config, engine=None) -> dict:
    """One batch as run_batch does it (records rendered, not printed); wall and driver CPU seconds."""
    from summarizer.sources import discover
    from summarizer.pipeline import process_articles
    from summarizer.runtime import Runtime

    docs = discover([str(p) for p in paths])
    runtime = Runtime(config)
    started, cpu_started = time.perf_counter(), time.process_time()
    process = engine.start(docs, config, runtime) if engine else (lambda group: process_articles(group, config, runtime))
    first = None
    failed = 0
    try:
        for doc in docs:
            [record] = process([doc])
            record.model_dump_json()
            failed += bool(record.error)
            if first is None:
                first = time.perf_counter() - started
    finally:
        if engine:
            engine.close()
        runtime.close()
    wall = time.perf_counter() - started
    return {"wall_seconds": round(wall, 2), "first_record_seconds": round(first or 0.0, 2),
            "driver_cpu_seconds": round(time.process_time() - cpu_started, 2), "failed": failed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents")
    parser.add_argument("--mt-model", default=None, help="translation model (default: opus-mt shape, random weights)")
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--quantize", choices=("none", "int8"), default="none",
                        help="as the CLI's --quantize (int8: ~3x faster on CPU, docs/benchmarks.md)")
    parser.add_argument("--new-tokens", type=int, default=None,
                        help="tokens every sentence decodes (default: the references' mean length under the "
                             "model's tokenizer; 0: natural decoding with the engine's retries and repair)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument("--work-dir", type=Path, default=WORK_DIR)
    args = parser.parse_args()
    if args.new_tokens is not None and args.new_tokens < 0:
        parser.error("--new-tokens must be 0 (natural decoding) or more")

    import ray

    from summarizer.config import Config
    from summarizer.ray_engine import RayEngine
    from summarizer.ray_pool import RaySettings

    model = args.mt_model or str(shapes.build_marian_opus_shape(args.work_dir / "shapes" / "opus-mt-id-en-shape"))
    documents = read_documents(args.limit)
    results: dict = {"model": model, "quantize": args.quantize, "load_average": os.getloadavg(), "actors": args.actors,
                     "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
                     "gomp_spincount": os.environ.get("GOMP_SPINCOUNT")}
    with tempfile.TemporaryDirectory(prefix="ray-bench-") as scratch:
        work = Path(scratch)
        if args.new_tokens is None:
            measured = reference_tokens(model, documents, work / "local-cache")
            forced = round(measured)
            results["reference_tokens_mean"] = round(measured, 2)
            print(f"new tokens per sentence: {forced} (the English references' mean: {measured:.2f})", file=sys.stderr)
        else:
            forced = args.new_tokens or None  # 0: natural decoding
        results["new_tokens_per_sentence"] = forced
        paths, sentences = write_articles(work / "articles", documents)
        results.update(articles=len(paths), sentences=sentences)

        local = run(paths, Config(mt_model=model, cache_dir=work / "local-cache", threads=2, quantize=args.quantize,
                                  forced_new_tokens=forced))
        print(f"local: {local}", file=sys.stderr)

        ray.init(num_cpus=args.actors, include_dashboard=False, log_to_driver=False)
        try:
            config = Config(mt_model=model, cache_dir=work / "ray-cache", quantize=args.quantize,
                            forced_new_tokens=forced)
            engine = RayEngine(RaySettings(actors=args.actors, cpus_per_actor=1))
            cold = run(paths, config, engine)
            cold.update(probe_seconds=round(engine.stats.probe_seconds, 3), sent=engine.stats.sent)
            print(f"ray cold: {cold}", file=sys.stderr)
            rerun_engine = RayEngine(RaySettings(actors=args.actors, cpus_per_actor=1))
            cached = run(paths, config, rerun_engine)
            cached.update(probe_seconds=round(rerun_engine.stats.probe_seconds, 3), sent=rerun_engine.stats.sent)
        finally:
            ray.shutdown()

    n = len(paths)
    steady = (n - 1) / (cold["wall_seconds"] - cold["first_record_seconds"]) if n > 1 else None
    results.update(local=local, ray=cold, ray_cached_rerun=cached, summary={
        "local_articles_per_second": round(n / local["wall_seconds"], 3),
        "local_sentences_per_second": round(sentences / local["wall_seconds"], 2),
        "local_seconds_per_article": round(local["wall_seconds"] / n, 2),
        "ray_articles_per_second": round(n / cold["wall_seconds"], 3),
        "ray_sentences_per_second": round(sentences / cold["wall_seconds"], 2),
        "ray_steady_articles_per_second": round(steady, 3) if steady else None,
        "ray_startup_seconds": cold["first_record_seconds"],
        "driver_cpu_ms_per_article_cold": round(1000 * cold["driver_cpu_seconds"] / n, 1),
        "driver_probe_ms_per_article_cold": round(1000 * cold["probe_seconds"] / n, 1),
        "driver_ms_per_article_cached_rerun": round(1000 * cached["wall_seconds"] / n, 1),
    })
    results["load_average_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    s = results["summary"]
    decoding = f"{forced} tokens per sentence" if forced else "natural decoding"
    print(f"## local vs ray ({n} NTREX documents, {sentences} sentences, {decoding}, {args.actors} actors x 1 CPU; "
          f"load average {results['load_average'][0]:.1f} -> {results['load_average_after'][0]:.1f})\n")
    print("| engine | wall s | articles/s | sentences/s | first record s |")
    print("|---|---|---|---|---|")
    print(f"| local (2 threads) | {local['wall_seconds']} | {s['local_articles_per_second']} | "
          f"{s['local_sentences_per_second']} | {local['first_record_seconds']} |")
    print(f"| ray ({args.actors} actors) | {cold['wall_seconds']} | {s['ray_articles_per_second']} | "
          f"{s['ray_sentences_per_second']} | {cold['first_record_seconds']} |")
    print(f"\nray steady state after the first record: {s['ray_steady_articles_per_second']} articles/s")
    print(f"driver per article, cold run: {s['driver_cpu_ms_per_article_cold']} ms CPU "
          f"({s['driver_probe_ms_per_article_cold']} ms probing)")
    print(f"driver per article, fully cached rerun (no workers started): {s['driver_ms_per_article_cached_rerun']} ms")


if __name__ == "__main__":
    main()
