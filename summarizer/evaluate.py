"""`summarizer eval`: translation quality, fidelity and speed on a parallel test set.

Why it goes through the product's own path (Runtime, TranslationEngine, sentence cache) rather than a
separate decoding loop: the scores then describe what users get, with the same batching, splitting,
degenerate-output guard, model loading and settings. Scores are sacrebleu's corpus BLEU and chrF with
their signatures, so they can be compared with published numbers; fidelity rates come from the same
fidelity.check_translation warnings users see on their records.

With `baseline=True` the same model also translates the set naively (one sentence per call, a plain
request, the raw reply: no prompt rules, cleaning, guards, retries or cache), so the report shows what
the product's engine adds over the model alone.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from summarizer.config import Config
from summarizer.eval_sets import EvalDocument, EvalSet
from summarizer.schema import Sentence

# Sentences handed to the engine per call. Large enough that length-sorted batches stay full (a batch is
# ~16 news sentences), small enough for a progress bar that moves and a cache that fills as we go.
TRANSLATE_CHUNK = 256
# The same on Ray: smaller, so that every worker gets chunks and a dead worker costs little.
RAY_TRANSLATE_CHUNK = 32
RAY_NAIVE_DOCUMENTS = 8  # documents per worker call for the naive baseline (one line is one document)
@dataclass
class EvalResult:
    report: dict[str, Any]
    hypotheses: list[list[str]]  # per document, per sentence


# --------------------------------------------------------------------------- translating


@dataclass
class _Translated:
    hypotheses: list[list[str]]
    flags: list[list[list[str]]]
    translated: int  # sentences that reached the model (cache misses)
    cached: int
    seconds: float  # time in the engine: model loading and cache look-ups excluded
    load_seconds: float
    source_tokens: int  # of the translated sentences, by the model's tokenizer
    wall_seconds: float  # the whole translation step, as the user waits for it


class _MeasuredEngine:
    """Stands in for the engine inside translate_segments: times the model work and counts the source
    tokens of exactly the sentences that reached it (cache hits never do)."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.seconds = 0.0
        self.sentences = 0
        self.source_tokens = 0

    def translate(self, texts: Sequence[str], contexts: Sequence[str | None] | None = None) -> list[Any]:
        started = time.perf_counter()
        results = self.engine.translate(texts, contexts)
        self.seconds += time.perf_counter() - started
        self.sentences += len(texts)
        self.source_tokens += sum(self.engine.translator.token_counts(list(texts)))
        return results


class ChunkTranslator:
    """Chunks of sentences through the product's engine and sentence cache, timing only the model's work.
    One per process that translates (this one, or each Ray worker), so the model loads once there."""

    def __init__(self, runtime: Any):
        self.runtime = runtime
        self.measured: _MeasuredEngine | None = None
        self.load_seconds = 0.0

    def engine(self) -> _MeasuredEngine:
        if self.measured is None:
            started = time.perf_counter()
            self.measured = _MeasuredEngine(self.runtime.engine())
            self.load_seconds = time.perf_counter() - started
        return self.measured

    def __call__(self, texts: list[str], contexts: list[str | None] | None) -> list[Any]:
        from summarizer.translate import translate_segments

        return translate_segments(texts, contexts=contexts, engine=self.engine, model_key=self.runtime.mt_key,
                                  cache=self.runtime.cache)

    def counters(self) -> dict[str, float]:
        """What reached the model so far (zeros while everything came from the cache)."""
        m = self.measured
        return {"sentences": m.sentences if m else 0, "seconds": m.seconds if m else 0.0,
                "source_tokens": m.source_tokens if m else 0, "load_seconds": self.load_seconds}


def _translate(dataset: EvalSet, runtime: Any, progress: Callable[[int], None] | None,
               engine: Any = None) -> tuple[_Translated, Any]:
    """The product's translations of every sentence, locally or (with `engine`, a RayEngine) on workers."""
    started = time.perf_counter()
    resolved = runtime.resolved_mt  # resolve first: a missing model is a setup error before any work
    causal = resolved.architecture == "causal"
    texts: list[str] = []
    contexts: list[str | None] = []
    for document in dataset.documents:
        for index, source in enumerate(document.sources):
            texts.append(source)
            # LLM translators get the previous sentence of the document, as in the product.
            contexts.append(document.sources[index - 1] if causal and index > 0 else None)
    wanted = [i for i, text in enumerate(texts) if text.strip()]  # blank lines translate to ""
    size = TRANSLATE_CHUNK if engine is None else RAY_TRANSLATE_CHUNK
    chunks = [wanted[start:start + size] for start in range(0, len(wanted), size)]
    payloads = [([texts[i] for i in chunk], [contexts[i] for i in chunk] if causal else None) for chunk in chunks]
    if engine is None:
        translator = ChunkTranslator(runtime)
        results = []
        for payload in payloads:
            results.append(translator(*payload))
            if progress:
                progress(len(payload[0]))
        counters = translator.counters()
    else:
        results, counters = engine.translate_chunks(payloads, runtime, progress)
    outputs: dict[int, Any] = {i: result for chunk, chunk_results in zip(chunks, results)
                               for i, result in zip(chunk, chunk_results)}
    if progress and len(wanted) < len(texts):
        progress(len(texts) - len(wanted))

    hypotheses, flags, position = [], [], 0
    for document in dataset.documents:
        found = [outputs.get(i) for i in range(position, position + len(document.sources))]
        hypotheses.append([r.en if r else "" for r in found])
        flags.append([list(r.flags) if r else [] for r in found])
        position += len(document.sources)
    translated = int(counters["sentences"])
    return _Translated(hypotheses, flags, translated, len(wanted) - translated, counters["seconds"],
                       counters["load_seconds"], int(counters["source_tokens"]),
                       time.perf_counter() - started), resolved


# The naive baseline's request: what a user of the bare model would type, one sentence at a time.
NAIVE_PROMPT = "Translate the following Indonesian text into English:\n\n{source}"


def naive_translations(documents: Sequence[EvalDocument], runtime: Any) -> list[list[str]]:
    """The same model with none of the engine's help: one sentence per call, a plain request (for an LLM)
    and the raw reply, greedy, with the engine's output bound so neither side can run longer."""
    from summarizer.models.base import DecodeOptions
    from summarizer.translate import NEW_TOKENS_FACTOR, NEW_TOKENS_SLACK

    translator = runtime.engine().translator
    chat = getattr(translator, "chat_model", None)
    hypotheses = []
    for document in documents:
        outputs = []
        for source in document.sources:
            if not source.strip():
                outputs.append("")
                continue
            bound = int(translator.token_counts([source])[0] * NEW_TOKENS_FACTOR) + NEW_TOKENS_SLACK
            options = DecodeOptions(max_new_tokens=bound)
            if chat is not None:
                conversation = [{"role": "user", "content": NAIVE_PROMPT.format(source=source)}]
                outputs.append(chat.generate([conversation], options)[0])
            else:
                outputs.append(translator.translate([source], options)[0])
        hypotheses.append(outputs)
    return hypotheses


def _naive(dataset: EvalSet, runtime: Any, progress: Callable[[int], None] | None,
           engine: Any = None) -> list[list[str]]:
    """naive_translations of the whole set, a document at a time here or in groups on Ray's workers."""
    if engine is not None:
        groups = [dataset.documents[start:start + RAY_NAIVE_DOCUMENTS]
                  for start in range(0, len(dataset.documents), RAY_NAIVE_DOCUMENTS)]
        return [doc for group in engine.naive_translations(groups, runtime, progress) for doc in group]
    hypotheses = []
    for document in dataset.documents:
        hypotheses.extend(naive_translations([document], runtime))
        if progress:
            progress(len(document.sources))
    return hypotheses


def hygiene(dataset: EvalSet, hypotheses: list[list[str]]) -> dict[str, int]:
    """Outputs that are not one clean line of English: a line break, or talk about translating."""
    from summarizer.translate import has_commentary

    pairs = [(s, h) for d, hs in zip(dataset.documents, hypotheses) for s, h in zip(d.sources, hs)]
    return {"with_line_break": sum("\n" in h.strip() for _, h in pairs),
            "with_commentary": sum(has_commentary(s, h) for s, h in pairs)}


# --------------------------------------------------------------------------- scoring


def corpus_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, Any]:
    """sacrebleu corpus BLEU and chrF (default settings, one reference) with their signatures."""
    from sacrebleu.metrics import BLEU, CHRF

    bleu_metric, chrf_metric = BLEU(), CHRF()
    bleu = bleu_metric.corpus_score(list(hypotheses), [list(references)])
    chrf = chrf_metric.corpus_score(list(hypotheses), [list(references)])
    return {
        "segments": len(hypotheses),
        "bleu": bleu.score,
        "chrf": chrf.score,
        "bleu_brevity_penalty": bleu.bp,
        "bleu_length_ratio": bleu.ratio,
        "bleu_signature": str(bleu_metric.get_signature()),
        "chrf_signature": str(chrf_metric.get_signature()),
    }


def fidelity(dataset: EvalSet, hypotheses: list[list[str]], flags: list[list[list[str]]]) -> dict[str, Any]:
    """Share of sentences with each warning the product would attach (fidelity.check_translation per
    document, plus the engine's degenerate/split flags), and the numbers-preserved rate."""
    from summarizer import fidelity
    from summarizer.numbers import must_appear, numbers_in_indonesian
    from summarizer.pipeline import flag_issue

    codes_per_sentence: list[set[str]] = []
    numbers_total = numbers_kept = 0
    document_issues: Counter[str] = Counter()
    for document, outputs, doc_flags in zip(dataset.documents, hypotheses, flags):
        ids = [f"p1.s{n}" for n in range(1, len(document.sources) + 1)]
        sentences = [Sentence(id=i, text=s, en=h) for i, s, h in zip(ids, document.sources, outputs)]
        codes: dict[str, set[str]] = {i: set() for i in ids}
        for issue in fidelity.check_translation(sentences):
            if issue.sentence in codes:
                codes[issue.sentence].add(issue.code)
            else:
                document_issues[issue.code] += 1
        for sentence_id, sentence_flags in zip(ids, doc_flags):
            codes[sentence_id].update(flag_issue(sentence_id, flag).code for flag in sentence_flags)
        for sentence_id, source in zip(ids, document.sources):
            if any(map(must_appear, numbers_in_indonesian(source))):
                numbers_total += 1
                # A number lost: absent or mangled (fidelity.NUMBER_LOSS), or the translation is empty.
                numbers_kept += not (codes[sentence_id] & (fidelity.NUMBER_LOSS | {"empty-translation"}))
        codes_per_sentence.extend(codes[i] for i in ids)

    total = len(codes_per_sentence)
    counts = Counter(code for codes in codes_per_sentence for code in codes)
    rates = {code: counts[code] / total for code in sorted(counts)}
    return {
        "sentences": total,
        "sentences_with_issues": sum(1 for codes in codes_per_sentence if codes),
        "issue_counts": dict(sorted(counts.items())),
        "issue_rates": rates,
        "document_issue_counts": dict(sorted(document_issues.items())),
        "sentences_with_numbers": numbers_total,
        "numbers_preserved_rate": numbers_kept / numbers_total if numbers_total else None,
        "untranslated_word_rate": rates.get("untranslated-word", 0.0),
        "length_ratio_outlier_rate": rates.get("length-ratio", 0.0),
    }


# --------------------------------------------------------------------------- the whole evaluation


def _scores(dataset: EvalSet, hypotheses: list[list[str]]) -> dict[str, Any]:
    flat_hypotheses = [h for doc in hypotheses for h in doc]
    flat_references = [r for doc in dataset.documents for r in doc.references]
    scores: dict[str, Any] = {"sentence": corpus_scores(flat_hypotheses, flat_references), "document": None}
    if dataset.mode == "documents":
        scores["document"] = corpus_scores(
            [" ".join(doc) for doc in hypotheses], [" ".join(d.references) for d in dataset.documents]
        )
    return scores


def evaluate(dataset: EvalSet, config: Config, progress: Callable[[int], None] | None = None,
             baseline: bool = False, engine: Any = None) -> EvalResult:
    """Translate `dataset` with the product's engine under `config`, then score it; with `baseline`, also
    translate it naively with the same model and score that too (report key "baseline").

    `progress` is called with the number of sentences finished after each chunk. `engine` (a RayEngine)
    translates on a Ray cluster's workers instead of in this process; the cache stays here.
    """
    from summarizer.runtime import Runtime

    runtime = Runtime(config)
    try:
        translated, resolved = _translate(dataset, runtime, progress, engine)
        naive = _naive(dataset, runtime, progress, engine) if baseline else None
    finally:
        if engine is not None:
            engine.close()
        runtime.close()
    scores = _scores(dataset, translated.hypotheses)
    seconds = translated.seconds
    timed = bool(translated.translated and seconds > 0)
    report = {
        "dataset": {"mode": dataset.mode, **dataset.description, "documents": len(dataset.documents),
                    "sentences": dataset.sentence_count},
        "model": {
            "spec": resolved.spec, "display": resolved.display, "kind": resolved.kind,
            "architecture": resolved.architecture, "fingerprint": resolved.fingerprint,
            "revision": resolved.revision, "dtype": config.dtype, "quantize": config.quantize,
            "beams": config.beams, "threads": config.threads, "batch_tokens": config.batch_tokens,
        },
        "scores": scores,
        "fidelity": fidelity(dataset, translated.hypotheses, translated.flags),
        "hygiene": hygiene(dataset, translated.hypotheses),
        "speed": {
            "translated_sentences": translated.translated,
            "cached_sentences": translated.cached,
            "model_load_seconds": round(translated.load_seconds, 3),
            "translate_seconds": round(seconds, 3),
            "sentences_per_second": translated.translated / seconds if timed else None,
            "source_tokens": translated.source_tokens,
            "source_tokens_per_second": translated.source_tokens / seconds if timed else None,
            # Where the model ran, and the whole step's wall time (with Ray: starting it, workers loading
            # models, shipping): translate_seconds sums every worker's model time.
            "engine": "local" if engine is None else "ray",
            "workers": 1 if engine is None else engine.stats.actors,
            "wall_seconds": round(translated.wall_seconds, 3),
        },
    }
    if naive is not None:
        report["baseline"] = {
            "method": "same model, one sentence per call, plain request, raw reply, no guards or cache",
            "prompt": NAIVE_PROMPT if resolved.architecture == "causal" else None,
            "scores": _scores(dataset, naive),
            "fidelity": fidelity(dataset, naive, [[[] for _ in doc] for doc in naive]),
            "hygiene": hygiene(dataset, naive),
        }
    return EvalResult(report=report, hypotheses=translated.hypotheses)
