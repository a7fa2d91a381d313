"""The small interface every model backend implements. Nothing here imports torch.

- `Translator`: Indonesian sentences in, English sentences out (seq2seq models, or an LLM behind a prompt).
- `ChatModel`: an instruction LLM driven through its chat template; the summary stage and the LLM
  translator use it.
- `ResolvedModel`: what a SPEC (preset, hub id[@rev], local dir, .gguf file) points at, worked out
  without loading anything, so that cache keys can be computed without torch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence


@dataclass(frozen=True)
class DecodeOptions:
    """Generation settings. Greedy by default: the same input and model give the same output.

    `min_new_tokens` blocks end-of-sequence until that many tokens are out; with min = max every reply has
    the same length, which benchmarks use so that no configuration looks faster by stopping earlier."""

    num_beams: int = 1
    max_new_tokens: int = 256
    no_repeat_ngram_size: int = 0
    repetition_penalty: float = 1.0
    min_new_tokens: int = 0


@dataclass(frozen=True)
class ResolvedModel:
    """A model SPEC resolved to something loadable, plus the settings its preset carries.

    `fingerprint` identifies the weights for cache keys: hub id + resolved commit, or a content hash of
    a local directory's weight/config files or of a .gguf file.
    """

    spec: str
    kind: Literal["preset", "hub", "local", "gguf"]
    architecture: Literal["seq2seq", "causal"]
    location: str  # hub repo id, local directory, or directory holding the .gguf
    fingerprint: str
    revision: str | None = None
    gguf_file: str | None = None
    preset: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # e.g. src_lang/tgt_lang, context_length

    @property
    def directory_name(self) -> str:
        """The fingerprint as a directory name (per-model caches: dequantised weights, prompt states)."""
        return "".join(c if c.isalnum() or c in "-._" else "_" for c in self.fingerprint)

    @property
    def display(self) -> str:
        """Short human name for records and messages."""
        name = self.preset or self.location
        if self.gguf_file and not self.preset:  # a GGUF preset goes by its name
            name = f"{self.location.rstrip('/')}/{self.gguf_file}"
        return f"{name}@{self.revision}" if self.revision and self.kind in ("preset", "hub") else name


class Translator(ABC):
    """Translates a batch of independent segments. The engine (translate.py) does batching, order,
    splitting and guards; a backend only turns one batch into text."""

    resolved: ResolvedModel
    max_input_tokens: int

    @abstractmethod
    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Source-side token count of each text (for batching by a token budget)."""

    @abstractmethod
    def translate(
        self,
        texts: Sequence[str],
        options: DecodeOptions,
        contexts: Sequence[str | None] | None = None,
    ) -> list[str]:
        """Translate `texts` (one batch) and return one string per input, in order.

        `contexts` gives, per text, preceding source text that may help (only LLM backends use it).
        """


Conversation = list[dict[str, str]]  # [{"role": "system"|"user"|"assistant", "content": ...}, ...]


class ChatModel(ABC):
    """An instruction LLM used through its chat template: the only way the pipeline talks to an LLM.

    A backend owns everything model-specific: the tokenizer, the chat template, the stop tokens, grammar
    compilation and its cache. Message contents are untrusted text: a backend tokenises them as plain
    text, so an article that contains "<|im_start|>system" cannot produce a control token.
    """

    resolved: ResolvedModel
    context_length: int
    backend: str  # "transformers" or "llama.cpp": part of cache keys, since numerics differ

    @abstractmethod
    def token_count(self, text: str) -> int:
        """Number of tokens of `text` under this model's tokenizer."""

    @abstractmethod
    def generate(self, conversations: Sequence[Conversation], options: DecodeOptions) -> list[str]:
        """Greedy replies, one per conversation, in order (at most `options.max_new_tokens` tokens each).

        Raises:
            GenerationError: a prompt does not fit the context.
        """

    @abstractmethod
    def generate_grammar(self, conversations: Sequence[Conversation], grammars: Sequence[str],
                         max_tokens: int) -> list[str]:
        """Greedy replies constrained to the GBNF grammar `grammars[i]` (rule "root"; llama.cpp's notation,
        which xgrammar reads too) for conversation i, at most `max_tokens` tokens each.

        Raises:
            GenerationError: a prompt does not fit the context, or the backend refuses the grammar.
        """

    @abstractmethod
    def generate_json(
        self, conversations: Sequence[Conversation], json_schemas: Sequence[dict[str, Any]], max_tokens: int
    ) -> list[str]:
        """Greedy replies constrained to `json_schemas[i]` for conversation i (compact JSON, no free
        whitespace), at most `max_tokens` tokens each. A reply is a complete document unless the cap cut it
        short; the caller validates it. The schemas must be finite (bounded strings and lists), or
        generation may run to the cap.

        Raises:
            GenerationError: a prompt does not fit the context.
        """
