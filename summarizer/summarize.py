"""Summarize stage: an article's English sentences -> a schema-valid, source-citing `Summary` from a local LLM.

Why it is built this way:
- Decoding is constrained (by the model backend: xgrammar or llama.cpp grammars) to a JSON schema derived
  from `schema.Summary`. Whatever the model does (or whatever an instruction hidden in the article asks
  for), the reply has the Summary's shape, and every cited id exists: `sources` items are an enum of the ids the model was shown. Every string
  has a length cap and every list a maxItems, so the grammar is finite and generation always ends
  (FINDINGS.md: with free whitespace or unbounded strings a model can run to max_new_tokens).
- The model reads the English translation with sentence ids visible ("[p2.s1] ..."), so it can cite; the
  article sits between delimiters as data, and the prompt tells the model never to obey text inside it.
- Fields the LLM must not fill are not in the grammar: `publication` is filled here from the dateline
  and date; `grounding`, per-item `issues` and rule-based facts belong to grounding.py and facts.py.
- Articles longer than the model's context are summarised in chunks of whole paragraphs and merged
  (see `_merge_call`). Several articles are summarised together (`summarize_articles`), so a backend
  that decodes a batch of rows at once runs a folder at batch speed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import string
import types
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Literal, Sequence, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from summarizer import prompts
from summarizer.errors import GenerationError, InputError, SummarizerError
from summarizer.models.base import ChatModel
from summarizer.schema import Dateline, Fact, Publication, Sentence, Summary

SUMMARY_PROMPT_VERSION = "summarize.v1"
_PROMPT_FILES = ("summarize.v1.txt", "summarize.merge.v1.txt")

# Filled by code, never by the LLM: publication from the dateline, grounding and issues by check.py,
# origin is "llm" by construction.
_NOT_GENERATED = frozenset({"publication", "grounding", "origin", "issues"})
# The prose fields and key points a merge call rewrites for the whole article; the fact lists are merged
# deterministically (see `_merge_group`).
_MERGED_BY_LLM = ("headline", "one_line", "summary", "key_points")

# Grammar caps are in characters, the prompt's limits in words. An English word plus its space averages
# ~6 characters; 9 per word leaves 50% headroom so a model that respects the stated word limit is never
# cut mid-phrase by the grammar (FINDINGS.md: a tight maxLength truncates mid-phrase).
CHARS_PER_WORD = 9
# Indonesian runs ~1.3x the character length of its English translation (longer words, affixes): the
# quoted Indonesian span gets this much more room than its English rendering.
INDONESIAN_LENGTH_FACTOR = 1.5
# Bound on numeric values, which keeps the number grammar finite. Indonesia's state budget is ~3.3e15
# rupiah, so 1e18 holds any figure a news article states.
NUMBER_BOUND = 1e18
# Longest JSON number the bounded grammar allows: sign, 19 digits, point and xgrammar's 6 decimals,
# rounded up.
_NUMBER_CHARS = 32
# Tokens the chat template adds around the messages (role markers, separators); token_count() only sees
# the message text. Qwen-style templates add ~10.
CHAT_TEMPLATE_MARGIN = 32
# Quotation marks that make a sentence a quote candidate (its Indonesian original is then shown so the
# model can copy the span into Quote.text_id). Single quotes are left out: they double as apostrophes.
_QUOTE_MARKS = re.compile(r"[\"“”„«»]")
# Strings are capped with a regex, not maxLength: with Qwen's 152k vocabulary xgrammar 0.2.8 takes 2-10 s
# to compile each maxLength string (23 s for the whole summary schema), but ~0.02 s for a {0,n} pattern
# with n > 128 (n <= 128 is unrolled: 1-3.5 s each). The class also keeps out control characters, which
# xgrammar's maxLength strings let through and strict JSON forbids. Measured 2026-11-21.
_TEXT_PATTERN = r'^[^\x00-\x1f"\\]{0,%d}$'
_TEXT_CAP = re.compile(r"\{0,(\d+)\}\$$")
# DateFact.iso: YYYY, YYYY-MM or YYYY-MM-DD; its longest match is 10 characters.
_ISO_DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
_ISO_DATE_CHARS = 10
# Runs of 3+ angle brackets could forge the <<<ARTICLE / ARTICLE>>> delimiters from inside the article.
_DELIMITER_LOOKALIKE = re.compile(r"<{3,}|>{3,}")


@dataclass(frozen=True)
class SummaryLimits:
    """Hard caps the grammar enforces (and the prompt states). Smaller caps make a faster, shorter worst
    case; tests use tiny ones."""

    headline_words: int = 16  # every cap here times CHARS_PER_WORD stays > 128: see _TEXT_PATTERN
    one_line_words: int = 30  # schema.Summary.one_line: "at most 30 words"
    summary_words: int = 120  # schema.Summary.summary: "at most 120 words"
    point_words: int = 35  # one key point or one quotation: a long sentence
    label_chars: int = 130  # names, roles, units, "what", topics: short, but > 128 (see _TEXT_PATTERN)
    key_points: int = 7  # schema.Summary.key_points max_length
    items: int = 8  # per list of people, organizations, locations, dates, numbers
    quotes: int = 4
    topics: int = 6
    sources: int = 4  # ids cited by one item: a fact rarely needs more sentences than this


DEFAULT_LIMITS = SummaryLimits()


# --------------------------------------------------------------------------- public API


def prompt_hash() -> str:
    """SHA-256 of the prompt templates: part of cache keys, so editing a prompt invalidates summaries."""
    digest = hashlib.sha256()
    for name in _PROMPT_FILES:
        digest.update(name.encode() + b"\0" + prompts.text(name).encode() + b"\0")
    return digest.hexdigest()


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
            header = _context_header(request.title_en, request.published, request.dateline)
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
    merge_budget = _room(model, _render_merge_prompt([], limits),
                         _generation_model(["p9999.s9999"], limits, _MERGED_BY_LLM), max_new_tokens)
    while True:
        plans: dict[int, list[list[Summary]]] = {}
        for index, parts in partials.items():
            if results[index] is not None or len(parts) == 1:
                continue
            try:
                groups = _pack(parts, merge_budget, lambda part: model.token_count(_render_partial(0, part)) + 2,
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
    for paragraph in _paragraphs(sentences):
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
    return _room(model, _render_summary_prompt(header, [], limits), _generation_model(sentence_ids, limits),
                 max_new_tokens)


def _room(model: ChatModel, empty_prompt: tuple[str, str], generated: type[BaseModel],
          max_new_tokens: int | None) -> int:
    """The context minus the prompt's fixed part (its messages without the data) and the reply reserve."""
    fixed = sum(model.token_count(message) for message in empty_prompt) + CHAT_TEMPLATE_MARGIN
    return model.context_length - fixed - _output_tokens(model, generated, max_new_tokens)


# --------------------------------------------------------------------------- generation schema


def _generation_model(ids: Sequence[str], limits: SummaryLimits,
                      fields: Sequence[str] | None = None) -> type[BaseModel]:
    """A pydantic model of what the LLM generates: schema.Summary's `fields` (default: all it may fill),
    every string length- and every list size-capped, `sources` an enum of `ids`. All properties are
    required, so the grammar has one fixed key order and no optional branches."""
    if not ids:
        raise ValueError("a generation schema needs at least one sentence id to cite")
    source_id = Literal[tuple(dict.fromkeys(ids))]
    sources = Annotated[list[source_id], Field(min_length=1, max_length=limits.sources)]
    chosen = fields or [name for name in Summary.model_fields if name not in _NOT_GENERATED]
    definitions: dict[str, Any] = {}
    for name in chosen:
        annotation = Summary.model_fields[name].annotation
        if get_origin(annotation) is list:
            (item,) = get_args(annotation)
            if isinstance(item, type) and issubclass(item, Fact):
                item = _item_model(item, sources, limits)
            else:
                item = _bounded(Summary, name, item, limits)
            size = Field(min_length=1 if name == "key_points" else 0, max_length=_list_cap(name, limits))
            definitions[name] = (Annotated[list[item], size], ...)
        else:
            definitions[name] = (_bounded(Summary, name, annotation, limits), ...)
    return create_model("GeneratedSummary", __config__=ConfigDict(extra="forbid"), **definitions)


def _item_model(fact: type[Fact], sources: Any, limits: SummaryLimits) -> type[BaseModel]:
    """A Fact subclass's fields, bounded, `sources` first: the model picks the sentence, then says what it
    states. (One manual trial each with Qwen2.5-Coder-0.5B: 7 of 7 key points cited their source sentence
    this way, some with extra ids; 1 of 7 when the id came after the text.)"""
    definitions: dict[str, Any] = {"sources": (sources, ...)}
    definitions.update({
        name: (_bounded(fact, name, info.annotation, limits), ...)
        for name, info in fact.model_fields.items()
        if name not in _NOT_GENERATED and name != "sources"
    })
    return create_model(fact.__name__, __config__=ConfigDict(extra="forbid"), **definitions)


def _bounded(owner: type[BaseModel], name: str, annotation: Any, limits: SummaryLimits) -> Any:
    """`annotation` with a finite grammar: strings get a length-capped pattern, numbers a range."""
    if isinstance(annotation, types.UnionType) and type(None) in get_args(annotation):
        (inner,) = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _bounded(owner, name, inner, limits) | None
    if annotation is str:
        if (owner.__name__, name) == ("DateFact", "iso"):
            return Annotated[str, Field(pattern=_ISO_DATE_PATTERN)]
        return Annotated[str, Field(pattern=_TEXT_PATTERN % _char_cap(owner.__name__, name, limits))]
    if annotation is float:
        return Annotated[float, Field(ge=-NUMBER_BOUND, le=NUMBER_BOUND)]
    raise TypeError(f"no grammar bound for {owner.__name__}.{name}: {annotation!r} (extend _bounded)")


def _char_cap(owner: str, name: str, limits: SummaryLimits) -> int:
    """Prose fields get their word limit's worth of characters; everything else is a short label."""
    words = {"headline": limits.headline_words, "one_line": limits.one_line_words, "summary": limits.summary_words,
             "text": limits.point_words, "text_en": limits.point_words, "text_id": limits.point_words}.get(name)
    if owner in ("Summary", "KeyPoint", "Quote") and words:
        return int(words * CHARS_PER_WORD * (INDONESIAN_LENGTH_FACTOR if name == "text_id" else 1))
    return limits.label_chars


def _list_cap(name: str, limits: SummaryLimits) -> int:
    return {"key_points": limits.key_points, "quotes": limits.quotes, "topics": limits.topics}.get(name, limits.items)


def _max_document_chars(schema: dict) -> int:
    """Longest JSON text the schema's grammar (compact separators ", " and ": ") can produce. Raises
    ValueError on an unbounded string or list, so a schema change cannot silently make the grammar
    infinite."""
    definitions = schema.get("$defs", {})

    def longest(node: dict) -> int:
        if "$ref" in node:
            return longest(definitions[node["$ref"].rsplit("/", 1)[-1]])
        if "anyOf" in node:
            return max(longest(option) for option in node["anyOf"])
        if "enum" in node or "const" in node:  # pydantic writes a one-id Literal as "const"
            return max(len(json.dumps(value, ensure_ascii=False)) for value in node.get("enum", [node.get("const")]))
        kind = node.get("type")
        if kind == "object":
            properties = node["properties"]
            return 2 + 2 * (len(properties) - 1) + sum(
                len(json.dumps(key)) + 2 + longest(value) for key, value in properties.items())
        if kind == "array" and "maxItems" in node:
            count = node["maxItems"]
            return 2 + count * longest(node["items"]) + 2 * max(count - 1, 0)
        if kind == "string" and _TEXT_CAP.search(node.get("pattern", "")):
            return int(_TEXT_CAP.search(node["pattern"]).group(1)) + 2
        if kind == "string" and node.get("pattern") == _ISO_DATE_PATTERN:
            return _ISO_DATE_CHARS + 2
        if kind == "number" and "maximum" in node and "minimum" in node:
            return _NUMBER_CHARS
        if kind == "null":
            return 4
        raise ValueError(f"unbounded node in generation schema: {node}")

    return longest(schema)


def _output_tokens(model: ChatModel, generated: type[BaseModel], max_new_tokens: int | None) -> int:
    """Tokens reserved for one reply. Every constrained token emits at least one character, so the
    document's character bound guarantees the grammar completes. Real tokenizers average ~4 characters
    per token, so half the context always holds a real summary; the clamp keeps the other half for the
    article. A reply that still hits the cap raises GenerationError, never a half summary."""
    if max_new_tokens is not None:
        return max_new_tokens
    return min(_max_document_chars(generated.model_json_schema()), model.context_length // 2)


# --------------------------------------------------------------------------- prompts


def _prompt_messages(name: str, values: dict[str, Any]) -> tuple[str, str]:
    """The (system, user) messages of template `name`: a "[system]" and a "[user]" section, with $names
    filled (string.Template never re-reads substituted text, so article text cannot inject fields)."""
    match = re.fullmatch(r"\[system\]\n(.*?)\n\[user\]\n(.*)", prompts.text(name), flags=re.S)
    if not match:
        raise ValueError(f"prompt template {name} needs a [system] and a [user] section")
    system, user = (string.Template(part.strip()).substitute(values) for part in match.groups())
    return system, user


def _limit_values(limits: SummaryLimits) -> dict[str, Any]:
    return {name: getattr(limits, name) for name in limits.__dataclass_fields__ if name != "label_chars"}


def _render_summary_prompt(header: str, block_lines: Sequence[str], limits: SummaryLimits) -> tuple[str, str]:
    article = "\n\n".join(part for part in (header, "\n".join(block_lines)) if part)
    return _prompt_messages("summarize.v1.txt", {**_limit_values(limits), "article": article})


def _one_line(text: str) -> str:
    """One line, no delimiter look-alikes: article text can neither start a fake "[p9.s9]" line nor close
    the data block."""
    return _DELIMITER_LOOKALIKE.sub(lambda run: run.group(0)[:2], " ".join(text.split()))


def _context_header(title_en: str | None, published: str | None, dateline: Dateline | None) -> str:
    lines = [f"Title: {_one_line(title_en)}" if title_en else "",
             f"Published: {_one_line(published)}" if published else "",
             f"Dateline: {_one_line(dateline.text)}" if dateline else ""]
    return "\n".join(line for line in lines if line)


def _sentence_lines(sentence: Sentence) -> str:
    line = f"[{sentence.id}] {_one_line(sentence.en if sentence.en is not None else sentence.text)}"
    if _QUOTE_MARKS.search(sentence.text):
        line += f"\nIndonesian: {_one_line(sentence.text)}"
    return line


def _block_lines(sentences: Sequence[Sentence]) -> list[str]:
    """Sentence lines, a blank line between paragraphs."""
    lines: list[str] = []
    for index, paragraph in enumerate(_paragraphs(sentences)):
        lines.extend(([""] if index else []) + [_sentence_lines(sentence) for sentence in paragraph])
    return lines


def _block_tokens(model: ChatModel, sentences: Sequence[Sentence]) -> int:
    # +2 per paragraph: the newlines that join it to its neighbours
    return model.token_count("\n".join(_sentence_lines(sentence) for sentence in sentences)) + 2


def _paragraphs(sentences: Sequence[Sentence]) -> list[list[Sentence]]:
    """Consecutive sentences grouped by the paragraph part of their id ("p3" of "p3.s2")."""
    return [list(group) for _, group in itertools.groupby(sentences, key=lambda s: s.id.split(".", 1)[0])]


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
    system, user = _render_summary_prompt(header, _block_lines(sentences), limits)
    return _Call(_messages(system, user), _generation_model([s.id for s in sentences], limits),
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

    system, user = _render_merge_prompt(parts, limits)
    return _Call(_messages(system, user), _generation_model(cited, limits, _MERGED_BY_LLM),
                 f"merge of {len(parts)} partial summaries", finish)


def _messages(system: str, user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _render_merge_prompt(parts: Sequence[Summary], limits: SummaryLimits) -> tuple[str, str]:
    parts_text = "\n\n".join(_render_partial(number, part) for number, part in enumerate(parts, 1))
    return _prompt_messages("summarize.merge.v1.txt",
                            {**_limit_values(limits), "parts": len(parts), "parts_text": parts_text})


def _render_partial(number: int, part: Summary) -> str:
    points = [f"- {_one_line(point.text)} [{', '.join(point.sources)}]" for point in part.key_points]
    return "\n".join([f"Part {number}", f"Headline: {_one_line(part.headline)}",
                      f"One line: {_one_line(part.one_line)}", f"Summary: {_one_line(part.summary)}",
                      "Key points:", *points])


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


def _fold(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


# What makes two items of a list the same fact (on plain data), for de-duplication and chunk merges.
_UNION_KEYS: dict[str, Callable[[Any], Any]] = {
    "key_points": lambda item: _fold(item["text"]),
    "people": lambda item: _fold(item["name"]),
    "organizations": lambda item: _fold(item["name"]),
    "locations": lambda item: _fold(item["name"]),
    "dates": lambda item: (_fold(item["text"]), item["iso"]),
    "numbers": lambda item: (item["value"], _fold(item["unit"]), _fold(item["what"])),
    "quotes": lambda item: _fold(item["text_id"]),
    "topics": _fold,
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
