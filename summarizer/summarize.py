"""Summarize stage: an article's English sentences -> a schema-valid, source-citing `Summary` from a local LLM.

Why it is built this way:
- Decoding is constrained (by the model backend: xgrammar or llama.cpp grammars) to a JSON schema derived
  from `schema.Summary` (summary_grammar.py). Whatever the model does (or whatever an instruction hidden
  in the article asks for), the reply has the Summary's shape, and every cited id exists. Every string
  has a length cap and every list a maxItems, so the grammar is finite and generation always ends (with
  free whitespace or unbounded strings a model was seen to run on to max_new_tokens).
- The model reads the English translation with sentence ids visible ("[p2.s1] ..."), so it can cite; the
  article sits between delimiters as data, and the prompt tells the model never to obey text inside it
  (summary_prompt.py).
- Fields the LLM must not fill are not in the grammar: `publication` is filled here from the dateline
  and date; `grounding`, per-item `issues` and rule-based facts belong to grounding.py and facts.py.
- Articles longer than the model's context are summarised in chunks of whole paragraphs and merged
  (see `_merge_call`). Several articles are summarised together (`summarize_articles`), so a backend
  that decodes a batch of rows at once runs a folder at batch speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from pydantic import BaseModel, ValidationError

from summarizer.errors import GenerationError, InputError, SummarizerError
from summarizer.models.base import ChatModel
from summarizer.schema import Dateline, Publication, Sentence, Summary
from summarizer.summary_grammar import DEFAULT_LIMITS, SummaryLimits, generation_model, max_document_chars
from summarizer.summary_prompt import (block_lines, context_header, messages, paragraphs, render_merge_prompt,
                                      render_partial, render_summary_prompt, sentence_lines)


# The prose fields and key points a merge call rewrites for the whole article; the fact lists are merged
# deterministically (see `_merge_call`).
_MERGED_BY_LLM = ("headline", "one_line", "summary", "key_points")

# Tokens the chat template adds around the messages (role markers, separators); token_count() only sees
# the message text. Qwen-style templates add ~10.
CHAT_TEMPLATE_MARGIN = 32


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class SummaryRequest:
    """One article to summarise: its sentences (with English `en`) and the context shown with them."""

    sentences: Sequence[Sentence]
    title_en: str | None = None
    published: str | None = None
    dateline: Dateline | None = None


def summarize_article(
    sentences: Sequence[Sentence],
    *,
    title_en: str | None,
    published: str | None,
    dateline: Dateline | None,
    model: ChatModel,
    max_new_tokens: int | None = None,
    limits: SummaryLimits = DEFAULT_LIMITS,
) -> Summary:
    """Summarise one article (see `summarize_articles`).

    Raises:
        InputError: there are no sentences.
        GenerationError: the model's reply is not a complete summary (e.g. cut off at max_new_tokens), or
            one sentence alone does not fit the model's context.
    """
    [result] = summarize_articles([SummaryRequest(sentences, title_en, published, dateline)], model=model,
                                  max_new_tokens=max_new_tokens, limits=limits)
    if isinstance(result, SummarizerError):
        raise result
    return result


def summarize_articles(
    requests: Sequence[SummaryRequest],
    *,
    model: ChatModel,
    max_new_tokens: int | None = None,
    limits: SummaryLimits = DEFAULT_LIMITS,
) -> list[Summary | SummarizerError]:
    """Summarise several articles with grammar-constrained greedy decoding, their model calls batched.

    Every article's first-pass chunks go to the model in one `generate_json` call, then each round of
    merges in another, so a backend that decodes rows together (transformers) runs a folder at batch
    speed. Articles fail alone: one that cannot be summarised gets its error in its slot.

    Args:
        requests: the articles; sentences carry their English `en` (the Indonesian `text` is used where
            `en` is missing, and shown next to quote-bearing sentences for Quote.text_id).
        model: the instruction LLM.
        max_new_tokens: output cap per call; default: the grammar's longest document, clamped to half
            the context (see `_output_tokens`).
        limits: the grammar's caps.

    Returns:
        Per request, a Summary (origin "llm" on every item, every `sources` id one of that article's
        sentence ids) or the InputError/GenerationError that stopped it.
    """
    results: list[Summary | SummarizerError | None] = [None] * len(requests)
    calls: list[tuple[int, _Call]] = []
    for index, request in enumerate(requests):
        try:
            if not request.sentences:
                raise InputError("nothing to summarise: the article has no sentences", hint="check the input text")
            header = context_header(request.title_en, request.published, request.dateline)
            chunks = plan_chunks(request.sentences, model=model, header=header, max_new_tokens=max_new_tokens,
                                 limits=limits)
            calls.extend((index, _chunk_call(chunk, header, limits)) for chunk in chunks)
        except SummarizerError as error:
            results[index] = error
    partials: dict[int, list[Summary]] = {}
    for (index, _), outcome in zip(calls, _run_calls([call for _, call in calls], model, max_new_tokens)):
        if isinstance(outcome, SummarizerError):
            results[index] = results[index] or outcome
        else:
            partials.setdefault(index, []).append(outcome)
    _merge_rounds(partials, results, model, max_new_tokens, limits)
    for index, parts in partials.items():
        if results[index] is None:
            request = requests[index]
            results[index] = parts[0].model_copy(update={"publication": _publication(request.dateline,
                                                                                     request.published)})
    return results  # type: ignore[return-value]  # every slot is filled by now


def _merge_rounds(partials: dict[int, list[Summary]], results: list[Any], model: ChatModel,
                  max_new_tokens: int | None, limits: SummaryLimits) -> None:
    """Merge each article's consecutive partial summaries in groups that fit, until one is left; every
    round's merge calls, across articles, go to the model together."""
    # Merge budget: the reply reserve uses a long id ("p9999.s9999") as a stand-in for the cited ids.
    merge_budget = _room(model, render_merge_prompt([], limits),
                         generation_model(["p9999.s9999"], limits, _MERGED_BY_LLM), max_new_tokens)
    while True:
        plans: dict[int, list[list[Summary]]] = {}
        for index, parts in partials.items():
            if results[index] is not None or len(parts) == 1:
                continue
            try:
                groups = _pack(parts, merge_budget, lambda part: model.token_count(render_partial(0, part)) + 2,
                               "partial summary")
                if len(groups) == len(parts):
                    raise GenerationError(
                        f"the model's context ({model.context_length} tokens) cannot hold two partial summaries "
                        "to merge", hint="use a model with a longer context, or lower max_new_tokens")
            except GenerationError as error:
                results[index] = error
                continue
            plans[index] = groups
        if not plans:
            return
        calls = [(index, position, _merge_call(group, limits)) for index, groups in plans.items()
                 for position, group in enumerate(groups) if len(group) > 1]
        merged = dict(zip([(index, position) for index, position, _ in calls],
                          _run_calls([call for _, _, call in calls], model, max_new_tokens)))
        for index, groups in plans.items():
            outcomes = [group[0] if len(group) == 1 else merged[(index, position)]
                        for position, group in enumerate(groups)]
            failure = next((outcome for outcome in outcomes if isinstance(outcome, SummarizerError)), None)
            if failure is not None:
                results[index] = failure
            else:
                partials[index] = outcomes


def plan_chunks(
    sentences: Sequence[Sentence],
    *,
    model: ChatModel,
    header: str = "",
    max_new_tokens: int | None = None,
    limits: SummaryLimits = DEFAULT_LIMITS,
) -> list[list[Sentence]]:
    """Split the article into consecutive chunks that each fit one summary call.

    Whole paragraphs are kept together; a paragraph too long for one call is split between sentences.

    Raises:
        GenerationError: a single sentence does not fit the model's context next to the prompt and output.
    """
    budget = input_token_budget(model, [s.id for s in sentences], header=header,
                                max_new_tokens=max_new_tokens, limits=limits)
    units: list[list[Sentence]] = []
    for paragraph in paragraphs(sentences):
        if _block_tokens(model, paragraph) <= budget:
            units.append(paragraph)
        else:
            units.extend([sentence] for sentence in paragraph)
    groups = _pack(units, budget, lambda unit: _block_tokens(model, unit), "sentence")
    return [[sentence for unit in group for sentence in unit] for group in groups]


def input_token_budget(
    model: ChatModel,
    sentence_ids: Sequence[str],
    *,
    header: str = "",
    max_new_tokens: int | None = None,
    limits: SummaryLimits = DEFAULT_LIMITS,
) -> int:
    """Tokens of article text one summary call can take."""
    return _room(model, render_summary_prompt(header, [], limits), generation_model(sentence_ids, limits),
                 max_new_tokens)


def _room(model: ChatModel, empty_prompt: tuple[str, str], generated: type[BaseModel],
          max_new_tokens: int | None) -> int:
    """The context minus the prompt's fixed part (its messages without the data) and the reply reserve."""
    fixed = sum(model.token_count(message) for message in empty_prompt) + CHAT_TEMPLATE_MARGIN
    return model.context_length - fixed - _output_tokens(model, generated, max_new_tokens)


# --------------------------------------------------------------------------- generation schema


def _output_tokens(model: ChatModel, generated: type[BaseModel], max_new_tokens: int | None) -> int:
    """Tokens reserved for one reply. Every constrained token emits at least one character, so the
    document's character bound guarantees the grammar completes. Real tokenizers average ~4 characters
    per token, so half the context always holds a real summary; the clamp keeps the other half for the
    article. A reply that still hits the cap raises GenerationError, never a half summary."""
    if max_new_tokens is not None:
        return max_new_tokens
    return min(max_document_chars(generated.model_json_schema()), model.context_length // 2)


# --------------------------------------------------------------------------- prompts


def _block_tokens(model: ChatModel, sentences: Sequence[Sentence]) -> int:
    # +2 per paragraph: the newlines that join it to its neighbours
    return model.token_count("\n".join(sentence_lines(sentence) for sentence in sentences)) + 2


# --------------------------------------------------------------------------- generation


@dataclass(frozen=True)
class _Call:
    """One constrained model call: its messages, the schema of its reply, and how a valid reply becomes a
    Summary."""

    messages: list[dict[str, str]]
    generated: type[BaseModel]
    what: str
    finish: Callable[[BaseModel], Summary]


def _chunk_call(sentences: Sequence[Sentence], header: str, limits: SummaryLimits) -> _Call:
    system, user = render_summary_prompt(header, block_lines(sentences), limits)
    return _Call(messages(system, user), generation_model([s.id for s in sentences], limits),
                 f"sentences {sentences[0].id}-{sentences[-1].id}", lambda reply: _to_summary(reply.model_dump()))


def _merge_call(parts: Sequence[Summary], limits: SummaryLimits) -> _Call:
    """Merge partial summaries of consecutive chunks into one.

    Why a hybrid: the headline, one-line, summary and key points must describe the whole article, which
    takes a second constrained LLM call over the partial summaries (each key point shown with its
    citations, and the grammar's `sources` enum restricted to the ids they cite, so the merged key
    points stay grounded). The fact lists (people, dates, numbers, quotes, ...) are extractive: a
    deterministic union de-duplicated by name/value loses nothing and invents nothing, where re-copying
    them through a small LLM would cost output tokens and risk dropping or altering facts.
    """
    cited = [source for part in parts for point in part.key_points for source in point.sources]

    def finish(reply: BaseModel) -> Summary:
        merged = reply.model_dump()
        for name in _UNION_KEYS.keys() - set(_MERGED_BY_LLM):
            merged[name] = [_plain(item) for part in parts for item in getattr(part, name)]
        return _to_summary(merged)

    system, user = render_merge_prompt(parts, limits)
    return _Call(messages(system, user), generation_model(cited, limits, _MERGED_BY_LLM),
                 f"merge of {len(parts)} partial summaries", finish)


def _run_calls(calls: Sequence[_Call], model: ChatModel, max_new_tokens: int | None) -> list[Summary | GenerationError]:
    """All `calls` through the model, batched by reply budget; each reply parsed and finished, or the
    GenerationError that says why it is not a complete summary."""
    budgets = [_output_tokens(model, call.generated, max_new_tokens) for call in calls]
    outcomes: list[Summary | GenerationError | None] = [None] * len(calls)
    for budget in sorted(set(budgets)):
        indices = [i for i, b in enumerate(budgets) if b == budget]
        replies = model.generate_json([calls[i].messages for i in indices],
                                      [calls[i].generated.model_json_schema() for i in indices], budget)
        for i, reply in zip(indices, replies):
            try:
                outcomes[i] = calls[i].finish(calls[i].generated.model_validate_json(reply))
            except ValidationError as error:
                problem = error.errors()[0]
                outcomes[i] = GenerationError(
                    f"the summary model's reply for {calls[i].what} is not a complete summary "
                    f"({problem['type']}: {problem['msg']}; {model.token_count(reply)} tokens of "
                    f"max_new_tokens={budget})",
                    hint="raise max_new_tokens, or use a model with a longer context")
    return outcomes  # type: ignore[return-value]


# --------------------------------------------------------------------------- assembling the Summary


def _to_summary(generated: dict[str, Any]) -> Summary:
    """Generated fields -> schema.Summary: repeated items merged (greedy decoding of a small model can
    repeat a key point verbatim), repeated citations removed, items marked origin "llm"."""
    data = dict(generated)
    for name, key in _UNION_KEYS.items():
        if name in data:
            data[name] = _union(data[name], key)
    for name, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            data[name] = [{**item, "sources": list(dict.fromkeys(item["sources"])), "origin": "llm"} for item in value]
    return Summary.model_validate(data)


def _plain(item: Any) -> Any:
    return item.model_dump() if isinstance(item, BaseModel) else item


def _text_key(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


# What makes two items of a list the same fact (on plain data), for de-duplication and chunk merges.
_UNION_KEYS: dict[str, Callable[[Any], Any]] = {
    "key_points": lambda item: _text_key(item["text"]),
    "people": lambda item: _text_key(item["name"]),
    "organizations": lambda item: _text_key(item["name"]),
    "locations": lambda item: _text_key(item["name"]),
    "dates": lambda item: (_text_key(item["text"]), item["iso"]),
    "numbers": lambda item: (item["value"], _text_key(item["unit"]), _text_key(item["what"])),
    "quotes": lambda item: _text_key(item["text_id"]),
    "topics": _text_key,
}


def _union(items: Sequence[Any], key: Callable[[Any], Any]) -> list[Any]:
    """Plain items de-duplicated by `key`, first wins; a duplicate fact adds its citations and fills the
    first one's empty fields."""
    merged: dict[Any, Any] = {}
    for item in items:
        first = merged.get(key(item))
        if first is None:
            merged[key(item)] = dict(item) if isinstance(item, dict) else item
        elif isinstance(first, dict):
            first["sources"] = first["sources"] + item["sources"]
            first.update({field: value for field, value in item.items() if first.get(field) is None})
    return list(merged.values())


def _publication(dateline: Dateline | None, published: str | None) -> Publication:
    return Publication(outlet=dateline.outlet if dateline else None,
                       dateline=dateline.text if dateline else None, date=published)


def _pack(units: Sequence[Any], budget: int, cost: Callable[[Any], int], what: str) -> list[list[Any]]:
    """Consecutive units packed greedily into groups of at most `budget` tokens."""
    groups: list[list[Any]] = []
    used = budget + 1  # forces a new group for the first unit
    for unit in units:
        size = cost(unit)
        if size > budget:
            raise GenerationError(
                f"one {what} needs {size} tokens, more than the {max(budget, 0)} the model's context "
                "leaves next to the prompt and the reply", hint="use a model with a longer context")
        if used + size > budget:
            groups.append([])
            used = 0
        groups[-1].append(unit)
        used += size
    return groups
