"""Which backend runs a resolved model; building it; and sharing loaded models.

The pipeline asks a `ModelRegistry` for a `Translator` or a `ChatModel`; it never builds a backend itself.
A model used for both translation and summaries (one LLM) is loaded once: the registry shares loaded
models by fingerprint.
"""

from __future__ import annotations

import importlib.util
import sys
from summarizer.config import Config
from summarizer.errors import UsageError
from summarizer.models.base import ChatModel, ResolvedModel, Translator

NATIVE_GGUF_HINT = "pip install -e '.[gguf]' runs .gguf files natively with llama.cpp, several times faster"

_NOTICES_SHOWN: set[str] = set()


class ModelRegistry:
    """Loaded models for one Config, shared by fingerprint: each set of weights is loaded once."""

    def __init__(self, config: Config):
        self.config = config
        self._chat: dict[str, ChatModel] = {}
        self._translators: dict[str, Translator] = {}

    def chat_model(self, resolved: ResolvedModel) -> ChatModel:
        if resolved.fingerprint not in self._chat:
            self._chat[resolved.fingerprint] = load_chat_model(resolved, self.config)
        return self._chat[resolved.fingerprint]

    def translator(self, resolved: ResolvedModel) -> Translator:
        if resolved.architecture == "causal":
            from summarizer.models.llm_translator import LLMTranslator

            return LLMTranslator(self.chat_model(resolved))
        if resolved.fingerprint not in self._translators:
            self._translators[resolved.fingerprint] = load_translator(resolved, self.config)
        return self._translators[resolved.fingerprint]


def chat_backend(resolved: ResolvedModel, config: Config) -> str:
    """"llama.cpp" or "transformers" for this LLM. Cheap (no import): part of summary cache keys.

    auto: llama.cpp for .gguf files when llama-cpp-python is installed, transformers for everything else.

    Raises:
        UsageError: llama.cpp asked for a model that is not a .gguf file.
    """
    if config.backend == "llama.cpp":
        if not resolved.gguf_file:
            raise UsageError(f"--backend llama.cpp runs .gguf files, and {resolved.display} is not one",
                             hint="pass a .gguf file or GGUF preset, or use --backend auto")
        return "llama.cpp"
    if config.backend == "auto" and resolved.gguf_file and importlib.util.find_spec("llama_cpp") is not None:
        return "llama.cpp"
    return "transformers"


def load_chat_model(resolved: ResolvedModel, config: Config) -> ChatModel:
    """A new ChatModel for a causal LM (local dir, hub snapshot or .gguf) on the backend `chat_backend` picks.

    Raises:
        UsageError: `resolved` is an encoder-decoder translation model.
        ModelLoadError, UnsafeWeightsError: see the backends' `load`.
    """
    if resolved.architecture != "causal":
        raise UsageError(
            f"{resolved.display} is a translation (encoder-decoder) model, not an instruction LLM",
            hint="pass an instruction LLM to --llm, e.g. qwen2.5-1.5b-instruct",
        )
    if chat_backend(resolved, config) == "llama.cpp":
        from summarizer.models.llama_cpp_chat import LlamaCppChatModel

        return LlamaCppChatModel.load(resolved, config)
    if resolved.gguf_file and config.backend == "auto":
        _notice_once(f"note: running {resolved.gguf_file} through transformers (dequantised, slower); "
                     f"{NATIVE_GGUF_HINT}")
    from summarizer.models.transformers_chat import HFChatModel

    return HFChatModel.load(resolved, config)


def load_translator(resolved: ResolvedModel, config: Config) -> Translator:
    """A new Translator: seq2seq models directly, instruction LLMs behind the translation prompt."""
    if resolved.architecture == "causal":
        from summarizer.models.llm_translator import LLMTranslator

        return LLMTranslator(load_chat_model(resolved, config))
    from summarizer.models.seq2seq import Seq2SeqTranslator

    return Seq2SeqTranslator.load(resolved, config)


def _notice_once(message: str) -> None:
    if message not in _NOTICES_SHOWN:
        _NOTICES_SHOWN.add(message)
        print(message, file=sys.stderr)
