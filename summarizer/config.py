"""One frozen settings object, resolved once (defaults -> SUMMARIZER_* env -> flags) and passed down.

The pipeline never reads the environment or argv itself, so it stays a plain function of (article, config).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from summarizer.defaults import DEFAULT_MT_MODEL, default_llm, hub_offline_from_env
from summarizer.sources import DEFAULT_MAX_CHARS, DEFAULT_MAX_SENTENCES


def default_cache_dir() -> Path:
    return Path(os.environ.get("SUMMARIZER_CACHE_DIR") or "cache")


class Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    task: Literal["translate", "summarize"] = "translate"
    mt_model: str = Field(default_factory=lambda: os.environ.get("SUMMARIZER_MT_MODEL") or DEFAULT_MT_MODEL)
    llm: str = Field(default_factory=lambda: os.environ.get("SUMMARIZER_LLM") or default_llm())

    cache_dir: Path = Field(default_factory=default_cache_dir)
    use_cache: bool = True
    refresh: bool = False
    # Missing preset/hub models are downloaded on first use unless offline (--offline or HF_HUB_OFFLINE=1).
    offline: bool = Field(default_factory=hub_offline_from_env)

    threads: int | None = None
    beams: int = 1
    # Token budget of one translation batch (source + generated tokens). 2,048 keeps a Marian batch of
    # ~16 news sentences, the size where the batching gain levelled off when measured on 2 CPU cores.
    batch_tokens: int = 2048
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    quantize: Literal["none", "int8"] = "none"
    # Which runtime drives an instruction LLM: "auto" = llama.cpp for .gguf files when installed (the
    # `[gguf]` extra), transformers otherwise. Numerics differ, so the choice is part of cache keys.
    backend: Literal["auto", "transformers", "llama.cpp"] = "auto"
    allow_pickle: bool = False
    # Benchmarks only, not a CLI option: every segment decodes exactly this many tokens and nothing repairs
    # the outputs (TranslationEngine's forced lengths), so random-weight models, which never end a sentence,
    # do realistic work. Part of the translation cache key when set: such outputs are not translations.
    forced_new_tokens: int | None = Field(default=None, ge=1)

    strict: bool = True
    seed: int = 0

    # Limits per article (see sources.py for why these values): over one, the article gets an error record.
    max_chars: int = Field(default=DEFAULT_MAX_CHARS, ge=1)
    max_sentences: int = Field(default=DEFAULT_MAX_SENTENCES, ge=1)
    # Seconds one article may take, model loading excluded; 0 = no limit. Generous: a long article with a
    # 1.5B LLM on 2 cores takes a few minutes.
    article_timeout: float = Field(default=900.0, ge=0)
