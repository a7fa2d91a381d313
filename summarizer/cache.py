"""The on-disk result cache: reruns are instant and an interrupted batch resumes where it stopped.

Values are stored as JSON text, never pickles, so a cache directory copied from elsewhere cannot run code.
diskcache (SQLite underneath) makes concurrent processes on one directory safe. A cache that cannot be
opened or read is moved aside with a warning and replaced by a fresh one: the cache is an accelerator,
never a reason to crash or to return a wrong result.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from summarizer.schema import SCHEMA_VERSION

# Bump when the shape or meaning of cached values changes: old entries then simply stop matching.
CACHE_FORMAT_VERSION = "1"
# diskcache evicts least-recently-stored entries past this size; 4 GiB holds ~millions of sentences.
SIZE_LIMIT_BYTES = 4 * 2**30
_STATS_KEY = "__summarizer_last_run__"


def cache_key(stage: str, *ingredients: Any) -> str:
    """SHA-256 over everything that can change a stage's result, plus the format and schema versions."""
    payload = json.dumps(
        [CACHE_FORMAT_VERSION, SCHEMA_VERSION, stage, *ingredients],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return f"{stage}:{hashlib.sha256(payload.encode('utf-8')).hexdigest()}"


class ResultCache:
    """Per-stage JSON results in a diskcache directory, with hit/miss counts for this run.

    `enabled=False` (--no-cache) neither reads nor writes; `refresh=True` (--refresh) never reads but
    overwrites, so the next run is served the recomputed results.
    """

    def __init__(self, directory: Path, *, enabled: bool = True, refresh: bool = False,
                 warn: Callable[[str], None] = lambda message: None):
        self.directory = Path(directory)
        self.enabled = enabled
        self.refresh = refresh
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()
        self._warn = warn
        self._store = self._open() if enabled else None

    def _open(self):
        import diskcache

        try:
            store = diskcache.Cache(str(self.directory), size_limit=SIZE_LIMIT_BYTES)
            store.get(_STATS_KEY)  # touch the database so corruption shows here, not mid-batch
            return store
        except (sqlite3.DatabaseError, OSError, ValueError) as exc:
            aside = self.directory.with_name(f"{self.directory.name}.corrupt-{int(time.time())}")
            self._warn(f"cache at {self.directory} is unreadable ({exc}); moved it to {aside} and started a fresh one")
            try:
                self.directory.rename(aside)
                return diskcache.Cache(str(self.directory), size_limit=SIZE_LIMIT_BYTES)
            except (sqlite3.DatabaseError, OSError, ValueError) as again:
                self._warn(f"cache disabled for this run: {again}")
                return None

    def get(self, key: str) -> Any | None:
        """The cached value for `key`, or None (a miss) — also when the entry cannot be read."""
        stage = key.split(":", 1)[0]
        if self._store is None or self.refresh:
            self.misses[stage] += 1
            return None
        try:
            raw = self._store.get(key)
            value = None if raw is None else json.loads(raw)["v"]
        except (sqlite3.DatabaseError, OSError, ValueError, KeyError, TypeError) as exc:
            self._warn(f"ignored an unreadable cache entry ({exc})")
            value = None
        if value is None:
            self.misses[stage] += 1
        else:
            self.hits[stage] += 1
        return value

    def set(self, key: str, value: Any) -> None:
        if self._store is None:
            return
        try:
            self._store.set(key, json.dumps({"t": time.time(), "v": value}, ensure_ascii=False))
        except (sqlite3.DatabaseError, OSError) as exc:
            self._warn(f"could not write to the cache ({exc})")

    def close(self) -> None:
        """Record this run's hit/miss counts (for `cache stats`) and close the database."""
        if self._store is None:
            return
        if self.hits or self.misses:
            stats = {"finished": time.time(), "hits": dict(self.hits), "misses": dict(self.misses)}
            try:
                self._store.set(_STATS_KEY, json.dumps(stats))
            except (sqlite3.DatabaseError, OSError):
                pass
        self._store.close()
        self._store = None

    # ------------------------------------------------------------------ maintenance (`summarizer cache`)

    def stats(self) -> dict[str, Any]:
        """Entries per stage, size on disk and the last run's hits/misses."""
        if self._store is None:
            return {"directory": str(self.directory), "enabled": False}
        per_stage: Counter[str] = Counter()
        for key in self._store.iterkeys():
            if key != _STATS_KEY:
                per_stage[str(key).split(":", 1)[0]] += 1
        last = self._store.get(_STATS_KEY)
        return {
            "directory": str(self.directory),
            "entries": sum(per_stage.values()),
            "entries_per_stage": dict(per_stage),
            "size_bytes": self._store.volume(),
            "last_run": json.loads(last) if last else None,
        }

    def clear(self) -> int:
        """Remove every entry; returns how many there were."""
        return self._store.clear() if self._store is not None else 0

    def prune(self, older_than_seconds: float) -> int:
        """Remove entries stored more than `older_than_seconds` ago; returns how many."""
        if self._store is None:
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        for key in list(self._store.iterkeys()):
            if key == _STATS_KEY:
                continue
            try:
                stored_at = json.loads(self._store.get(key))["t"]
            except (ValueError, KeyError, TypeError):
                stored_at = 0.0  # unreadable entries are worth nothing: prune them
            if stored_at < cutoff and self._store.delete(key):
                removed += 1
        return removed
