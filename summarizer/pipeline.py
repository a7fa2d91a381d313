"""The per-article pipeline: ingest -> segment -> translate -> (summarize) -> check, as a plain function of
(article, config), so it can run on a distributed engine unchanged. `process_articles` is the same function
over several articles, so that their summaries are decoded in one batch.

Per-process state (the cache handle, lazily loaded models) lives in a `runtime.Runtime` memoised per
Config. Models load only on a cache miss, so a fully cached rerun never imports torch.
"""

from __future__ import annotations

import hashlib
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Callable, Iterator, Sequence

from summarizer import dates, facts, fidelity, grounding, lexicon, numbers, segment
from summarizer.cache import cache_key
from summarizer.config import Config
from summarizer.budget import time_budget
from summarizer.errors import InputError, ItemError, SetupError, SummarizerError
from summarizer.ingest import ingest
from summarizer.sources import InputDocument
from summarizer.runtime import ModelRequired, Runtime
from summarizer.schema import Article, ErrorInfo, Issue, Record, Segmented, Summary, Translation
from summarizer.translate import ENGINE_VERSION, translate_segments, valid_result

TITLE_ID = "title"
# (source, stage, done, total): how far an article has got, for a progress bar. `done`/`total` count
# sentences in the translate stage and are 0 where a stage has no finer steps.
StageCallback = Callable[[str, str, int, int], None]


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round(time.perf_counter() - start, 4)


@dataclass
class _Work:
    """One article on its way through the stages."""

    record: Record
    article: Article | None = None
    timings: dict[str, float] = field(default_factory=dict)


def process_article(doc: InputDocument, config: Config, runtime: Runtime | None = None,
                    progress: StageCallback | None = None) -> Record:
    """Everything known about one article. Item problems become an error record; setup problems raise."""
    return process_articles([doc], config, runtime, progress)[0]


def process_articles(docs: Sequence[InputDocument], config: Config, runtime: Runtime | None = None,
                     progress: StageCallback | None = None) -> list[Record]:
    """`process_article` for several articles, in order, with their summaries decoded together.

    Each article goes through ingest, segment, translate and check on its own; then the summaries that
    are not cached are generated in one batched call. An article's failure is its own error record;
    setup problems (a model that cannot load) raise. `progress`, when given, hears each stage as it
    starts and the sentences translated so far.
    """
    runtime = runtime or Runtime.for_config(config)
    report = progress or (lambda source, stage, done, total: None)
    works = []
    for doc in docs:
        work = _Work(Record(id=None, source=doc.source, source_b64=doc.source_b64))
        with _item_errors(work), time_budget(config.article_timeout, doc.source):
            _translate_stages(work, doc, runtime, report)
        works.append(work)
    if config.task == "summarize":
        for work in works:
            if work.record.error is None:
                report(work.record.source, "summarize", 0, 0)
        _summarize_stage([work for work in works if work.record.error is None], runtime)
    for work in works:
        work.record.timings = work.timings
    return [work.record for work in works]


@contextmanager
def _item_errors(work: _Work) -> Iterator[None]:
    """An item problem becomes the article's error record and the batch goes on; setup problems raise."""
    try:
        yield
    except (SetupError, ModelRequired):
        raise
    except ItemError as exc:
        work.record.error = ErrorInfo(type=type(exc).__name__, message=exc.one_line())
    except Exception as exc:  # a bug or a library failure on this article: report it, keep the batch going
        if _debugging():
            raise
        work.record.error = ErrorInfo(type=type(exc).__name__, message=f"unexpected failure: {exc}")


def _translate_stages(work: _Work, doc: InputDocument, runtime: Runtime, report: StageCallback) -> None:
    timings = work.timings
    report(doc.source, "ingest", 0, 0)
    with _timed(timings, "ingest"):
        article = ingest(doc, runtime.config.max_chars)
    work.article, work.record = article, _article_record(article)
    record = work.record
    record.source_b64 = doc.source_b64
    with _timed(timings, "segment"):
        segmented = segment.segment(article)
    if len(segmented.sentences) > runtime.config.max_sentences:
        raise InputError(f"{doc.source}: {len(segmented.sentences):,} sentences, over the limit of "
                         f"{runtime.config.max_sentences:,}", hint="split the file; this is not a single news article")
    record.paragraphs, record.sentences = segmented.paragraphs, segmented.sentences
    record.models["mt"] = runtime.resolved_mt.display
    with _timed(timings, "translate"):
        _translate(record, article, segmented, runtime, lambda done, total: report(doc.source, "translate", done, total))
    report(doc.source, "check", 0, 0)
    with _timed(timings, "check"):
        record.warnings += _check_translation(record, article, runtime)


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


def _translate(record: Record, article: Article, segmented: Segmented, runtime: Runtime,
               report: Callable[[int, int], None]) -> None:
    """Fill `en` on every sentence and the record's translation, through the article and sentence caches."""
    mt_key = runtime.mt_key
    ids = [s.id for s in segmented.sentences] + ([TITLE_ID] if article.title else [])
    texts = [s.text for s in segmented.sentences] + ([article.title] if article.title else [])
    done = 0

    def on_segments(count: int) -> None:
        nonlocal done
        done = min(len(texts), done + count)  # retried or split segments are not new sentences
        report(done, len(texts))

    report(0, len(texts))
    article_key = cache_key("translation", ENGINE_VERSION, mt_key, list(zip(ids, texts)))
    cached = runtime.cache.get(article_key, valid=lambda value: isinstance(value, dict) and set(value) == set(ids)
                               and all(map(valid_result, value.values())))
    if cached is not None:
        record.cache["translation"] = "hit"
        by_id = cached
    else:
        contexts = _contexts(segmented, ids) if runtime.resolved_mt.architecture == "causal" else None
        before = runtime.cache.hits["sentence"]
        runtime.on_segments = on_segments
        try:
            results = translate_segments(texts, contexts=contexts, engine=runtime.engine, model_key=mt_key,
                                         cache=runtime.cache)
        finally:
            runtime.on_segments = None
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


def _check_translation(record: Record, article: Article, runtime: Runtime) -> list[Issue]:
    """The translation checks, cached with the translation: they depend only on the sentences, their
    English and the title, and a cached rerun would otherwise spend most of its time here (wordfreq)."""
    title_pair = (article.title, record.translation.title) if article.title and record.translation else None
    key = cache_key("check", _check_code_hash(), [(s.id, s.text, s.en) for s in record.sentences], title_pair)
    cached = runtime.cache.get(key)
    if cached is not None:
        return [Issue.model_validate(issue) for issue in cached]
    issues = fidelity.check_translation(record.sentences, title=title_pair)
    runtime.cache.set(key, [issue.model_dump(mode="json") for issue in issues])
    return issues


@cache
def _check_code_hash() -> str:
    """SHA-256 of the checks' source files: cached check results expire when that code changes."""
    combined = hashlib.sha256()
    for module in (fidelity, lexicon, numbers, dates):
        combined.update(Path(module.__file__).read_bytes())
    return combined.hexdigest()


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
    if kind == "repaired":
        return Issue(code="repaired", stage="translate", sentence=sentence,
                     message=f"retranslated once because of {detail.replace(',', ', ')}; the retry was kept: "
                             "usable where the first reply was not, or failing fewer checks")
    return Issue(code="split-segment", stage="translate", sentence=sentence,
                 message=f"over-long sentence translated in {detail} clause-sized pieces")


def _valid_summary(value: object) -> bool:
    from pydantic import ValidationError

    try:
        Summary.model_validate(value)
        return True
    except ValidationError:
        return False


def _summarize_stage(works: Sequence[_Work], runtime: Runtime) -> None:
    """Summaries from the cache where possible, the rest generated together; then rule-based facts and
    grounding per article. `timings["summarize"]` of a generated summary is its share of the batch."""
    from summarizer import summarize

    pending: list[tuple[_Work, str, summarize.SummaryRequest]] = []
    for work in works:
        record, article = work.record, work.article
        assert article is not None  # set by _translate_stages for every article without an error
        record.models["llm"] = runtime.resolved_llm.display
        title_en = record.translation.title if record.translation else None
        key = cache_key(
            "summary", runtime.llm_key, [(s.id, s.text, s.en) for s in record.sentences], title_en,
            article.published, article.dateline.model_dump() if article.dateline else None,
        )
        cached = runtime.cache.get(key, valid=_valid_summary)
        if cached is not None:
            record.cache["summary"] = "hit"
            record.summary = Summary.model_validate(cached)
        else:
            record.cache["summary"] = "miss"
            pending.append((work, key, summarize.SummaryRequest(record.sentences, title_en, article.published,
                                                                article.dateline)))
    if pending:
        start = time.perf_counter()
        model = runtime.chat_model()  # a model that cannot load is a setup error for every article
        batch_work = _Work(Record(id=None, source="batch"))
        budget = runtime.config.article_timeout * len(pending)  # the batch gets the sum of its articles' budgets
        with _item_errors(batch_work), time_budget(budget, f"summaries of {len(pending)} article(s)"):
            results = summarize.summarize_articles([request for _, _, request in pending], model=model)
        share = round((time.perf_counter() - start) / len(pending), 4)
        for index, (work, key, _) in enumerate(pending):
            work.timings["summarize"] = share
            if batch_work.record.error is not None:
                work.record.error = batch_work.record.error
                continue
            result = results[index]
            with _item_errors(work):
                if isinstance(result, SummarizerError):
                    raise result
                runtime.cache.set(key, result.model_dump(mode="json"))
                work.record.summary = result
    for work in works:
        if work.record.summary is not None and work.record.error is None:
            start = time.perf_counter()
            with _item_errors(work):
                _ground(work.record, work.article, runtime)
            spent = work.timings.get("summarize", 0.0) + time.perf_counter() - start
            work.timings["summarize"] = round(spent, 4)


def _ground(record: Record, article: Article, runtime: Runtime) -> None:
    """Rule-based facts fill what the LLM left out; then every item is checked against its sources."""
    title_en = record.translation.title if record.translation else None
    found = facts.extract_facts(record.sentences, article.published)
    summary = facts.fill_from_rules(record.summary, found)
    summary, issues = grounding.check_summary(summary, record.sentences, strict=runtime.config.strict, title=title_en)
    record.summary = summary
    record.warnings += issues
