"""`--engine ray`: the same batch on a Ray cluster, with the same records, order, outputs and cache.

Design (docs/scaling.md has the long version):
- The driver (this process) owns the cache and the outputs. It runs each article through the pipeline with a
  Runtime that may not load models: a fully cached article (or one whose input cannot be read) finishes
  here, without torch and without Ray. Anything else raises ModelRequired and goes to a worker, together
  with the cache entries the driver found for it (so a worker sees exactly the driver's cache).
- Workers are Ray actors that each build one Runtime and keep its models loaded for all their articles.
  They need no shared filesystem: their cache only records what the pipeline stores, and those entries come
  back with the records; the driver writes them into its cache as each batch arrives (before the record
  is emitted), so finished work survives Ctrl-C.
- A worker checks that its models' cache keys (fingerprint, settings) equal the driver's; a worker that
  lacks the weights, or has other ones, answers with error records instead of different results.
- Ray restarts a dead actor and re-runs its unfinished batches (at most MAX_ATTEMPTS times in all). A batch
  that keeps killing its worker is split so only the article that does it gets an error record.
- Records come back in input order: finished records wait in a bounded window until all before them are out.

Importing this module does not import Ray; Ray is only started (or connected to) when an article misses.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from summarizer.config import Config
from summarizer.errors import SetupError, UsageError
from summarizer.sources import InputDocument
from summarizer.pipeline import process_article
from summarizer.runtime import ModelRequired, Runtime
from summarizer.ray_worker import Shipment, ShippedDocument, Worker, error_record, portable_spec
from summarizer.schema import Record

RAY_HINT = "pip install -e '.[ray]', or pip install 'summarizer[ray]'"
# Attempts per batch when its worker process dies (Ray's max_task_retries is one less).
MAX_ATTEMPTS = 3
# Unfinished batches per actor: one running and one queued, so an actor never waits for the driver.
QUEUED_PER_ACTOR = 2
DEFAULT_MAX_CPUS_PER_ACTOR = 4


def require_ray() -> None:
    """A usage error (exit 2) when the [ray] extra is not installed."""
    try:
        found = importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):  # e.g. a broken or blocked install
        found = False
    if not found:
        raise UsageError("--engine ray needs Ray, which is not installed", hint=RAY_HINT)


@dataclass(frozen=True)
class RaySettings:
    """Where and how wide to run. None means: worked out from the cluster's resources."""

    address: str | None = None  # else RAY_ADDRESS, else a local instance
    actors: int | None = None
    cpus_per_actor: float | None = None
    gpus_per_actor: float = 0.0
    ship_models: bool = False  # send local model files through the object store
    batch_size: int | None = None  # articles per actor call; default: the Runtime's summary batch, or 1




# ----------------------------------------------------------------------------------------- driver side


class _Probe:
    """The driver's cache as the model-less Runtime sees it: entries found are kept to travel with the article."""

    enabled = True

    def __init__(self, cache: Any):
        self.cache = cache
        self.refresh = cache.refresh
        self.hits, self.misses = cache.hits, cache.misses
        self.found: dict[str, Any] = {}

    def get(self, key: str, valid: Callable[[Any], bool] | None = None) -> Any | None:
        value = self.cache.get(key, valid)
        if value is not None:
            self.found[key] = value
        return value

    def set(self, key: str, value: Any) -> None:
        self.cache.set(key, value)

    def close(self) -> None:
        pass


@dataclass
class _Batch:
    indices: list[int]
    items: list[tuple[InputDocument, dict[str, Any]]]
    actor: int = 0


@dataclass
class EngineStats:
    """What happened where, for tests, benchmarks and curious users."""

    local: int = 0  # articles finished on the driver (cached, or unreadable)
    sent: int = 0  # articles sent to workers (resends after a split included)
    worker_deaths: int = 0  # batches whose worker died for good (after Ray's retries)
    probe_seconds: float = 0.0  # driver time spent deciding (ingest, segment, cache look-ups)
    actors: int = 0
    cpus_per_actor: float = 0.0


class RayEngine:
    """The driver: probes each article against the cache, sends misses to an actor pool, yields in order."""

    def __init__(self, settings: RaySettings | None = None, warn: Callable[[str], None] | None = None):
        self.settings = settings or RaySettings()
        self.warn = warn or (lambda message: print(f"summarizer: warning: {message}", file=sys.stderr))
        self.stats = EngineStats()
        self._actors: list[Any] = []
        self._started_ray = False
        self._inflight: dict[Any, _Batch] = {}
        self._done: dict[int, Record] = {}

    # ------------------------------------------------------------------ the batch.Engine protocol

    def start(self, docs: Sequence[InputDocument], config: Config,
              runtime: Runtime) -> Callable[[Sequence[InputDocument]], list[Record]]:
        self.docs, self.config, self.runtime = list(docs), config, runtime
        self.batch_size = self.settings.batch_size or (runtime.summary_batch_size if config.task == "summarize" else 1)
        self._probe_cache = _Probe(runtime.cache)
        self._probe_runtime = Runtime(config, cache=self._probe_cache, load_models=False)
        self._expected = {"mt": runtime.mt_key}
        self._display = {"mt": runtime.resolved_mt.display}
        self._probe_runtime.resolved_mt, self._probe_runtime.mt_key = runtime.resolved_mt, runtime.mt_key  # resolved once
        if config.task == "summarize":
            self._expected["llm"], self._display["llm"] = runtime.llm_key, runtime.resolved_llm.display
            self._probe_runtime.resolved_llm, self._probe_runtime.llm_key = runtime.resolved_llm, runtime.llm_key
        self._next = 0  # next document to probe
        self._emitted = 0  # records handed out so far
        self._pending: list[tuple[int, tuple[InputDocument, dict[str, Any]]]] = []
        return lambda group: [self.record_for(doc) for doc in group]

    def record_for(self, doc: InputDocument) -> Record:
        """The record of `doc`, which must be the next document in input order."""
        index = self._emitted
        if self.docs[index] is not doc:
            raise ValueError("RayEngine.record_for must be called with the documents in input order")
        while index not in self._done:
            self._fill()
            if index not in self._done:
                self._wait()
        self._emitted += 1
        return self._done.pop(index)

    def close(self) -> None:
        """Keep whatever finished (in the cache), then stop the actors and a Ray instance we started."""
        if not self._actors and not self._started_ray:
            return
        import ray

        try:
            if self._inflight:
                ready, _ = ray.wait(list(self._inflight), num_returns=len(self._inflight), timeout=0)
                for ref in ready:
                    self._collect(ref)
        except Exception:  # noqa: BLE001 - shutting down: what cannot be collected is simply recomputed next time
            pass
        for actor in self._actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001
                pass
        self._actors, self._inflight = [], {}
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False

    # ------------------------------------------------------------------ driver loop

    @property
    def _capacity(self) -> int:
        actors = max(1, len(self._actors))
        return actors * QUEUED_PER_ACTOR * self.batch_size

    def _fill(self) -> None:
        """Probe ahead of the output, keeping every actor busy, within a bounded window of unemitted work."""
        window = 4 * self._capacity + 16
        while (self._next < len(self.docs) and self._next - self._emitted < window
               and self._sent_unfinished() + len(self._pending) < self._capacity):
            index = self._next
            self._next += 1
            started = time.perf_counter()
            outcome = self._probe(self.docs[index])
            self.stats.probe_seconds += time.perf_counter() - started
            if isinstance(outcome, Record):
                self._done[index] = outcome
                self.stats.local += 1
            else:
                self._pending.append((index, outcome))
                if len(self._pending) >= self.batch_size:
                    self._submit_pending()
        self._submit_pending()

    def _sent_unfinished(self) -> int:
        return sum(len(batch.indices) for batch in self._inflight.values())

    def _probe(self, doc: InputDocument) -> Record | tuple[InputDocument, dict[str, Any]]:
        """The finished record, or what a worker needs: the document's bytes and the cache entries found."""
        from summarizer.errors import InputError

        try:
            doc = ShippedDocument(source=doc.source, path=doc.path, data=doc.read_bytes())
        except InputError:
            pass  # the probe below turns it into the same error record as the local engine
        self._probe_cache.found = {}
        try:
            return process_article(doc, self.config, self._probe_runtime)
        except ModelRequired:
            return doc, self._probe_cache.found

    def _submit_pending(self) -> None:
        if not self._pending:
            return
        batch = _Batch(indices=[i for i, _ in self._pending], items=[item for _, item in self._pending])
        self._pending = []
        self._submit(batch)

    def _submit(self, batch: _Batch) -> None:
        if not self._actors:
            self._start_pool()
        load = Counter(b.actor for b in self._inflight.values())
        batch.actor = min(range(len(self._actors)), key=lambda a: load[a])
        ref = self._actors[batch.actor].process.remote(batch.items)
        self._inflight[ref] = batch
        self.stats.sent += len(batch.indices)

    def _wait(self) -> None:
        import ray

        if not self._inflight:
            raise RuntimeError("waiting for a record that no worker is computing")  # a bug, not a user error
        ready, _ = ray.wait(list(self._inflight), num_returns=1, timeout=1.0)
        for ref in ready:
            self._collect(ref)

    def _collect(self, ref: Any) -> None:
        """Write a finished batch's cache entries, then file its records; split or fail a batch whose worker died."""
        import ray
        from ray.exceptions import RayActorError, RayError

        batch = self._inflight.pop(ref)
        try:
            records, writes, warnings = ray.get(ref)
        except RayError as exc:
            died = isinstance(exc, RayActorError)
            if died and len(batch.indices) > 1:  # find the article that kills workers: retry one by one
                for index, item in zip(batch.indices, batch.items):
                    self._submit(_Batch(indices=[index], items=[item]))
                return
            self.stats.worker_deaths += died
            detail = " ".join(str(exc).split())[:300]
            reason = (f"the Ray worker died while processing this article ({MAX_ATTEMPTS} attempts): {detail}"
                      if died else f"the Ray worker failed: {detail}")
            records, writes, warnings = [error_record(doc, "WorkerDied" if died else "WorkerError", reason)
                                         for doc, _ in batch.items], [], []
        for key, value in writes:
            self.runtime.cache.set(key, value)
        for message in warnings:
            self.warn(message)
        for index, record in zip(batch.indices, records):
            # Workers may hold a shipped copy at another path: name models as the driver knows them.
            record.models = {role: self._display.get(role, name) for role, name in record.models.items()}
            self._done[index] = record

    # ------------------------------------------------------------------ the actor pool

    def _start_pool(self) -> None:
        import ray

        self._connect()
        cpus, actors = self._shape()
        # Absolute paths for local models: a worker's working directory is not the driver's.
        update: dict[str, Any] = {"mt_model": portable_spec(self.runtime.resolved_mt)}
        if "llm" in self._expected:
            update["llm"] = portable_spec(self.runtime.resolved_llm)
        if self.config.threads is None:  # one model thread per CPU Ray reserves for the actor
            update["threads"] = max(1, int(cpus))
        config = self.config.model_copy(update=update)
        shipments = self._shipments() if self.settings.ship_models else {}
        actor_class = ray.remote(Worker).options(
            num_cpus=cpus, num_gpus=self.settings.gpus_per_actor or None,
            max_restarts=-1, max_task_retries=MAX_ATTEMPTS - 1,
        )
        self._actors = [actor_class.remote(config, self._expected, shipments) for _ in range(actors)]
        self.stats.actors, self.stats.cpus_per_actor = actors, cpus

    def actor_pids(self) -> list[int]:
        """Process ids of the live actors (tests kill them to prove nothing is lost)."""
        import ray

        return ray.get([actor.pid.remote() for actor in self._actors])

    def _connect(self) -> None:
        import logging

        import ray

        if ray.is_initialized():
            return
        address = self.settings.address or os.environ.get("RAY_ADDRESS") or "local"
        options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
        if address == "local":
            options["include_dashboard"] = False
            # A private instance on this machine: its token-auth notice is noise on a one-line-errors CLI.
            logging.getLogger("ray._private.authentication").setLevel(logging.ERROR)
        import signal
        import threading

        sigterm = signal.getsignal(signal.SIGTERM)
        try:
            ray.init(address=address, **options)
            if threading.current_thread() is threading.main_thread():
                # Ray's driver handler exits on SIGTERM at once; keep the CLI's (stop like Ctrl-C, cache kept).
                signal.signal(signal.SIGTERM, sigterm)
        except Exception as exc:  # noqa: BLE001 - Ray raises many types for "cannot reach the cluster"
            raise SetupError(f"cannot start or reach Ray at {address}: {' '.join(str(exc).split())[:300]}",
                             hint="check --ray-address / RAY_ADDRESS and the cluster's auth token (RAY_AUTH_TOKEN)") from None
        self._started_ray = True

    def _shape(self) -> tuple[float, int]:
        """(CPUs per actor, actors): given, or as many as the alive nodes fit."""
        import ray

        nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
        node_cpus = [resources.get("CPU", 0.0) for resources in nodes]
        gpus = self.settings.gpus_per_actor
        cpus = self.settings.cpus_per_actor
        if cpus is None:
            cpus = 1.0 if gpus else float(max(1, min(DEFAULT_MAX_CPUS_PER_ACTOR, int(max(node_cpus, default=1)))))
        actors = self.settings.actors
        if actors is None:
            if gpus:
                actors = sum(int(resources.get("GPU", 0.0) // gpus) for resources in nodes)
            else:
                actors = sum(int(c // cpus) for c in node_cpus)
            actors = max(1, min(actors, len(self.docs)))
        if cpus * actors > sum(node_cpus) or gpus * actors > sum(r.get("GPU", 0.0) for r in nodes):
            self.warn(f"the Ray cluster has {sum(node_cpus):g} CPUs and "
                      f"{sum(r.get('GPU', 0.0) for r in nodes):g} GPUs now: some of the {actors} actors "
                      "wait until resources appear")
        return cpus, actors

    def _shipments(self) -> dict[str, Shipment]:
        """Local model files into the object store (bounded by its size, by default 30% of a node's RAM)."""
        import ray

        from summarizer.models.resolve import model_files

        resolved = {role: self.runtime.resolved_mt if role == "mt" else self.runtime.resolved_llm for role in self._expected}
        shipped: dict[str, Shipment] = {}
        by_fingerprint: dict[str, Shipment] = {}
        for role, model in resolved.items():
            if model.kind not in ("local", "gguf"):
                self.warn(f"--ray-ship-models ships local directories and .gguf files; workers must have "
                          f"{model.display} in their own Hugging Face cache")
                continue
            if model.fingerprint not in by_fingerprint:
                directory = Path(model.location)
                files = [directory / model.gguf_file] if model.gguf_file else model_files(directory)
                by_fingerprint[model.fingerprint] = Shipment(
                    fingerprint=model.fingerprint, gguf_file=model.gguf_file,
                    files={path.name: ray.put(path.read_bytes()) for path in files})
            shipped[role] = by_fingerprint[model.fingerprint]
        return shipped
