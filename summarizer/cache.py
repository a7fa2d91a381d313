"""The on-disk result cache: reruns are instant and an interrupted batch resumes where it stopped.

Values are stored as JSON text, never pickles, so a cache directory copied from elsewhere cannot run code.
(llama.cpp prompt states, native bytes, sit beside it and reach llama.cpp only when their MAC under the
user's key verifies: models/llama_cpp_states.py. They and converted models are the parts in cache_parts.py.)
diskcache (SQLite underneath) makes concurrent processes on one directory safe. The cache is an accelerator,
never a reason to crash or to return a wrong result, and never a danger to other files:
- a run whose cache cannot be used (not a directory, read-only, unwritable, corrupt, disk full) warns once
  and goes on without it (or without writing to it);
- the cache only moves aside a directory it created itself (it tags those with a CACHEDIR.TAG file);
  anything else — a user's file, a device, a read-only or foreign directory — is never moved or deleted;
- `summarizer cache ...` commands (`maintenance=True`) never create or repair anything: a directory they
  cannot use is an exit-2 error;
- an entry that cannot be read or has the wrong shape is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import stat
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from summarizer.errors import CacheError
from summarizer.schema import SCHEMA_VERSION

# Bump when the shape or meaning of cached values changes: old entries then simply stop matching.
CACHE_FORMAT_VERSION = "1"
# diskcache evicts least-recently-stored entries past this size; 4 GiB holds ~millions of sentences.
SIZE_LIMIT_BYTES = 4 * 2**30
_STATS_KEY = "__summarizer_last_run__"
# https://bford.info/cachedir/ : backup tools skip tagged directories, and the tag marks the directory as ours.
TAG_NAME = "CACHEDIR.TAG"
TAG_TEXT = ("Signature: 8a477f597d28d172789f06886806bc55\n"
            "# This file is a cache directory tag created by summarizer.\n")
_CORRUPT = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
# Signals held back while an entry is written, so Ctrl-C or the article timer never interrupt a write.
_DEFERRED_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGALRM}


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


def _not_a_cache_directory(directory: Path) -> str | None:
    """Why `directory` cannot hold a cache (without creating or changing anything), or None."""
    try:
        mode = os.stat(directory).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return exc.strerror or str(exc)
    return None if stat.S_ISDIR(mode) else "is not a directory"


def _is_ours(directory: Path) -> bool:
    try:
        return (directory / TAG_NAME).read_text(encoding="utf-8", errors="replace") == TAG_TEXT
    except OSError:
        return False


class ResultCache:
    """Per-stage JSON results in a diskcache directory, with hit/miss counts for this run.

    `enabled=False` (--no-cache) neither reads nor writes; `refresh=True` (--refresh) never reads but
    overwrites, so the next run is served the recomputed results. `maintenance=True` (the `cache`
    commands) opens only an existing, healthy cache and raises CacheError otherwise.
    """

    def __init__(self, directory: Path, *, enabled: bool = True, refresh: bool = False,
                 warn: Callable[[str], None] = lambda message: None, maintenance: bool = False):
        self.directory = Path(directory)
        self.enabled = enabled
        self.refresh = refresh
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()
        self._warn = warn
        self._warned: set[str] = set()
        self._writable = True
        self._store = None
        if maintenance:
            self._store = self._open_existing()
        elif enabled:
            self._store = self._open()

    def _open(self):
        """Open (creating if needed) for a run; any problem is one warning and a run without the cache."""
        import diskcache

        if problem := _not_a_cache_directory(self.directory):
            self._warn(f"not using the cache: {self.directory} {problem}")
            return None
        created = not os.path.lexists(self.directory)
        try:
            store = diskcache.Cache(str(self.directory), size_limit=SIZE_LIMIT_BYTES)
            store.get(_STATS_KEY)  # touch the database so corruption shows here, not mid-batch
        except (sqlite3.DatabaseError, OSError, ValueError) as exc:
            if getattr(exc, "sqlite_errorname", None) in _CORRUPT and _is_ours(self.directory):
                return self._replace_corrupt(exc)
            hint = "" if not isinstance(exc, sqlite3.DatabaseError) else "; remove it if it is a summarizer cache"
            self._warn(f"not using the cache at {self.directory}: {_reason(exc)}{hint}")
            return None
        if created:
            try:
                (self.directory / TAG_NAME).write_text(TAG_TEXT, encoding="utf-8")
            except OSError:
                pass  # untagged: only means a corrupt cache here is never moved aside
        return store

    def _replace_corrupt(self, exc: Exception):
        """Move our own corrupt cache aside and start a fresh one."""
        import diskcache

        aside = self.directory.with_name(f"{self.directory.name}.corrupt-{int(time.time())}")
        try:
            self.directory.rename(aside)
            store = diskcache.Cache(str(self.directory), size_limit=SIZE_LIMIT_BYTES)
            (self.directory / TAG_NAME).write_text(TAG_TEXT, encoding="utf-8")
        except (sqlite3.DatabaseError, OSError, ValueError) as again:
            self._warn(f"not using the cache at {self.directory}: corrupt ({exc}), and {_reason(again)}")
            return None
        self._warn(f"cache at {self.directory} was corrupt ({exc}); moved it to {aside} and started a fresh one")
        return store

    def _open_existing(self):
        """Open for `summarizer cache ...`: no directory is created, nothing repaired or moved."""
        import diskcache

        if not os.path.lexists(self.directory):
            return None
        if problem := _not_a_cache_directory(self.directory):
            raise CacheError(f"cache directory {self.directory} {problem}", hint="check --cache-dir")
        if not os.path.exists(self.directory / "cache.db"):
            if _is_ours(self.directory):
                return None  # our directory without results (deleted by hand): its other parts still count
            raise CacheError(f"{self.directory} holds no summarizer cache", hint="check --cache-dir")
        try:
            store = diskcache.Cache(str(self.directory), size_limit=SIZE_LIMIT_BYTES)
            store.get(_STATS_KEY)
            return store
        except (sqlite3.DatabaseError, OSError, ValueError) as exc:
            raise CacheError(f"cannot use the cache at {self.directory}: {_reason(exc)}",
                             hint="a corrupt cache can be deleted; a read-only one needs write access") from None

    def _warn_once(self, kind: str, message: str) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            self._warn(message)

    def get(self, key: str, valid: Callable[[Any], bool] | None = None) -> Any | None:
        """The cached value for `key`, or None (a miss) — also when the entry cannot be read or when
        `valid(value)` says it has the wrong shape (a foreign or damaged entry must not fail an article)."""
        stage = key.split(":", 1)[0]
        if self._store is None or self.refresh:
            self.misses[stage] += 1
            return None
        try:
            raw = self._store.get(key)
            value = None if raw is None else json.loads(raw)["v"]
        except (sqlite3.DatabaseError, OSError, ValueError, KeyError, TypeError) as exc:
            self._warn_once("read", f"ignored an unreadable cache entry ({exc})")
            value = None
        if value is not None and valid is not None and not valid(value):
            self._warn_once("shape", "ignored a cache entry of the wrong shape")
            value = None
        if value is None:
            self.misses[stage] += 1
        else:
            self.hits[stage] += 1
        return value

    def set(self, key: str, value: Any) -> None:
        """Store `value`. A failure (disk full, read-only) warns once and stops writes for this run."""
        if self._store is None or not self._writable:
            return
        text = json.dumps({"t": time.time(), "v": value}, ensure_ascii=False)
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED_SIGNALS)
        try:
            self._store.set(key, text)
        except (sqlite3.DatabaseError, OSError) as exc:
            self._writable = False
            self._warn(f"cannot write to the cache at {self.directory} ({_reason(exc)}); "
                       "results of this run are not cached")
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def close(self) -> None:
        """Record this run's hit/miss counts (for `cache stats`) and close the database."""
        if self._store is None:
            return
        if (self.hits or self.misses) and self._writable:
            stats = {"finished": time.time(), "hits": dict(self.hits), "misses": dict(self.misses)}
            try:
                self._store.set(_STATS_KEY, json.dumps(stats))
            except (sqlite3.DatabaseError, OSError):
                pass
        try:
            self._store.close()
        except (sqlite3.DatabaseError, OSError):
            pass
        self._store = None

    # ------------------------------------------------------------------ maintenance (`summarizer cache`)

    def stats(self) -> dict[str, Any]:
        """Entries per stage, size on disk and the last run's hits/misses."""
        if self._store is None:
            return {"directory": str(self.directory), "entries": 0, "entries_per_stage": {}, "size_bytes": 0,
                    "last_run": None, "exists": os.path.lexists(self.directory)}
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
        """Remove every entry; returns how many there were (as `stats` counts them: the last run's counts
        are not an entry)."""
        if self._store is None:
            return 0
        try:
            counts_kept = self._store.get(_STATS_KEY) is not None
            return self._store.clear() - counts_kept
        except (sqlite3.DatabaseError, OSError) as exc:
            raise CacheError(f"cannot clear the cache at {self.directory}: {_reason(exc)}") from None

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
            try:
                if stored_at < cutoff and self._store.delete(key):
                    removed += 1
            except (sqlite3.DatabaseError, OSError) as exc:
                raise CacheError(f"cannot prune the cache at {self.directory}: {_reason(exc)}") from None
        return removed


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)) or type(exc).__name__
