"""What one process keeps between articles for a given Config: the result cache, the resolved models and,
only after a cache miss, the loaded ones. The pipeline and the engines share it; models load lazily, so a
fully cached rerun never imports torch."""

from __future__ import annotations

import sys
from functools import cached_property
from typing import Callable

from summarizer import prompts
from summarizer.budget import paused
from summarizer.cache import ResultCache
from summarizer.config import Config
from summarizer.models import ModelRegistry, resolve_model
from summarizer.models.base import ChatModel, ResolvedModel
from summarizer.translate import TranslationEngine

# Summaries decoded together on a batching backend: the batch size where bf16 decoding measured 5x the
# single-row rate on 2 cores, with memory for 8 article-long prompts well under 1 GB for a 0.5B model.
SUMMARY_BATCH = 8


def _stderr_warning(message: str) -> None:
    print(f"summarizer: warning: {message}", file=sys.stderr)


class ModelRequired(Exception):
    """Raised by a Runtime built with `load_models=False` where it would load a model: the article is not
    fully cached and must be sent to a process that has the model (the Ray engine's workers)."""


class Runtime:
    """What one process keeps between articles for a given Config: the cache and the loaded models."""

    _shared: dict[Config, "Runtime"] = {}

    def __init__(self, config: Config, warn: Callable[[str], None] = _stderr_warning, *,
                 cache: ResultCache | None = None, load_models: bool = True):
        self.config = config
        self.cache = cache if cache is not None else ResultCache(
            config.cache_dir, enabled=config.use_cache, refresh=config.refresh, warn=warn)
        self.load_models = load_models
        self._engine: TranslationEngine | None = None
        self.on_segments: Callable[[int], None] | None = None  # segments translated, for progress

    @classmethod
    def for_config(cls, config: Config) -> "Runtime":
        if config not in cls._shared:
            cls._shared[config] = cls(config)
        return cls._shared[config]

    def close(self) -> None:
        self.cache.close()
        self._shared.pop(self.config, None)

    # The models the SPEC strings Config.mt_model / Config.llm resolve to (resolving loads nothing).
    @cached_property
    def resolved_mt(self) -> ResolvedModel:
        return resolve_model(self.config.mt_model, "translation", self.config)

    @cached_property
    def resolved_llm(self) -> ResolvedModel:
        return resolve_model(self.config.llm, "summary", self.config)

    @cached_property
    def mt_key(self) -> list[object]:
        """Everything besides the input that can change a translation."""
        mt, cfg = self.resolved_mt, self.config
        if mt.architecture == "causal":
            from summarizer.models import chat_backend
            from summarizer.models.llm_translator import PROMPT_FILE

            # The file LLMTranslator renders (it loads PROMPT_FILE by default), so a new prompt version
            # changes the key.
            llm_parts = [prompts.sha256(PROMPT_FILE), chat_backend(mt, cfg)]
        else:
            llm_parts = [None]
        # Forced-length outputs (benchmarks) get keys of their own; None leaves today's keys, and caches, as they are.
        forced = [("forced_new_tokens", cfg.forced_new_tokens)] if cfg.forced_new_tokens else []
        return [mt.fingerprint, mt.architecture, mt.settings, cfg.dtype, cfg.quantize, cfg.beams, *llm_parts, *forced]

    @cached_property
    def llm_key(self) -> list[object]:
        from summarizer.models import chat_backend
        from summarizer.summary_prompt import prompt_hash

        return [self.resolved_llm.fingerprint, chat_backend(self.resolved_llm, self.config), self.config.dtype,
                self.config.quantize, prompt_hash()]

    def engine(self) -> TranslationEngine:
        if self._engine is None:
            if not self.load_models:
                raise ModelRequired(self.resolved_mt.display)
            with paused():  # loading is setup: it does not count against the article's time budget
                translator = self.models.translator(self.resolved_mt)
            self._engine = TranslationEngine(_CountingTranslator(translator, self), beams=self.config.beams,
                                             batch_tokens=self.config.batch_tokens,
                                             forced_new_tokens=self.config.forced_new_tokens)
        return self._engine

    def chat_model(self) -> ChatModel:
        if not self.load_models:
            raise ModelRequired(self.resolved_llm.display)
        with paused():
            return self.models.chat_model(self.resolved_llm)

    @cached_property
    def models(self) -> ModelRegistry:
        return ModelRegistry(self.config)

    @cached_property
    def summary_batch_size(self) -> int:
        """Articles whose summaries are decoded together. transformers decodes a batch of rows at once
        (bf16: 114.6 tokens/s at batch 8 against 21.7 at batch 1 on 2 cores); llama.cpp runs one
        sequence at a time, where waiting for a batch would only delay each record."""
        from summarizer.models import chat_backend

        return SUMMARY_BATCH if chat_backend(self.resolved_llm, self.config) == "transformers" else 1


class _CountingTranslator:
    """Passes every batch through and tells the runtime how many segments it translated (progress)."""

    def __init__(self, inner: object, runtime: Runtime):
        self._inner, self._runtime = inner, runtime

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def translate(self, texts, options, contexts=None, **extra):  # noqa: ANN001 - the Translator signature
        outputs = self._inner.translate(texts, options, contexts, **extra)  # extra: the engine's repair hints
        if self._runtime.on_segments:
            self._runtime.on_segments(len(texts))
        return outputs
