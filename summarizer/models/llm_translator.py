"""Translation with an instruction LLM behind a versioned prompt (prompts/translate.v1.txt).

The article text is untrusted: it goes inside a delimited <text> block that the system prompt declares
to be data, and any copy of the delimiters inside it is defused so it cannot close the block early.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import Sequence

from summarizer.models.base import ChatModel, DecodeOptions, Translator

PROMPT_PACKAGE = "summarizer.prompts"
PROMPT_FILE = "translate.v1.txt"
# The source, an optional context of similar size and the output (about as long as the source) share
# what the template leaves of the model's context: a third each. 1,024 tokens is several long news
# sentences; the engine splits anything longer.
MAX_INPUT_TOKENS_CAP = 1024
_SECTION = re.compile(r"^### (system|user|context)\s*$", re.MULTILINE)
_DELIMITER = re.compile(r"</?\s*(text|context)\s*>", re.IGNORECASE)
_ECHOED_BLOCK = re.compile(r"<text>\s*(.*?)\s*</text>", re.DOTALL)


@dataclass(frozen=True)
class TranslationPrompt:
    system: str
    context: Template
    user: Template
    sha256: str

    @classmethod
    def load(cls, name: str = PROMPT_FILE) -> "TranslationPrompt":
        raw = resources.files(PROMPT_PACKAGE).joinpath(name).read_bytes()
        parts = _SECTION.split(raw.decode("utf-8"))
        sections = dict(zip(parts[1::2], (body.strip() for body in parts[2::2])))
        return cls(
            system=sections["system"],
            context=Template(sections["context"]),
            user=Template(sections["user"]),
            sha256=hashlib.sha256(raw).hexdigest(),
        )

    def conversation(self, source: str, context: str | None) -> list[dict[str, str]]:
        system = self.system
        if context and context.strip():
            system += "\n\n" + self.context.substitute(context=_defuse(context))
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": self.user.substitute(source=_defuse(source))},
        ]


def _defuse(text: str) -> str:
    """Neutralise <text>/<context> tags inside untrusted text (they would end the data block)."""
    return _DELIMITER.sub(lambda match: match.group(0).replace("<", "‹").replace(">", "›"), text.strip())


def _unwrap(reply: str) -> str:
    """Small models sometimes echo the <text> delimiters around their answer; drop them."""
    match = _ECHOED_BLOCK.fullmatch(reply.strip())
    return match.group(1).strip() if match else reply


class LLMTranslator(Translator):
    """Translator over a ChatModel. `prompt_hash` is part of translation cache keys."""

    def __init__(self, chat_model: ChatModel, prompt: TranslationPrompt | None = None):
        self.chat_model = chat_model
        self.prompt = prompt or TranslationPrompt.load()
        self.resolved = chat_model.resolved
        self.prompt_hash = self.prompt.sha256
        overhead = chat_model.token_count(self.prompt.system) + chat_model.token_count(self.prompt.user.template)
        self.max_input_tokens = max(1, min(MAX_INPUT_TOKENS_CAP, (chat_model.context_length - overhead) // 3))

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        return [self.chat_model.token_count(text) for text in texts]

    def translate(
        self,
        texts: Sequence[str],
        options: DecodeOptions,
        contexts: Sequence[str | None] | None = None,
    ) -> list[str]:
        """One chat call for the batch; blank inputs give "" without reaching the model."""
        contexts = list(contexts) if contexts is not None else [None] * len(texts)
        outputs = ["" for _ in texts]
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if todo:
            conversations = [self.prompt.conversation(texts[i], contexts[i]) for i in todo]
            for index, reply in zip(todo, self.chat_model.generate(conversations, options)):
                outputs[index] = _unwrap(reply)
        return outputs
