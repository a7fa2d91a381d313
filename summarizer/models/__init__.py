"""Model backends: resolve a SPEC cheaply, then load a Translator or ChatModel on demand.

Importing this package does not import torch or transformers: resolution (and so cache-key computation)
stays cheap, and a fully cached rerun never loads a model library.
"""

from summarizer.models.loading import load_chat_model, load_translator
from summarizer.models.presets import PRESETS, Preset
from summarizer.models.resolve import resolve_model

__all__ = ["PRESETS", "Preset", "load_chat_model", "load_translator", "resolve_model"]
