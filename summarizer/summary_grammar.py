"""The grammar of a summary reply: a pydantic model derived from `schema.Summary` with every string
length-capped and every list size-capped, and `sources` an enum of the sentence ids shown, so constrained
decoding always ends and can only cite real sentences. The caps (`SummaryLimits`) are also what the
prompt states.
"""

from __future__ import annotations

import json
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Sequence, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model

from summarizer.schema import Fact, Summary

# Filled by code, never by the LLM: publication from the dateline, grounding and issues by grounding.py,
# origin is "llm" by construction.
NOT_GENERATED = frozenset({"publication", "grounding", "origin", "issues"})


# Grammar caps are in characters, the prompt's limits in words. An English word plus its space averages
# ~6 characters; 9 per word leaves 50% headroom so a model that respects the stated word limit is never
# cut mid-phrase by the grammar (a tight cap was seen to truncate replies mid-phrase).
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


# Strings are capped with a regex, not maxLength: with Qwen's 152k vocabulary xgrammar 0.2.8 takes 2-10 s
# to compile each maxLength string (23 s for the whole summary schema), but ~0.02 s for a {0,n} pattern
# with n > 128 (n <= 128 is unrolled: 1-3.5 s each). The class also keeps out control characters, which
# xgrammar's maxLength strings let through and strict JSON forbids. Measured 2026-11-21.
_TEXT_PATTERN = r'^[^\x00-\x1f"\\]{0,%d}$'


_TEXT_CAP = re.compile(r"\{0,(\d+)\}\$$")


# DateFact.iso: YYYY, YYYY-MM or YYYY-MM-DD; its longest match is 10 characters.
_ISO_DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"


_ISO_DATE_CHARS = 10


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


def generation_model(ids: Sequence[str], limits: SummaryLimits,
                      fields: Sequence[str] | None = None) -> type[BaseModel]:
    """A pydantic model of what the LLM generates: schema.Summary's `fields` (default: all it may fill),
    every string length- and every list size-capped, `sources` an enum of `ids`. All properties are
    required, so the grammar has one fixed key order and no optional branches."""
    if not ids:
        raise ValueError("a generation schema needs at least one sentence id to cite")
    source_id = Literal[tuple(dict.fromkeys(ids))]
    sources = Annotated[list[source_id], Field(min_length=1, max_length=limits.sources)]
    chosen = fields or [name for name in Summary.model_fields if name not in NOT_GENERATED]
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
        if name not in NOT_GENERATED and name != "sources"
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


def max_document_chars(schema: dict) -> int:
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
