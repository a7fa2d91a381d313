"""The inference boundary: the only package that imports torch, transformers, xgrammar or llama_cpp.

Resolve a SPEC cheaply (`resolve_model`), then get a Translator or ChatModel on demand from the registry.
Importing this package does not import any model library: resolution (and so cache-key computation)
stays cheap, and a fully cached rerun never loads one.
"""

from summarizer.models.presets import PRESETS, Preset
from summarizer.models.registry import ModelRegistry, chat_backend, load_chat_model, load_translator
from summarizer.models.resolve import resolve_model

__all__ = ["PRESETS", "ModelRegistry", "Preset", "chat_backend", "load_chat_model", "load_translator", "resolve_model"]
