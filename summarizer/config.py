"""One frozen settings object, resolved once (defaults -> SUMMARIZER_* env -> flags) and passed down.

The pipeline never reads the environment or argv itself, so it stays a plain function of (article, config).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_MT_MODEL = "opus-mt-id-en"
# The summary model: the GGUF preset when the native llama.cpp backend (llama-cpp-python) is installed,
# because llama.cpp decodes a Q4 GGUF several times faster than transformers on CPU
# (FINDINGS.md: 28 vs ~5 tokens/s) from a third of the download; else the transformers preset.
DEFAULT_LLM_GGUF = "qwen2.5-1.5b-instruct-q4"
DEFAULT_LLM_TRANSFORMERS = "qwen2.5-1.5b-instruct"
TRUE_WORDS = ("1", "on", "yes", "true")


def default_llm() -> str:
    return DEFAULT_LLM_GGUF if importlib.util.find_spec("llama_cpp") else DEFAULT_LLM_TRANSFORMERS


def hub_offline_from_env() -> bool:
    """HF_HUB_OFFLINE as huggingface_hub reads it: then nothing may touch the network."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in TRUE_WORDS


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
    # ~16 news sentences, the size where PERF-NOTES measured the batching gain leveling off.
    batch_tokens: int = 2048
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    quantize: Literal["none", "int8"] = "none"
    # Which runtime drives an instruction LLM: "auto" = llama.cpp for .gguf files when installed (the
    # `[gguf]` extra), transformers otherwise. Numerics differ, so the choice is part of cache keys.
    backend: Literal["auto", "transformers", "llama.cpp"] = "auto"
    allow_pickle: bool = False

    strict: bool = True
    seed: int = 0
