"""Translation with an instruction LLM behind a versioned prompt (prompts/translate.v3.txt).

The prompt is a short request after a few worked examples (earlier turns of the conversation): what a
0.5B model follows, where a long list of rules was not (translate.v3.txt says what was measured). The
article text is untrusted: it goes inside a delimited <text> block, and any copy of the delimiters inside
it is defused so it cannot close the block early; whatever it says, the reply is only ever used as a
translation, which the fidelity checks then compare with the source.

Small instruction models wrap their answer in talk ("The Indonesian text is translated into English as
follows:", blank lines, quotes, a repeat of the source, "Note: ..."). `clean_reply` removes that, so every
reply is one line of English; what it cannot remove is left for the engine's degenerate-output guard to
retry and flag.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from string import Template
from typing import Sequence

from summarizer import prompts
from summarizer.models.base import ChatModel, DecodeOptions, Translator

PROMPT_FILE = "translate.v3.txt"
# The source, an optional context of similar size and the output (about as long as the source) share
# what the template leaves of the model's context: a third each. 1,024 tokens is several long news
# sentences; the engine splits anything longer.
MAX_INPUT_TOKENS_CAP = 1024
# A constrained retry (`line_grammar`) may write this many characters more than the source has between the
# texts it must contain; all orders of up to ANY_ORDER_MAX texts are allowed (3! = 6 alternatives).
LINE_GAP_SLACK = 20
ANY_ORDER_MAX = 3
_SECTION = re.compile(r"^### (system|user|context|hint|shot)\s*$", re.MULTILINE)
_DELIMITER = re.compile(r"</?\s*(text|context)\s*>", re.IGNORECASE)
_ECHOED_BLOCK = re.compile(r"<text>\s*(.*?)\s*</text>", re.DOTALL)


@dataclass(frozen=True)
class TranslationPrompt:
    """A prompt file's sections. Optional ones: `system` (absent: the model's default system message),
    `context` (absent: the preceding sentence is not shown), `hint` (absent: retries carry no hint) and
    `shots`, worked examples (source, hint or None, English) sent as earlier turns."""

    user: Template
    system: str | None = None
    context: Template | None = None
    hint: Template | None = None
    shots: tuple[tuple[str, str | None, str], ...] = ()

    @classmethod
    def load(cls, name: str = PROMPT_FILE) -> "TranslationPrompt":
        parts = _SECTION.split(prompts.text(name))
        named = list(zip(parts[1::2], (body.strip() for body in parts[2::2])))
        sections = dict(named)
        shots = []
        for body in (body for section, body in named if section == "shot"):
            lines = body.splitlines()
            if len(lines) not in (2, 3):
                raise ValueError(f"{name}: a shot is a source line, an optional hint line and an English line")
            shots.append((lines[0], lines[1] if len(lines) == 3 else None, lines[-1]))
        return cls(
            user=Template(sections["user"]),
            system=sections.get("system"),
            context=Template(sections["context"]) if "context" in sections else None,
            hint=Template(sections["hint"]) if "hint" in sections else None,
            shots=tuple(shots),
        )

    def _request(self, source: str, hint: str | None) -> str:
        user = self.user.substitute(source=_defuse(source))
        if hint and self.hint is not None:
            user += "\n" + self.hint.substitute(hint=_defuse(hint))
        return user

    def conversation(self, source: str, context: str | None, hint: str | None = None) -> list[dict[str, str]]:
        """The messages for one text. The fixed part (system, examples) comes first, so llama.cpp's prompt
        cache reuses it from call to call."""
        system = self.system
        if system is not None and context and context.strip() and self.context is not None:
            system += "\n\n" + self.context.substitute(context=_defuse(context))
        messages = [{"role": "system", "content": system}] if system is not None else []
        for shot_source, shot_hint, english in self.shots:
            messages += [{"role": "user", "content": self._request(shot_source, shot_hint)},
                         {"role": "assistant", "content": english}]
        return messages + [{"role": "user", "content": self._request(source, hint)}]

    def fixed_text(self) -> str:
        """Everything the prompt adds around a text, for the token budget."""
        return "\n".join([self.system or "", self.user.template, *(" ".join(filter(None, s)) for s in self.shots)])


def _defuse(text: str) -> str:
    """Neutralise <text>/<context> tags inside untrusted text (they would end the data block)."""
    return _DELIMITER.sub(lambda match: match.group(0).replace("<", "‹").replace(">", "›"), text.strip())


def _unwrap(reply: str) -> str:
    """Small models sometimes echo the <text> delimiters around their answer; drop them."""
    match = _ECHOED_BLOCK.fullmatch(reply.strip())
    return match.group(1).strip() if match else reply


# A line that introduces the answer: "The Indonesian text is translated into English as follows:",
# "Here is the translation:", "English:", "Sure! Translation:". What follows its colon is the answer.
_PREAMBLE = re.compile(
    r"^\W*(?:(?:sure|okay|ok|certainly|of course)\W+)?(?P<lead>[^:\n]{0,120}?\b(?:translat\w*|english|"
    r"in english|terjemah\w*|bahasa inggris)\b[^:\n]{0,60})\s*:\s*(?P<rest>.*)$", re.IGNORECASE)
# Where the answer ends and remarks about it begin: "Note: ...", "(Explanation: ...)".
# "Keep in the English:" is the retry's hint (translate.v3.txt), repeated after the answer.
_TRAILER = re.compile(r"^\W*(?:note|notes|explanation|catatan|penjelasan|translator'?s note|keep in the english)\b\s*:?",
                      re.IGNORECASE)
# A sentence about the translation itself: "This translation keeps the original meaning."
_REMARK = re.compile(r"\b(?:this|the above|my|the)\s+(?:english\s+)?translation\b|\btranslated (?:as|into|from)\b|"
                     r"\b(?:original|indonesian|source) text\b", re.IGNORECASE)
_ABOUT_TRANSLATION = re.compile(r"terjemah|translat|inggris|english", re.IGNORECASE)
_QUOTES = {'"': '"', "“": "”", "'": "'", "‘": "’", "«": "»"}


def _fold(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def clean_reply(source: str, reply: str) -> str:
    """The English of an LLM reply, on one line: echoed delimiters, an introducing line ("Here is the
    translation:"), a repeat of the source, trailing notes and remarks about the translation, and quotes
    around the whole answer are removed. A source that itself speaks of translating or of English keeps
    such words (the answer may need them)."""
    text = _DELIMITER.sub(" ", _unwrap(reply))
    literal = bool(_ABOUT_TRANSLATION.search(source))
    lines = [line.strip() for line in text.splitlines()]
    kept: list[str] = []
    for line in lines:
        if not line:
            continue
        if not literal and _TRAILER.match(line) and kept:
            break  # everything after "Note:" is about the answer, not part of it
        preamble = None if literal else _PREAMBLE.match(line)
        if preamble and len(preamble.group("lead").split()) <= 14:
            line = preamble.group("rest").strip()
            if not line:
                continue
        if _fold(line) == _fold(source) and len(lines) > 1:
            continue  # the source repeated before or after its translation
        kept.append(line)
    text = " ".join(" ".join(kept).split())
    if not literal:
        sentences = re.split(r"(?<=[.!?])\s+", text)
        while len(sentences) > 1 and _REMARK.search(sentences[-1]):
            sentences.pop()
        text = " ".join(sentences)
    opening = text[:1]
    if opening in _QUOTES and text.endswith(_QUOTES[opening]) and len(text) > 2 and not source.lstrip()[:1] in (
            *_QUOTES, "”", "’"):
        inner = text[1:-1]
        if opening not in inner and _QUOTES[opening] not in inner:
            text = inner.strip()
    return text


class LLMTranslator(Translator):
    """Translator over a ChatModel (Runtime.mt_key hashes its prompt file into translation cache keys)."""

    def __init__(self, chat_model: ChatModel, prompt: TranslationPrompt | None = None):
        self.chat_model = chat_model
        self.prompt = prompt or TranslationPrompt.load()
        self.resolved = chat_model.resolved
        overhead = chat_model.token_count(self.prompt.fixed_text())
        self.max_input_tokens = max(1, min(MAX_INPUT_TOKENS_CAP, (chat_model.context_length - overhead) // 3))

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        return [self.chat_model.token_count(text) for text in texts]

    supports_hints = True  # the engine may retry a sentence with a hint listing what to keep
    supports_required = True  # ... and with texts the reply must contain (`line_grammar`)

    def translate(
        self,
        texts: Sequence[str],
        options: DecodeOptions,
        contexts: Sequence[str | None] | None = None,
        hints: Sequence[str | None] | None = None,
        required: Sequence[Sequence[str]] | None = None,
    ) -> list[str]:
        """One chat call for the batch; blank inputs give "" without reaching the model. Replies are
        cleaned to one line of English (`clean_reply`). With `required`, reply i is decoded under
        `line_grammar(required[i], ...)`: it contains those texts (the numbers a retry must keep) and no
        other digits."""
        contexts = list(contexts) if contexts is not None else [None] * len(texts)
        hints = list(hints) if hints is not None else [None] * len(texts)
        outputs = ["" for _ in texts]
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if todo:
            conversations = [self.prompt.conversation(texts[i], contexts[i], hints[i]) for i in todo]
            if required is None:
                replies = self.chat_model.generate(conversations, options)
            else:
                gaps = [len(texts[i]) + LINE_GAP_SLACK for i in todo]
                replies = self.chat_model.generate_grammar(
                    conversations, [line_grammar(required[i], gap) for i, gap in zip(todo, gaps)],
                    max(line_budget(required[i], gap) for i, gap in zip(todo, gaps)))
            for index, reply in zip(todo, replies):
                outputs[index] = clean_reply(texts[index], reply)
        return outputs


def line_grammar(required: Sequence[str], gap: int) -> str:
    """A GBNF grammar (llama.cpp's notation, which xgrammar reads too) for one line that contains each of
    `required` and no other digits, the texts in any order when there are at most ANY_ORDER_MAX of them,
    else in the given one, with at most `gap` characters before, between and after them. Digits elsewhere
    are refused, so a number the model writes goes through one of the texts ("£11" can only go on as "11
    million"); the bound keeps the constraint satisfiable in a known length."""
    free = f"[^\\n0-9]{{0,{gap}}}"
    texts = list(dict.fromkeys(text for text in required if text))
    orders = itertools.permutations(texts) if len(texts) <= ANY_ORDER_MAX else [texts]
    alternatives = (" ".join([free, *(f"{_literal(text)} {free}" for text in order)]) for order in orders)
    return "root ::= " + " | ".join(f"({alternative})" for alternative in alternatives)


def line_budget(required: Sequence[str], gap: int) -> int:
    """Tokens enough for any line `line_grammar` accepts: a token is at least one byte, a character at
    most four."""
    texts = set(required)
    return 4 * gap * (len(texts) + 1) + sum(len(text.encode("utf-8")) for text in texts) + 1


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
