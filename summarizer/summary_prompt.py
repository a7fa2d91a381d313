"""The summary prompts: rendering the article (sentence ids visible, delimited as data) and the partial
summaries of a merge into the versioned templates in prompts/, and their hash for cache keys.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import string
from typing import Any, Sequence

from summarizer import prompts
from summarizer.schema import Dateline, Sentence, Summary
from summarizer.summary_grammar import SummaryLimits

_PROMPT_FILES = ("summarize.v1.txt", "summarize.merge.v1.txt")


# Quotation marks that make a sentence a quote candidate (its Indonesian original is then shown so the
# model can copy the span into Quote.text_id). Single quotes are left out: they double as apostrophes.
_QUOTE_MARKS = re.compile(r"[\"“”„«»]")


# Runs of 3+ angle brackets could forge the <<<ARTICLE / ARTICLE>>> delimiters from inside the article.
_DELIMITER_LOOKALIKE = re.compile(r"<{3,}|>{3,}")


def prompt_hash() -> str:
    """SHA-256 of the prompt templates: part of cache keys, so editing a prompt invalidates summaries."""
    digest = hashlib.sha256()
    for name in _PROMPT_FILES:
        digest.update(name.encode() + b"\0" + prompts.text(name).encode() + b"\0")
    return digest.hexdigest()


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


def render_summary_prompt(header: str, block_lines: Sequence[str], limits: SummaryLimits) -> tuple[str, str]:
    article = "\n\n".join(part for part in (header, "\n".join(block_lines)) if part)
    return _prompt_messages("summarize.v1.txt", {**_limit_values(limits), "article": article})


def _one_line(text: str) -> str:
    """One line, no delimiter look-alikes: article text can neither start a fake "[p9.s9]" line nor close
    the data block."""
    return _DELIMITER_LOOKALIKE.sub(lambda run: run.group(0)[:2], " ".join(text.split()))


def context_header(title_en: str | None, published: str | None, dateline: Dateline | None) -> str:
    lines = [f"Title: {_one_line(title_en)}" if title_en else "",
             f"Published: {_one_line(published)}" if published else "",
             f"Dateline: {_one_line(dateline.text)}" if dateline else ""]
    return "\n".join(line for line in lines if line)


def sentence_lines(sentence: Sentence) -> str:
    line = f"[{sentence.id}] {_one_line(sentence.en if sentence.en is not None else sentence.text)}"
    if _QUOTE_MARKS.search(sentence.text):
        line += f"\nIndonesian: {_one_line(sentence.text)}"
    return line


def block_lines(sentences: Sequence[Sentence]) -> list[str]:
    """Sentence lines, a blank line between paragraphs."""
    lines: list[str] = []
    for index, paragraph in enumerate(paragraphs(sentences)):
        lines.extend(([""] if index else []) + [sentence_lines(sentence) for sentence in paragraph])
    return lines


def paragraphs(sentences: Sequence[Sentence]) -> list[list[Sentence]]:
    """Consecutive sentences grouped by the paragraph part of their id ("p3" of "p3.s2")."""
    return [list(group) for _, group in itertools.groupby(sentences, key=lambda s: s.id.split(".", 1)[0])]


def messages(system: str, user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def render_merge_prompt(parts: Sequence[Summary], limits: SummaryLimits) -> tuple[str, str]:
    parts_text = "\n\n".join(render_partial(number, part) for number, part in enumerate(parts, 1))
    return _prompt_messages("summarize.merge.v1.txt",
                            {**_limit_values(limits), "parts": len(parts), "parts_text": parts_text})


def render_partial(number: int, part: Summary) -> str:
    points = [f"- {_one_line(point.text)} [{', '.join(point.sources)}]" for point in part.key_points]
    return "\n".join([f"Part {number}", f"Headline: {_one_line(part.headline)}",
                      f"One line: {_one_line(part.one_line)}", f"Summary: {_one_line(part.summary)}",
                      "Key points:", *points])
