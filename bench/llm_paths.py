"""The LLM path, old against new, on one machine in one run: the figures issue 10 asks for.

    .venv/bin/python bench/llm_paths.py                      # everything (tens of minutes on 2 cores)
    .venv/bin/python bench/llm_paths.py --parts cli --old-articles 1
    .venv/bin/python bench/llm_paths.py --quick              # tiny counts: checks that it runs

Parts (each configuration in its own process, so peak RSS is its own; the 1-minute load average is
recorded next to every figure, because the machine is shared):
  cli        `summarizer summarize` per seed article, the same GGUF translating and summarising:
             --backend transformers (the old path: dequantised) against auto (llama.cpp). The new path
             runs twice, to check determinism; every summary is checked for schema validity and for
             citing only existing sentence ids.
  folder     `summarizer summarize` on the folder of all seed articles in one run (the new path): time per
             article once the models are loaded and the prompts' fixed parts have been computed once.
  grammar    time per generated token, JSON-schema-constrained summary against unconstrained decoding of
             the same prompt, on each backend (prefill measured apart and subtracted).
  translate  LLM translation tokens/s: the naive baseline (transformers fp32, one sentence per call) against
             the product's engine on transformers (bf16 batches) and on llama.cpp.
  batch      8 NTREX documents (English side) summarised on the transformers path: one at a time against
             one batched call (summarize_articles).
  contention decoding speed while two busy processes compete for the cores: torch with OpenMP's default
             spin-waiting, OMP_WAIT_POLICY=PASSIVE and the product's short spin (GOMP_SPINCOUNT=3000);
             llama.cpp with 2 threads (decode threads chosen by step time) against 1.

The GGUF is ../shared/tools/get-small-llm.sh's Qwen2.5-Coder-0.5B unless --gguf names another.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import bench  # noqa: E402  (bench/bench.py: measured_run, child_env, small_llm)

SEEDS = bench.SEEDS
NTREX_DOCS = bench.NTREX / "ntrex128_documents_ind_eng.jsonl"
PARTS = ("cli", "folder", "grammar", "translate", "batch", "contention")


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def progress(message: str) -> None:
    print(f"llm_paths: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- cli: whole articles


def summarize_cli(article: Path, gguf: str, backend: str, cache: Path, threads: int, timeout: float) -> dict[str, Any]:
    """One seed article (or a folder of them) through the real CLI; results recomputed (--refresh) but the
    dequantised copy of the GGUF (transformers path) reused from `cache`, as a user's second run would."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out.jsonl"
        command = [sys.executable, "-m", "summarizer", "summarize", str(article), "--mt-model", gguf, "--llm", gguf,
                   "--backend", backend, "--refresh", "--cache-dir", str(cache), "--threads", str(threads), "-q"]
        load = load_average()
        run = bench.measured_run(command, env=bench.child_env(threads), timeout=timeout, stdout_path=out)
        text = out.read_text(encoding="utf-8") if out.exists() else ""
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    return {"article": article.name, "backend": backend, "seconds": round(run["seconds"], 1),
            "cpu_seconds": round(run["cpu_seconds"], 1),
            "peak_rss_mb": round(run["peak_rss_mb"]), "returncode": run["returncode"], "load_before": load,
            "load_after": load_average(), "record": records[0] if records else None, "records": records,
            "stderr_tail": run["stderr"].strip().splitlines()[-2:]}


def summary_problems(record: dict[str, Any] | None) -> list[str]:
    """Why a record's summary is not schema-valid or cites a sentence that does not exist (empty: fine)."""
    from summarizer.schema import Record

    if record is None:
        return ["no record"]
    try:
        parsed = Record.model_validate(record)
    except ValueError as error:
        return [f"invalid record: {str(error).splitlines()[0]}"]
    if parsed.error or parsed.summary is None:
        return [f"error: {parsed.error.message if parsed.error else 'no summary'}"]
    ids = {sentence.id for sentence in parsed.sentences}
    s = parsed.summary
    items = [*s.key_points, *s.people, *s.organizations, *s.locations, *s.numbers, *s.dates, *s.quotes]
    return [f"cites unknown ids {sorted(set(i.sources) - ids)}" for i in items if not set(i.sources) <= ids]


def part_cli(args: argparse.Namespace, gguf: str) -> dict[str, Any]:
    seeds = sorted(SEEDS.glob("*.txt"))[: args.articles]
    cache = args.work_dir / "cache"
    new_runs, repeat_runs, old_runs = [], [], []
    for article in seeds:
        progress(f"cli new path (llama.cpp): {article.name}")
        new_runs.append(summarize_cli(article, gguf, "auto", cache, args.threads, args.timeout))
    smallest_first = sorted(seeds, key=lambda path: path.stat().st_size)  # the old path takes minutes each
    for article in smallest_first[: args.repeat_articles]:
        progress(f"cli new path again (determinism): {article.name}")
        repeat_runs.append(summarize_cli(article, gguf, "auto", cache, args.threads, args.timeout))
    for article in smallest_first[: args.old_articles]:
        progress(f"cli old path (transformers, dequantised): {article.name}")
        old_runs.append(summarize_cli(article, gguf, "transformers", cache, args.threads, args.timeout))

    def stable(run: dict[str, Any]) -> Any:
        record = run["record"] or {}
        return {k: v for k, v in record.items() if k not in ("timings", "cache")}

    problems = {run["article"]: summary_problems(run["record"]) for run in new_runs}
    first_runs = {run["article"]: run for run in new_runs}
    deterministic = all(stable(first_runs[again["article"]]) == stable(again) for again in repeat_runs)
    compared = [(old, next(n for n in new_runs if n["article"] == old["article"])) for old in old_runs]
    for run in new_runs + repeat_runs + old_runs:
        del run["record"], run["records"]
    return {
        "new": new_runs, "repeat": repeat_runs, "old": old_runs,
        "speedups": [round(old["seconds"] / new["seconds"], 2) for old, new in compared],
        "cpu_speedups": [round(old["cpu_seconds"] / new["cpu_seconds"], 2) for old, new in compared],
        "new_peak_rss_mb": max(run["peak_rss_mb"] for run in new_runs),
        "summary_problems": {name: found for name, found in problems.items() if found},
        "deterministic": deterministic,
    }


def part_folder(args: argparse.Namespace, gguf: str) -> dict[str, Any]:
    """All seed articles in one `summarize` run on the new path: what an article costs in a folder, where the
    model loads once and llama.cpp keeps the KV states of the prompts' fixed parts."""
    progress("folder of seed articles, new path (llama.cpp)")
    run = summarize_cli(SEEDS, gguf, "auto", args.work_dir / "cache", args.threads, args.timeout)
    records = run.pop("records")
    del run["record"]
    count = len(records)
    per_article = [{"article": Path(r["source"]).name, **{k: round(v, 1) for k, v in (r.get("timings") or {}).items()}}
                   for r in records]
    return {**run, "articles": count, "seconds_per_article": round(run["seconds"] / max(count, 1), 1),
            "cpu_seconds_per_article": round(run["cpu_seconds"] / max(count, 1), 1), "timings": per_article,
            "summary_problems": {Path(r["source"]).name: found for r in records if (found := summary_problems(r))}}


# --------------------------------------------------------------------------- workers (own processes)


def _config(spec: dict[str, Any], **values: Any) -> Any:
    from summarizer.config import Config

    return Config(threads=spec["threads"], cache_dir=spec["cache_dir"], refresh=True, **values)


def _chat_model(spec: dict[str, Any], backend: str) -> tuple[Any, float]:
    from summarizer.models import load_chat_model, resolve_model

    config = _config(spec, task="summarize", llm=spec["gguf"], backend=backend)
    started = time.perf_counter()
    model = load_chat_model(resolve_model(spec["gguf"], "summary", config), config)
    return model, time.perf_counter() - started


def _summary_request(sentences_en: list[str]) -> Any:
    from summarizer.schema import Sentence
    from summarizer.summarize import SummaryRequest

    return SummaryRequest([Sentence(id=f"p{n}.s1", text=text, en=text) for n, text in enumerate(sentences_en, 1)])


def _ntrex_documents(count: int, max_sentences: int) -> list[list[str]]:
    documents = [json.loads(line) for line in NTREX_DOCS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [document["eng_sentences"][:max_sentences] for document in documents[:count]]


def worker_grammar(spec: dict[str, Any]) -> dict[str, Any]:
    """Per-token decode time, constrained against free, for the first summary call of one document."""
    from summarizer import summarize
    from summarizer.models.base import DecodeOptions
    from summarizer.summary_grammar import DEFAULT_LIMITS

    model, load_seconds = _chat_model(spec, spec["backend"])
    request = _summary_request(spec["document"])
    call = summarize._chunk_call(request.sentences, "", DEFAULT_LIMITS)
    schema = call.generated.model_json_schema()
    budget = summarize._output_tokens(model, call.generated, None)
    model.generate([call.messages], DecodeOptions(max_new_tokens=1))  # warm-up (and grammar-free prefill)
    model.generate_json([call.messages], [schema], 1)  # compiles and caches the grammar: not decoding time

    def timed(run: Any) -> tuple[float, str]:
        """CPU seconds of this process: with a fixed thread count they do not depend on what else runs."""
        started = time.process_time()
        reply = run()
        return time.process_time() - started, reply

    prefill, _ = timed(lambda: model.generate([call.messages], DecodeOptions(max_new_tokens=1))[0])
    constrained_seconds, constrained = timed(lambda: model.generate_json([call.messages], [schema], budget)[0])
    constrained_tokens = model.token_count(constrained) + 1
    # Free decoding of the same prompt for as many tokens (a free reply may otherwise run to the cap).
    free_seconds, free = timed(lambda: model.generate([call.messages], DecodeOptions(max_new_tokens=constrained_tokens))[0])
    free_tokens = model.token_count(free) + 1
    per_token_constrained = (constrained_seconds - prefill) / constrained_tokens
    per_token_free = (free_seconds - prefill) / free_tokens
    return {"backend": model.backend, "load_seconds": round(load_seconds, 2), "prefill_seconds": round(prefill, 2),
            "constrained_tokens": constrained_tokens, "free_tokens": free_tokens,
            "constrained_tokens_per_second": round(1 / per_token_constrained, 1),
            "free_tokens_per_second": round(1 / per_token_free, 1),
            "grammar_overhead": round(per_token_constrained / per_token_free - 1, 3),
            "valid_json": _valid(call, constrained)}


def _valid(call: Any, reply: str) -> bool:
    try:
        call.generated.model_validate_json(reply)
    except ValueError:
        return False
    return True


def worker_translate(spec: dict[str, Any]) -> dict[str, Any]:
    """LLM translation of the same sentences: the naive baseline (transformers fp32, one sentence per call,
    as bench.py defines it), or the product's engine on either backend."""
    from summarizer.models import load_translator, resolve_model
    from summarizer.models.base import DecodeOptions
    from summarizer.translate import TranslationEngine

    backend = "llama.cpp" if spec["mode"] == "engine-llama.cpp" else "transformers"
    dtype = "float32" if spec["mode"] == "naive" else "auto"
    config = _config(spec, mt_model=spec["gguf"], backend=backend, dtype=dtype)
    translator = load_translator(resolve_model(spec["gguf"], "translation", config), config)
    sentences = spec["sentences"]
    started, cpu_started = time.perf_counter(), time.process_time()
    if spec["mode"] == "naive":  # the prompt the product uses, one sentence per call, plain greedy
        outputs = [translator.translate([s], DecodeOptions(max_new_tokens=2 * translator.token_counts([s])[0] + 16))[0]
                   for s in sentences]
    else:
        outputs = [result.en for result in TranslationEngine(translator, beams=1, batch_tokens=config.batch_tokens)
                   .translate(sentences)]
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    tokens = sum(translator.chat_model.token_count(output) + 1 for output in outputs)
    return {"mode": spec["mode"], "backend": translator.chat_model.backend, "sentences": len(sentences),
            "seconds": round(seconds, 1), "cpu_seconds": round(cpu_seconds, 1), "generated_tokens": tokens,
            "tokens_per_second": round(tokens / seconds, 2), "tokens_per_cpu_second": round(tokens / cpu_seconds, 2)}


def worker_batch(spec: dict[str, Any]) -> dict[str, Any]:
    """N English documents summarised one at a time, then in one batched call, on transformers."""
    from summarizer import summarize

    model, _ = _chat_model(spec, "transformers")
    requests = [_summary_request(document) for document in spec["documents"]]
    started, cpu_started = time.perf_counter(), time.process_time()
    alone = [summarize.summarize_articles([request], model=model)[0] for request in requests]
    alone_seconds, alone_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    started, cpu_started = time.perf_counter(), time.process_time()
    together = summarize.summarize_articles(requests, model=model)
    together_seconds, together_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    failed = sum(isinstance(result, Exception) for result in alone + together)
    return {"documents": len(requests), "one_at_a_time_seconds": round(alone_seconds, 1),
            "batched_seconds": round(together_seconds, 1), "speedup": round(alone_seconds / together_seconds, 2),
            "one_at_a_time_cpu_seconds": round(alone_cpu, 1), "batched_cpu_seconds": round(together_cpu, 1),
            "cpu_speedup": round(alone_cpu / together_cpu, 2),
            "failed_summaries": failed, "same_summaries": sum(a == b for a, b in zip(alone, together))}


WORKERS = {"grammar": worker_grammar, "translate": worker_translate, "batch": worker_batch}


def run_worker(kind: str, spec: dict[str, Any], args: argparse.Namespace,
               env: dict[str, str] | None = None) -> dict[str, Any]:
    spec = {"threads": args.threads, **spec, "cache_dir": str(args.work_dir / "cache")}
    with tempfile.TemporaryDirectory() as scratch:
        spec_path, result_path = Path(scratch) / "spec.json", Path(scratch) / "result.json"
        spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        load = load_average()
        run = bench.measured_run([sys.executable, __file__, "--worker", kind, str(spec_path), str(result_path)],
                                 env={**bench.child_env(spec["threads"]), **(env or {})}, timeout=args.timeout)
        if run["returncode"] != 0 or not result_path.exists():
            return {"error": " | ".join(run["stderr"].strip().splitlines()[-3:]) or f"exit {run['returncode']}"}
        result = json.loads(result_path.read_text(encoding="utf-8"))
    return {**result, "seconds_total": round(run["seconds"], 1), "cpu_seconds_total": round(run["cpu_seconds"], 1),
            "peak_rss_mb": round(run["peak_rss_mb"]),
            "load_before": load, "load_after": load_average()}


def part_contention(args: argparse.Namespace, gguf: str, document: list[str]) -> list[dict[str, Any]]:
    """Decoding with two CPU hogs running (as on a machine busy with CI or other tools)."""
    import subprocess

    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        runs = []
        for label, backend, threads, env in (
            ("transformers, OpenMP's default wait (GOMP_SPINCOUNT=300000)", "transformers", 2,
             {"GOMP_SPINCOUNT": "300000"}),
            ("transformers, OMP_WAIT_POLICY=PASSIVE", "transformers", 2, {"OMP_WAIT_POLICY": "PASSIVE"}),
            ("transformers, product default (GOMP_SPINCOUNT=3000)", "transformers", 2, {}),
            ("llama.cpp, 2 threads, OpenMP's default wait, decode threads chosen by step time", "llama.cpp", 2,
             {"GOMP_SPINCOUNT": "300000"}),
            ("llama.cpp, 2 threads, product default", "llama.cpp", 2, {}),
            ("llama.cpp, 1 thread", "llama.cpp", 1, {}),
        ):
            progress(f"contention: {label}")
            result = run_worker("grammar", {"gguf": gguf, "backend": backend, "document": document,
                                            "threads": threads}, args, env)
            runs.append({"label": label, **result})
        return runs
    finally:
        for hog in hogs:
            hog.kill()


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {PARTS}")
    parser.add_argument("--gguf", help="the GGUF to run (default: the team's ../shared/tools/get-small-llm.sh, not in this repository)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per model; 1 keeps CPU-time figures comparable on a shared machine")
    parser.add_argument("--articles", type=int, default=5, help="seed articles on the new path")
    parser.add_argument("--old-articles", type=int, default=1,
                        help="seed articles on the old path, smallest first (minutes each)")
    parser.add_argument("--repeat-articles", type=int, default=1,
                        help="seed articles run twice on the new path (determinism), smallest first")
    parser.add_argument("--sentences", type=int, default=16, help="NTREX sentences for the translate part")
    parser.add_argument("--documents", type=int, default=8, help="NTREX documents for the batch part")
    parser.add_argument("--document-sentences", type=int, default=8, help="sentences per NTREX document")
    parser.add_argument("--quick", action="store_true", help="1 article, 2 sentences, 2 documents")
    parser.add_argument("--work-dir", type=Path, default=bench.WORK_DIR)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "llm_paths.json")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--grammar-backends", default="llama.cpp,transformers",
                        help="backends the grammar part measures (transformers takes minutes)")
    args = parser.parse_args(argv)
    args.parts = [p for p in args.parts.split(",") if p]
    if args.quick:
        args.articles, args.old_articles, args.repeat_articles, args.sentences, args.documents = 1, 1, 1, 2, 2
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    gguf = args.gguf or bench.small_llm(argparse.Namespace(llm=None))
    if not gguf:
        sys.exit("llm_paths: no GGUF: pass --gguf or make ../shared/tools/get-small-llm.sh work")
    results: dict[str, Any] = {"gguf": gguf, "threads": args.threads, "cpus": os.cpu_count()}
    document = _ntrex_documents(1, args.document_sentences)[0]
    if "cli" in args.parts:
        results["cli"] = part_cli(args, gguf)
    if "folder" in args.parts:
        results["folder"] = part_folder(args, gguf)
    if "grammar" in args.parts:
        results["grammar"] = []
        for backend in args.grammar_backends.split(","):
            progress(f"grammar overhead on {backend}")
            results["grammar"].append(run_worker("grammar", {"gguf": gguf, "backend": backend, "document": document}, args))
    if "translate" in args.parts:
        sentences, _ = bench.ntrex_sample(args.sentences)
        results["translate"] = []
        for mode in ("naive", "engine-transformers", "engine-llama.cpp"):
            progress(f"LLM translation, {mode}")
            results["translate"].append(run_worker("translate", {"gguf": gguf, "mode": mode, "sentences": sentences}, args))
    if "batch" in args.parts:
        progress("batched summaries on transformers")
        documents = _ntrex_documents(args.documents, args.document_sentences)
        results["batch"] = run_worker("batch", {"gguf": gguf, "documents": documents}, args)
    if "contention" in args.parts:
        results["contention"] = part_contention(args, gguf, document)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind, spec_file, result_file = sys.argv[2:5]
        outcome = WORKERS[kind](json.loads(Path(spec_file).read_text(encoding="utf-8")))
        Path(result_file).write_text(json.dumps(outcome, ensure_ascii=False), encoding="utf-8")
    else:
        main()
