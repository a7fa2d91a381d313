"""Default models and the offline switch, as plain values: importable without pydantic, so `--help` can
show them and stay fast. config.py builds the Config from these."""

from __future__ import annotations

import importlib.util
import os

DEFAULT_MT_MODEL = "opus-mt-id-en"
# The summary model: the GGUF preset when the native llama.cpp backend (llama-cpp-python) is installed,
# because llama.cpp decodes a Q4 GGUF several times faster than transformers on CPU (28 against ~5
# tokens/s measured on 2 cores; docs/benchmarks.md, "LLM backends") from a third of the download; else the
# transformers preset of the same model.
DEFAULT_LLM_GGUF = "qwen2.5-1.5b-instruct-q4"
DEFAULT_LLM_TRANSFORMERS = "qwen2.5-1.5b-instruct"
_TRUE_WORDS = ("1", "on", "yes", "true")


def default_llm() -> str:
    return DEFAULT_LLM_GGUF if importlib.util.find_spec("llama_cpp") else DEFAULT_LLM_TRANSFORMERS


def hub_offline_from_env() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) as huggingface_hub reads them: no network at all."""
    return any(os.environ.get(name, "").strip().lower() in _TRUE_WORDS
               for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
