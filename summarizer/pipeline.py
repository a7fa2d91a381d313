"""The per-article pipeline: ingest -> segment -> translate -> (summarize) -> check, as a plain function of
(article, config), so it can later run on a distributed engine unchanged.

Per-process state (the cache handle, lazily loaded models) lives in a `Runtime` memoised per Config.
Models load only on a cache miss, so a fully cached rerun never imports torch.
"""

from __future__ import annotations

import hashlib
import sys
import time
from contextlib import contextmanager
from functools import cached_property
from importlib import resources
from typing import Callable, Iterator

from summarizer import check, segment
from summarizer.cache import ResultCache, cache_key
from summarizer.config import Config
from summarizer.errors import ItemError, SetupError
from summarizer.ingest import InputDocument, ingest
from summarizer.models import resolve_model
from summarizer.models.base import ChatModel, ResolvedModel
from summarizer.schema import Article, ErrorInfo, Issue, Record, Segmented, Summary, Translation
from summarizer.translate import ENGINE_VERSION, TranslationEngine, translate_segments

TITLE_ID = "title"


def template_hash(name: str) -> str:
    """SHA-256 of a prompt template shipped in prompts/: part of every cache key that depends on it."""
    return hashlib.sha256(resources.files("summarizer.prompts").joinpath(name).read_bytes()).hexdigest()


def _stderr_warning(message: str) -> None:
    print(f"summarizer: warning: {message}", file=sys.stderr)


class Runtime:
    """What one process keeps between articles for a given Config: the cache and the loaded models."""

    _shared: dict[Config, "Runtime"] = {}

    def __init__(self, config: Config, warn: Callable[[str], None] = _stderr_warning):
        self.config = config
        self.cache = ResultCache(config.cache_dir, enabled=config.use_cache, refresh=config.refresh, warn=warn)
        self._engine: TranslationEngine | None = None
        self._chat_models: dict[str, ChatModel] = {}

    @classmethod
    def for_config(cls, config: Config) -> "Runtime":
        if config not in cls._shared:
            cls._shared[config] = cls(config)
        return cls._shared[config]

    def close(self) -> None:
        self.cache.close()
        self._shared.pop(self.config, None)

    @cached_property
    def mt(self) -> ResolvedModel:
        return resolve_model(self.config.mt_model, "translation", self.config)

    @cached_property
    def llm(self) -> ResolvedModel:
        return resolve_model(self.config.llm, "summary", self.config)

    @cached_property
    def mt_key(self) -> list[object]:
        """Everything besides the input that can change a translation."""
        mt, cfg = self.mt, self.config
        prompt = template_hash("translate.v1.txt") if mt.architecture == "causal" else None
        return [mt.fingerprint, mt.architecture, mt.settings, cfg.dtype, cfg.quantize, cfg.beams, prompt]

    @cached_property
    def llm_key(self) -> list[object]:
        from summarizer.summarize import prompt_hash

        return [self.llm.fingerprint, self.config.dtype, self.config.quantize, prompt_hash()]

    def engine(self) -> TranslationEngine:
        if self._engine is None:
            from summarizer import models

            if self.mt.architecture == "causal":
                from summarizer.models.llm_translator import LLMTranslator

                translator = LLMTranslator(self._chat_model_for(self.mt))
            else:
                translator = models.load_translator(self.mt, self.config)
            self._engine = TranslationEngine(translator, beams=self.config.beams,
                                             batch_tokens=self.config.batch_tokens)
        return self._engine

    def chat_model(self) -> ChatModel:
        return self._chat_model_for(self.llm)

    def _chat_model_for(self, resolved: ResolvedModel) -> ChatModel:
        """One loaded LLM per set of weights: an LLM used for both stages is loaded once."""
        if resolved.fingerprint not in self._chat_models:
            from summarizer import models

            self._chat_models[resolved.fingerprint] = models.load_chat_model(resolved, self.config)
        return self._chat_models[resolved.fingerprint]


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round(time.perf_counter() - start, 4)


def process_article(doc: InputDocument, config: Config, runtime: Runtime | None = None) -> Record:
    """Everything known about one article. Item problems become an error record; setup problems raise."""
    runtime = runtime or Runtime.for_config(config)
    timings: dict[str, float] = {}
    record = Record(id=None, source=doc.source)
    try:
        with _timed(timings, "ingest"):
            article = ingest(doc)
        record = _article_record(article)
        with _timed(timings, "segment"):
            segmented = segment.segment(article)
        record.paragraphs, record.sentences = segmented.paragraphs, segmented.sentences
        record.models["mt"] = runtime.mt.display
        with _timed(timings, "translate"):
            _translate(record, article, segmented, runtime)
        with _timed(timings, "check"):
            title_pair = (article.title, record.translation.title) if article.title and record.translation else None
            record.warnings += check.check_translation(record.sentences, title=title_pair)
        if config.task == "summarize":
            record.models["llm"] = runtime.llm.display
            with _timed(timings, "summarize"):
                _summarize(record, article, runtime)
    except SetupError:
        raise
    except ItemError as exc:
        record.error = ErrorInfo(type=type(exc).__name__, message=exc.one_line())
    except Exception as exc:  # a bug or a library failure on this article: report it, keep the batch going
        if _debugging():
            raise
        record.error = ErrorInfo(type=type(exc).__name__, message=f"unexpected failure: {exc}")
    record.timings = timings
    return record


def _debugging() -> bool:
    import os

    return bool(os.environ.get("SUMMARIZER_DEBUG"))


def _article_record(article: Article) -> Record:
    return Record(
        id=article.text_hash[:16],
        source=article.source,
        title=article.title,
        dateline=article.dateline,
        published=article.published,
        removed=article.removed,
        warnings=list(article.warnings),
    )


def _translate(record: Record, article: Article, segmented: Segmented, runtime: Runtime) -> None:
    """Fill `en` on every sentence and the record's translation, through the article and sentence caches."""
    mt_key = runtime.mt_key
    ids = [s.id for s in segmented.sentences] + ([TITLE_ID] if article.title else [])
    texts = [s.text for s in segmented.sentences] + ([article.title] if article.title else [])
    article_key = cache_key("translation", ENGINE_VERSION, mt_key, list(zip(ids, texts)))
    cached = runtime.cache.get(article_key)
    if cached is not None:
        record.cache["translation"] = "hit"
        by_id = cached
    else:
        contexts = _contexts(segmented, ids) if runtime.mt.architecture == "causal" else None
        before = runtime.cache.hits["sentence"]
        results = translate_segments(texts, contexts=contexts, engine=runtime.engine, model_key=mt_key,
                                     cache=runtime.cache)
        by_id = {i: {"en": r.en, "flags": r.flags} for i, r in zip(ids, results)}
        runtime.cache.set(article_key, by_id)
        record.cache["translation"] = "partial" if runtime.cache.hits["sentence"] > before else "miss"

    for sentence in record.sentences:
        sentence.en = by_id[sentence.id]["en"]
    for sentence_id, result in by_id.items():
        for flag in result["flags"]:
            record.warnings.append(flag_issue(sentence_id, flag))
    title_en = by_id[TITLE_ID]["en"] if article.title else None
    text = "\n\n".join(
        " ".join(by_id[sentence_id]["en"] for sentence_id in paragraph) for paragraph in segmented.paragraphs
    )
    record.translation = Translation(title=title_en, text=text)


def _contexts(segmented: Segmented, ids: list[str]) -> list[str | None]:
    """For LLM translation: the previous sentence of the same paragraph, as reference context."""
    previous: dict[str, str | None] = {}
    by_id = {s.id: s.text for s in segmented.sentences}
    for paragraph in segmented.paragraphs:
        for before, current in zip([None, *paragraph[:-1]], paragraph):
            previous[current] = by_id[before] if before else None
    return [previous.get(i) for i in ids]


def flag_issue(sentence_id: str, flag: str) -> Issue:
    """The warning for one engine flag; `summarizer eval` counts the same codes."""
    kind, _, detail = flag.partition(":")
    sentence = None if sentence_id == TITLE_ID else sentence_id
    if kind == "degenerate":
        return Issue(code="degenerate-output", stage="translate", sentence=sentence,
                     message=f"translation still looks degenerate ({detail}) after a retry with repetition guards")
    return Issue(code="split-segment", stage="translate", sentence=sentence,
                 message=f"over-long sentence translated in {detail} clause-sized pieces")


def _summarize(record: Record, article: Article, runtime: Runtime) -> None:
    from summarizer import extract, summarize

    title_en = record.translation.title if record.translation else None
    key = cache_key(
        "summary", runtime.llm_key, [(s.id, s.text, s.en) for s in record.sentences], title_en,
        article.published, article.dateline.model_dump() if article.dateline else None,
    )
    cached = runtime.cache.get(key)
    if cached is not None:
        record.cache["summary"] = "hit"
        summary = Summary.model_validate(cached)
    else:
        record.cache["summary"] = "miss"
        summary = summarize.summarize_article(
            record.sentences, title_en=title_en, published=article.published, dateline=article.dateline,
            model=runtime.chat_model(),
        )
        runtime.cache.set(key, summary.model_dump(mode="json"))
    facts = extract.extract_facts(record.sentences, article.published)
    summary = extract.fill_from_rules(summary, facts)
    summary, issues = check.check_summary(summary, record.sentences, strict=runtime.config.strict, title=title_en)
    record.summary = summary
    record.warnings += issues
