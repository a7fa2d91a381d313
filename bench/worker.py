"""One benchmark configuration, run in its own process so that its peak RSS is its own.

    python bench/worker.py SPEC.json RESULT.json

SPEC["kind"] picks the measurement: "naive" (one sentence at a time through plain transformers
`generate`, fp32: the baseline), "engine" (our TranslationEngine via load_translator), "quality"
(`summarizer eval`'s evaluate() on aligned lines).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _set_threads(threads: int) -> None:
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(threads)


def _resolve(spec: str, task: str, config: Any):
    from summarizer.models import resolve_model

    return resolve_model(spec, task, config)


def _local_dir(resolved: Any) -> Path:
    """Where transformers can load the resolved model from, offline."""
    if resolved.kind in ("preset", "hub"):
        from summarizer.models.resolve import local_snapshot_dir

        return local_snapshot_dir(resolved)
    return Path(resolved.location)


def _naive_inputs(tokenizer: Any, resolved: Any, sentence: str) -> dict[str, Any]:
    if resolved.architecture == "causal":
        # The exact conversation the product's LLM translator sends (no context), through the chat template.
        from summarizer.models.llm_translator import TranslationPrompt

        prompt = tokenizer.apply_chat_template(TranslationPrompt.load().conversation(sentence, None),
                                               add_generation_prompt=True, tokenize=False)
        return dict(tokenizer(prompt, return_tensors="pt", add_special_tokens=False))
    return dict(tokenizer(sentence, return_tensors="pt"))


def _target_token(tokenizer: Any, resolved: Any) -> int | None:
    target = resolved.settings.get("tgt_lang")
    if not target:
        return None
    if hasattr(tokenizer, "get_lang_id"):
        return tokenizer.get_lang_id(target)
    return tokenizer.convert_tokens_to_ids(target)


def _config(spec: dict[str, Any], **values: Any) -> Any:
    """The product's Config for this run. The cache directory is the benchmark's own, with `refresh` on:
    no result is ever read from it (every sentence is translated), while a GGUF's dequantised weights
    are still reused between runs (loading is not what we time, and it takes ~28 s)."""
    from summarizer.config import Config

    return Config(threads=spec["threads"], cache_dir=spec["cache_dir"], use_cache=True, refresh=True, **values)


def run_naive(spec: dict[str, Any]) -> dict[str, Any]:
    """The baseline: fp32, one sentence per `generate` call, nothing else."""
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    _set_threads(spec["threads"])
    config = _config(spec, mt_model=spec["model"], dtype="float32")
    resolved = _resolve(spec["model"], "translation", config)
    directory = _local_dir(resolved)
    load_kwargs: dict[str, Any] = {"gguf_file": resolved.gguf_file} if resolved.gguf_file else {}
    languages = {k: v for k, v in resolved.settings.items() if k in ("src_lang", "tgt_lang")}
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(directory), **load_kwargs, **languages)
    auto = AutoModelForCausalLM if resolved.architecture == "causal" else AutoModelForSeq2SeqLM
    model = auto.from_pretrained(str(directory), dtype="float32", **load_kwargs).eval()
    load_seconds = time.perf_counter() - started
    extra: dict[str, Any] = {"repetition_penalty": 1.0}  # as the product: no model-shipped penalties
    forced_bos = _target_token(tokenizer, resolved)
    if forced_bos is not None:
        extra["forced_bos_token_id"] = forced_bos
    if resolved.architecture == "causal":
        extra["pad_token_id"] = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    import torch

    def translate(sentence: str, new_tokens: int) -> tuple[str, int]:
        inputs = _naive_inputs(tokenizer, resolved, sentence)
        with torch.inference_mode():
            output = model.generate(**inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, num_beams=1,
                                    do_sample=False, **extra)
        prompt_length = inputs["input_ids"].shape[1] if resolved.architecture == "causal" else 0
        return tokenizer.decode(output[0][prompt_length:], skip_special_tokens=True), output.shape[1] - prompt_length

    translate(spec["sentences"][0], 2)  # warm-up: first-call allocations are not throughput
    source_tokens = sum(len(tokenizer(s)["input_ids"]) for s in spec["sentences"])
    started = time.perf_counter()
    outputs = [translate(s, spec["new_tokens"])[0] for s in spec["sentences"]]
    seconds = time.perf_counter() - started
    return _throughput(spec, outputs, seconds, load_seconds, source_tokens, resolved)


def run_engine(spec: dict[str, Any]) -> dict[str, Any]:
    """Our engine exactly as the product builds it, under the configuration's dtype/quantize."""
    from summarizer.models import load_translator
    from summarizer.translate import TranslationEngine

    _set_threads(spec["threads"])
    config = _config(spec, mt_model=spec["model"], dtype=spec["dtype"], quantize=spec["quantize"])
    resolved = _resolve(spec["model"], "translation", config)
    started = time.perf_counter()
    translator = load_translator(resolved, config)
    load_seconds = time.perf_counter() - started
    # Every sentence decodes exactly new_tokens tokens (the engine's forced lengths), so no configuration looks
    # faster by stopping earlier; the quality section runs the full engine.
    def engine(new_tokens: int) -> TranslationEngine:
        return TranslationEngine(translator, beams=1, batch_tokens=config.batch_tokens, forced_new_tokens=new_tokens)

    engine(2).translate(spec["sentences"][:1])  # warm-up
    started = time.perf_counter()
    results = engine(spec["new_tokens"]).translate(spec["sentences"])
    seconds = time.perf_counter() - started
    source_tokens = sum(translator.token_counts(spec["sentences"]))
    return _throughput(spec, [r.en for r in results], seconds, load_seconds, source_tokens, resolved)


def _throughput(spec: dict[str, Any], outputs: Sequence[str], seconds: float, load_seconds: float,
                source_tokens: int, resolved: Any) -> dict[str, Any]:
    sentences = len(spec["sentences"])
    return {
        "model": resolved.display,
        "architecture": resolved.architecture,
        "sentences": sentences,
        "new_tokens_per_sentence": spec["new_tokens"],
        "seconds": seconds,
        "load_seconds": load_seconds,
        "source_tokens": source_tokens,
        "source_tokens_per_second": source_tokens / seconds,
        "generated_tokens_per_second": sentences * spec["new_tokens"] / seconds,
        "sentences_per_second": sentences / seconds,
        "outputs": list(outputs),
    }


def run_quality(spec: dict[str, Any]) -> dict[str, Any]:
    """evaluate() (the code behind `summarizer eval`) on the first N aligned lines, full engine."""
    from summarizer.eval_sets import EvalDocument, EvalSet
    from summarizer.evaluate import evaluate

    _set_threads(spec["threads"])
    config = _config(spec, mt_model=spec["model"], dtype=spec["dtype"], quantize=spec["quantize"])
    documents = [EvalDocument(f"line{n}", [s], [r]) for n, (s, r) in enumerate(zip(spec["sentences"], spec["references"]), 1)]
    result = evaluate(EvalSet("lines", documents), config)
    return {"report": result.report, "outputs": [doc[0] for doc in result.hypotheses]}


RUNNERS = {"naive": run_naive, "engine": run_engine, "quality": run_quality}


def main(spec_path: str, result_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    result = RUNNERS[spec["kind"]](spec)
    result["worker_peak_rss_mb"] = _peak_rss_mb()
    Path(result_path).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:3])
