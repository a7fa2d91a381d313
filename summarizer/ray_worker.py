"""The worker side of `--engine ray` (ray_engine.py is the driver): the Ray actor that runs the pipeline on
articles the driver could not finish from its cache, and what travels to it: the article's bytes, the
driver's cache entries for it, and (with --ray-ship-models) local model files through the object store.
Importing this module does not import Ray or torch."""

from __future__ import annotations

import os
import socket
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from summarizer.config import Config
from summarizer.errors import SetupError, SummarizerError
from summarizer.models.base import ResolvedModel
from summarizer.pipeline import process_articles
from summarizer.runtime import Runtime
from summarizer.schema import ErrorInfo, Record
from summarizer.sources import InputDocument

SHIPPED_MODELS_DIR = "summarizer-ray-models"


@dataclass(frozen=True)
class ShippedDocument(InputDocument):
    """An input whose bytes the driver read: workers never touch the driver's filesystem. `path` is kept
    (never opened) because ingest reads the file type from its suffix."""

    def read_bytes(self, limit: int | None = None) -> bytes:
        """The driver already read (and bounded) the bytes: `limit` was applied there."""
        return self.data or b""


class CarriedCache:
    """A worker's cache for one batch: the driver's entries in, everything the pipeline stores out."""

    enabled = True

    def __init__(self, entries: dict[str, Any], refresh: bool = False):
        self.entries = dict(entries)
        self.refresh = refresh  # as in ResultCache: never read, so a batch does not reuse its own results
        self.writes: list[tuple[str, Any]] = []
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()

    def get(self, key: str, valid: Callable[[Any], bool] | None = None) -> Any | None:
        """As ResultCache.get: an entry of the wrong shape is a miss."""
        value = None if self.refresh else self.entries.get(key)
        if value is not None and valid is not None and not valid(value):
            value = None
        (self.misses if value is None else self.hits)[key.split(":", 1)[0]] += 1
        return value

    def set(self, key: str, value: Any) -> None:
        self.entries[key] = value
        self.writes.append((key, value))

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Shipment:
    """A local model's files, as object-store references, for workers that do not have them."""

    fingerprint: str
    files: dict[str, Any]  # file name -> ray.ObjectRef of its bytes
    gguf_file: str | None = None


def _materialize(shipment: Shipment) -> str:
    """Write shipped model files under the node's temp dir (once per node and fingerprint); the SPEC to use."""
    import ray

    digest = shipment.fingerprint.split(":", 1)[-1][:24]
    target = Path(tempfile.gettempdir()) / SHIPPED_MODELS_DIR / digest
    done = target / ".complete"
    if not done.exists():
        partial = target.with_name(f"{digest}.partial-{os.getpid()}")
        partial.mkdir(parents=True, exist_ok=True)
        for name, ref in shipment.files.items():
            (partial / name).write_bytes(ray.get(ref))
        (partial / ".complete").write_text(shipment.fingerprint, encoding="utf-8")
        try:
            partial.rename(target)
        except OSError:  # another actor on this node got there first
            pass
    return str(target / shipment.gguf_file) if shipment.gguf_file else str(target)


class Worker:
    """A Ray actor's state: one Runtime whose models stay loaded across batches."""

    def __init__(self, config: Config, expected: dict[str, list[Any]], shipments: dict[str, Shipment]):
        self.warnings: list[str] = []
        self.setup_error: str | None = None
        self.host = socket.gethostname()
        self.config = config
        self.chunk_translator: Any = None  # `summarizer eval`'s sentence path, made on first use
        try:
            specs = {role: _materialize(shipment) for role, shipment in shipments.items()}
            self.config = config.model_copy(update={
                "mt_model": specs.get("mt", config.mt_model), "llm": specs.get("llm", config.llm),
                # The worker's own scratch dir, for the fingerprint memo and llama.cpp prompt states only:
                # results go to the driver.
                "cache_dir": Path(tempfile.gettempdir()) / "summarizer-ray-worker",
            })
            self.runtime = Runtime(self.config, warn=self.warnings.append, cache=CarriedCache({}))
            self._check_models(expected)
        except (SummarizerError, OSError) as exc:
            self._fail_setup(exc)

    def _check_models(self, expected: dict[str, list[Any]]) -> None:
        """Same cache keys as the driver, or refuse: results must not depend on which node ran them."""
        for role, key in expected.items():
            resolved: ResolvedModel = self.runtime.resolved_mt if role == "mt" else self.runtime.resolved_llm
            mine = self.runtime.mt_key if role == "mt" else self.runtime.llm_key
            if mine != key and mine[0] != key[0]:
                raise SetupError(
                    f"model {resolved.display} differs from the driver's ({resolved.fingerprint} here, {key[0]} there)",
                    hint="give every node the same model files, or pass --ray-ship-models for a local model",
                )
            if mine != key:  # same weights, other settings: e.g. llama.cpp installed on one side only
                raise SetupError(
                    f"model {resolved.display} would run with other settings than on the driver ({mine[1:]} here, "
                    f"{key[1:]} there)",
                    hint="install the same summarizer version and extras (e.g. [gguf]) on every node",
                )

    def pid(self) -> int:
        return os.getpid()

    def process(self, items: list[tuple[InputDocument, dict[str, Any]]]) -> tuple[list[Record], list[tuple[str, Any]], list[str]]:
        """Records for a batch, the cache entries they produced, and warnings for the driver to show."""
        docs = [doc for doc, _ in items]
        cache = CarriedCache({key: value for _, found in items for key, value in found.items()}, self.config.refresh)
        if self.setup_error is None:
            self.runtime.cache = cache
            try:
                records = process_articles(docs, self.config, self.runtime)
            except SetupError as exc:  # e.g. weights that will not load here: no article can succeed
                self._fail_setup(exc)
        if self.setup_error is not None:
            records, cache.writes = [error_record(doc, "WorkerSetupError", self.setup_error) for doc in docs], []
        return records, cache.writes, self._take_warnings()

    # `summarizer eval`: sentences, not articles. Each returns (value, cache writes, warnings, setup error).

    def translate_sentences(self, texts: list[str], contexts: list[str | None] | None,
                            found: dict[str, Any]) -> tuple[Any, list[tuple[str, Any]], list[str], str | None]:
        """Translations of one chunk through the engine and the driver's cache entries, and this call's
        model counters (evaluate.ChunkTranslator's)."""
        from summarizer.evaluate import ChunkTranslator

        cache = CarriedCache(found, self.config.refresh)
        value = None
        if self.setup_error is None:
            self.runtime.cache = cache
            self.chunk_translator = self.chunk_translator or ChunkTranslator(self.runtime)
            before = self.chunk_translator.counters()
            try:
                results = self.chunk_translator(texts, contexts)
                after = self.chunk_translator.counters()
                value = (results, {name: after[name] - before[name] for name in after})
            except SetupError as exc:
                self._fail_setup(exc)
        return value, cache.writes if value else [], self._take_warnings(), self.setup_error

    def naive_translations(self, documents: list[Any]) -> tuple[Any, list[tuple[str, Any]], list[str], str | None]:
        """evaluate.naive_translations of these documents with this worker's model (nothing cached)."""
        from summarizer.evaluate import naive_translations

        value = None
        if self.setup_error is None:
            try:
                value = naive_translations(documents, self.runtime)
            except SetupError as exc:
                self._fail_setup(exc)
        return value, [], self._take_warnings(), self.setup_error

    def _fail_setup(self, exc: Exception) -> None:
        """From now on every call answers with this error: the models cannot be had on this worker."""
        message = exc.one_line() if isinstance(exc, SummarizerError) else str(exc)
        self.setup_error = f"Ray worker on {self.host}: {message}"

    def _take_warnings(self) -> list[str]:
        warnings, self.warnings[:] = list(self.warnings), []
        return warnings


def portable_spec(resolved: ResolvedModel) -> str:
    if resolved.kind == "local":
        return resolved.location
    if resolved.kind == "gguf":
        return str(Path(resolved.location) / (resolved.gguf_file or ""))
    return resolved.spec


def error_record(doc: InputDocument, kind: str, message: str) -> Record:
    return Record(id=None, source=doc.source, error=ErrorInfo(type=kind, message=message))
