"""Typed errors. The core raises these with a reason; the CLI maps them to one stderr line and an exit code.

Two families matter to the user:
- setup errors (bad option, missing model, unsafe weights) stop the whole run with exit code 2;
- item errors (a bad file, a failed generation) become that article's error record, and the batch goes on
  (exit code 1 at the end).
"""

from __future__ import annotations


class SummarizerError(Exception):
    """Base class. `hint` says how to fix it, and is appended to the one-line message."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message if not self.hint else f"{self.message} ({self.hint})"
        return " ".join(text.split())


class SetupError(SummarizerError):
    """The run cannot start or continue at all: exit code 2."""

    exit_code = 2


class UsageError(SetupError):
    """A bad option or argument value."""


class ModelNotFoundError(SetupError):
    """A model SPEC resolves to nothing we can load here (unknown name, missing weights offline)."""


class ModelLoadError(SetupError):
    """The weights exist but cannot be loaded (corrupt, unsupported architecture, missing package)."""


class UnsafeWeightsError(ModelLoadError):
    """Only pickled weights are present and the user has not passed --allow-pickle."""


class OutputError(SetupError):
    """--out or stdout cannot be written (read-only, not a directory, disk full): nothing more can be saved."""


class CacheError(SetupError):
    """A `summarizer cache` command cannot work on the directory it was given."""


class ItemError(SummarizerError):
    """A problem with one article: it gets an error record, the batch continues."""


class InputError(ItemError):
    """The input file is unreadable, empty, binary or not text."""


class GenerationError(ItemError):
    """A model produced no usable output for this article."""


class ArticleTimeout(ItemError):
    """One article took longer than --article-timeout; it gets an error record and the batch goes on."""
