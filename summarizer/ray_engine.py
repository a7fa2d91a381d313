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
- `summarizer eval` sends sentence chunks instead of articles, through the same cache probe and actors.
- Reaching the cluster and managing the actors is ray_pool.py's; the actors themselves are ray_worker.py's.
- Records come back in input order: finished records wait in a bounded window until all before them are out.

Importing this module does not import Ray; Ray is only started (or connected to) when an article misses.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

from summarizer.config import Config
from summarizer.errors import SetupError, SummarizerError
from summarizer.sources import InputDocument
from summarizer.pipeline import process_article
from summarizer.runtime import ModelRequired, Runtime
from summarizer.ray_pool import MAX_ATTEMPTS, ActorPool, RaySettings
from summarizer.ray_worker import ShippedDocument, error_record
from summarizer.schema import Record

# Unfinished batches per actor: one running and one queued, so an actor never waits for the driver.
QUEUED_PER_ACTOR = 2


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
        self.pool = ActorPool(self.settings, self.warn)
        self._inflight: dict[Any, _Batch] = {}
        self._done: dict[int, Record] = {}

    # ------------------------------------------------------------------ the batch.Engine protocol

    def start(self, docs: Sequence[InputDocument], config: Config,
              runtime: Runtime) -> Callable[[Sequence[InputDocument]], list[Record]]:
        self.docs = list(docs)
        self._prepare(config, runtime, len(self.docs))
        self.batch_size = self.settings.batch_size or (runtime.summary_batch_size if config.task == "summarize" else 1)
        self._probe_cache = _Probe(runtime.cache)
        self._probe_runtime = Runtime(config, cache=self._probe_cache, load_models=False)
        self._probe_runtime.resolved_mt, self._probe_runtime.mt_key = runtime.resolved_mt, runtime.mt_key  # resolved once
        if config.task == "summarize":
            self._probe_runtime.resolved_llm, self._probe_runtime.llm_key = runtime.resolved_llm, runtime.llm_key
        self._next = 0  # next document to probe
        self._emitted = 0  # records handed out so far
        self._pending: list[tuple[int, tuple[InputDocument, dict[str, Any]]]] = []
        return lambda group: [self.record_for(doc) for doc in group]

    def _prepare(self, config: Config, runtime: Runtime, work: int) -> None:
        """What the pool needs to start: the settings, the driver's model keys, and how much work there is."""
        self.config, self.runtime, self._work = config, runtime, work
        self._expected = {"mt": runtime.mt_key}
        self._display = {"mt": runtime.resolved_mt.display}
        if config.task == "summarize":
            self._expected["llm"], self._display["llm"] = runtime.llm_key, runtime.resolved_llm.display

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
        if not self.pool.actors and not self.pool.started_ray:
            return
        import ray

        try:
            if self._inflight:
                ready, _ = ray.wait(list(self._inflight), num_returns=len(self._inflight), timeout=0)
                for ref in ready:
                    self._collect(ref)
        except Exception:  # noqa: BLE001 - shutting down: what cannot be collected is simply recomputed next time
            pass
        self._inflight = {}
        self.pool.stop()

    def actor_pids(self) -> list[int]:
        """Process ids of the live actors (tests kill them to prove nothing is lost)."""
        return self.pool.pids()

    # ------------------------------------------------------------------ driver loop

    @property
    def _capacity(self) -> int:
        actors = max(1, len(self.pool.actors))
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
        self._start_pool()
        batch.actor = self._least_busy_actor(b.actor for b in self._inflight.values())
        ref = self.pool.actors[batch.actor].process.remote(batch.items)
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
        self._absorb(writes, warnings)
        for index, record in zip(batch.indices, records):
            # Workers may hold a shipped copy at another path: name models as the driver knows them.
            record.models = {role: self._display.get(role, name) for role, name in record.models.items()}
            self._done[index] = record

    # ------------------------------------------------------------------ sentence chunks (`summarizer eval`)

    def translate_chunks(self, chunks: Sequence[tuple[list[str], list[str | None] | None]], runtime: Runtime,
                         progress: Callable[[int], None] | None = None) -> tuple[list[list[Any]], dict[str, float]]:
        """Each (texts, contexts) chunk through the driver's sentence cache; chunks with misses are translated
        on the workers, which send back their cache entries. Results in chunk order, and the workers' summed
        model counters (load time: the slowest worker's)."""
        from summarizer.translate import translate_segments

        def model_required() -> Any:
            raise ModelRequired

        self._prepare(runtime.config, runtime, len(chunks))
        probe = _Probe(runtime.cache)
        results: list[list[Any] | None] = [None] * len(chunks)
        calls: list[tuple[int, tuple[Any, ...]]] = []
        for n, (texts, contexts) in enumerate(chunks):
            probe.found = {}
            started = time.perf_counter()
            try:
                results[n] = translate_segments(texts, contexts=contexts, engine=model_required,
                                                model_key=runtime.mt_key, cache=probe)
                self.stats.local += 1
                if progress:
                    progress(len(texts))
            except ModelRequired:
                calls.append((n, (texts, contexts, probe.found)))
            self.stats.probe_seconds += time.perf_counter() - started
        counters = {"sentences": 0, "seconds": 0.0, "source_tokens": 0, "load_seconds": 0.0}
        for n, (chunk_results, worker_counters) in self._map("translate_sentences", calls):
            results[n] = chunk_results
            for name, value in worker_counters.items():
                counters[name] = max(counters[name], value) if name == "load_seconds" else counters[name] + value
            if progress:
                progress(len(chunks[n][0]))
        return results, counters  # type: ignore[return-value]

    def naive_translations(self, groups: Sequence[Sequence[Any]], runtime: Runtime,
                           progress: Callable[[int], None] | None = None) -> list[list[list[str]]]:
        """evaluate.naive_translations of each group of documents on the workers (never cached)."""
        self._prepare(runtime.config, runtime, len(groups))
        results: list[Any] = [None] * len(groups)
        for n, hypotheses in self._map("naive_translations", [(n, (list(group),)) for n, group in enumerate(groups)]):
            results[n] = hypotheses
            if progress:
                progress(sum(len(document.sources) for document in groups[n]))
        return results

    def _map(self, method: str, calls: list[tuple[int, tuple[Any, ...]]]) -> Iterator[tuple[int, Any]]:
        """Worker `method(*args)` for each (key, args), a bounded number in flight; yields (key, value) as
        they finish, after writing the cache entries they bring. A call whose worker keeps dying fails the run."""
        import ray
        from ray.exceptions import RayActorError, RayError

        if not calls:
            return
        self._start_pool()
        queue, inflight = list(calls), {}
        capacity = len(self.pool.actors) * QUEUED_PER_ACTOR
        while queue or inflight:
            while queue and len(inflight) < capacity:
                key, args = queue.pop(0)
                actor = self._least_busy_actor(actor for _, actor in inflight.values())
                inflight[getattr(self.pool.actors[actor], method).remote(*args)] = (key, actor)
                self.stats.sent += 1
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=1.0)
            for ref in ready:
                key, _ = inflight.pop(ref)
                try:
                    value, writes, warnings, setup_error = ray.get(ref)
                except RayError as exc:
                    died = isinstance(exc, RayActorError)
                    self.stats.worker_deaths += died
                    what = f"died ({MAX_ATTEMPTS} attempts)" if died else "failed"
                    raise SummarizerError(f"the Ray worker {what}: {' '.join(str(exc).split())[:300]}",
                                          hint="finished chunks are cached; rerun to retry the rest") from None
                if setup_error is not None:
                    raise SetupError(setup_error)
                self._absorb(writes, warnings)
                yield key, value

    def _least_busy_actor(self, busy: Iterable[int]) -> int:
        """The actor with the fewest unfinished calls (the first of them on a tie), given each call's actor."""
        load = Counter(busy)
        return min(range(len(self.pool.actors)), key=lambda a: load[a])

    def _absorb(self, writes: list[tuple[str, Any]], warnings: list[str]) -> None:
        """A finished call's cache entries go into the driver's cache, its warnings to the user."""
        for key, value in writes:
            self.runtime.cache.set(key, value)
        for message in warnings:
            self.warn(message)

    def _start_pool(self) -> None:
        if not self.pool.actors:
            self.pool.start(self.config, self.runtime, self._expected, self._work)
            self.stats.actors, self.stats.cpus_per_actor = len(self.pool.actors), self.pool.cpus_per_actor
