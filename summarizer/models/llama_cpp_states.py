"""Prompt prefix states of llama.cpp kept in the cache directory, so later runs skip the fixed prompt parts.

Why: a single-article `summarize` with the 0.5B GGUF spends ~26 of its ~100 CPU s evaluating the same two
prompt parts as every run before it (the translation examples, the summary instructions). PrefixReuse
keeps such prefixes within a process; this store keeps them across processes.

Threat model: a cache directory may come from elsewhere (copied from another machine or user, shared,
writable by others), and llama.cpp parses a state natively, where crafted bytes could corrupt memory. So
a state file reaches llama.cpp only if its HMAC-SHA256 under this user's secret key verifies; the key
lives outside the cache directory (`$XDG_CONFIG_HOME/summarizer/state.key`, mode 0600), and whoever can
read it can already run code as this user. The index (JSON) never reaches native code: it only decides
what is worth saving.

Layout (paths from cache_parts.py): `<cache_dir>/llama-states/<model fingerprint>/<prefix key>.state` (a
JSON header line naming the format, llama.cpp's version and build, the model, the context size, the prefix
key and its token count; the state; the MAC of both), at most STORED_PREFIXES per model (least recently used
removed), and `index.json`, the prefix keys of recent prompts with how many prompts had each. A file whose MAC fails
(tampered, truncated, another user's key) or whose header differs (another llama.cpp, model or prefix)
is ignored and recomputed. The store is only an accelerator: a failure to read or write is no error.
States are used with --refresh too: a restored prefix is the same computation as a fresh one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from itertools import islice
from pathlib import Path
from typing import Any

from summarizer.atomic import atomic_write, create_private
from summarizer.cache_parts import STATE_SUFFIX, STATES_INDEX, mark_used, states_dir
from summarizer.models.base import ResolvedModel
from summarizer.models.llama_cpp_prompts import RECURRING_MIN, PromptPlan

FORMAT = 1  # bump when the file layout changes: older files then stop matching their header
STORED_PREFIXES = 8  # per model: both fixed parts of two prompt versions; ~8 MB each for 600 tokens of the 0.5B
INDEX_KEYS = 4096  # prefix keys remembered (a 700-token prompt has ~20): a few hundred articles' prompts
INDEX_MAX_BYTES = 1 << 20  # a larger index is not ours (4,096 keys take ~180 KB): ignored
KEY_BYTES = 32
MAC_BYTES = 32  # HMAC-SHA256


def user_key() -> bytes | None:
    """This user's secret for state MACs, created on first use; None (no persistence) when it cannot be
    created or read, or when others could read or change it."""
    home = os.environ.get("XDG_CONFIG_HOME") or ""
    try:
        directory = (Path(home) if os.path.isabs(home) else Path.home() / ".config") / "summarizer"
        path = directory / "state.key"
        if not path.exists():
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            create_private(path, secrets.token_bytes(KEY_BYTES))  # a concurrent run may win: its key is read
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            key = handle.read(KEY_BYTES + 1)
    except (OSError, RuntimeError):  # RuntimeError: no home directory
        return None
    private = status.st_uid == os.geteuid() and not status.st_mode & 0o077
    return key if private and len(key) == KEY_BYTES else None


class StateStore:
    """One model's prefix states on disk, authenticated with the user's key."""

    def __init__(self, directory: Path, secret: bytes, identity: dict[str, Any]):
        self.directory = directory
        self._secret = secret
        self._identity = identity
        self._good: set[bytes] = set()  # prefix keys whose file this process verified or wrote
        self._index = self._read_index()

    @classmethod
    def open(cls, cache_dir: Path, resolved: ResolvedModel, llm: Any) -> "StateStore | None":
        """The store for the model `resolved` loaded in `llm`; None when there is no user key."""
        import llama_cpp

        secret = user_key()
        if secret is None:
            return None
        identity = {"format": FORMAT, "llama_cpp": llama_cpp.__version__, "model": resolved.fingerprint,
                    "build": llama_cpp.llama_print_system_info().decode("utf-8", "replace"), "context": llm.n_ctx()}
        return cls(states_dir(cache_dir, resolved.directory_name), secret, identity)

    # ------------------------------------------------------------------ states

    def load(self, key: bytes, tokens: int) -> bytes | None:
        """The state of the prefix `key` (`tokens` long) if its file exists and verifies, else None."""
        path = self._path(key)
        data = _read_regular(path)
        if data is None:
            return None
        header, body, mac = self._header(key, tokens), data[:-MAC_BYTES], data[-MAC_BYTES:]
        if len(body) <= len(header) or not body.startswith(header) or not hmac.compare_digest(mac, self._mac(body)):
            return None
        self._good.add(key)
        mark_used(path)  # evicted (and pruned by `summarizer cache prune`) last
        return body[len(header):]

    def save(self, key: bytes, tokens: int, state: bytes) -> None:
        """Write the state of the prefix `key` (replacing a file that did not verify), then evict the least
        recently used files past STORED_PREFIXES."""
        if key in self._good:
            return
        body = self._header(key, tokens) + state
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            atomic_write(self._path(key), body + self._mac(body))
            self._good.add(key)
            stored = sorted(self.directory.glob(f"*{STATE_SUFFIX}"), key=_used, reverse=True)
            for stale in stored[STORED_PREFIXES:]:
                stale.unlink(missing_ok=True)
        except OSError:
            pass

    def _path(self, key: bytes) -> Path:
        return self.directory / f"{key.hex()}{STATE_SUFFIX}"

    def _header(self, key: bytes, tokens: int) -> bytes:
        fields = {**self._identity, "prefix": key.hex(), "tokens": tokens}
        return json.dumps(fields, sort_keys=True).encode("utf-8") + b"\n"

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).digest()

    # ------------------------------------------------------------------ index

    def recurring(self, plan: PromptPlan) -> int:
        """The prefix of `plan` (at least RECURRING_MIN tokens) worth keeping, judged over the indexed prompts
        of this and earlier runs: the longest that at least half as many of them share as share its shortest
        shared prefix. That is a fixed part, such as the translation examples, which every translation prompt
        has; not a sentence's own text, which a rerun of the same article shares with only that sentence's
        first attempt and retries. Then `plan`'s own prefixes are counted in."""
        keys = [(start, plan.key(start).hex()[:32]) for start in plan.starts if RECURRING_MIN <= start < len(plan.ids)]
        shared = [(start, count) for start, key in keys if (count := self._index.get(key, 0))]
        most = max((count for _, count in shared), default=0)
        for _, key in keys:
            self._index[key] = self._index.pop(key, 0) + 1  # most recent last
        for stale in list(islice(self._index, max(0, len(self._index) - INDEX_KEYS))):
            del self._index[stale]
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            atomic_write(self.directory / STATES_INDEX, json.dumps(self._index))
        except OSError:
            pass
        return max((start for start, count in shared if 2 * count >= most), default=0)

    def _read_index(self) -> dict[str, int]:
        data = _read_regular(self.directory / STATES_INDEX, INDEX_MAX_BYTES)
        try:
            index = json.loads(data or b"{}")
        except ValueError:
            return {}
        valid = isinstance(index, dict) and all(isinstance(count, int) for count in index.values())
        return index if valid else {}


def _read_regular(path: Path, limit: int | None = None) -> bytes | None:
    """The bytes of `path` if it is a regular file (not a link to /dev/zero or a FIFO) of at most `limit`."""
    try:
        status = os.lstat(path)
        if stat.S_ISREG(status.st_mode) and (limit is None or status.st_size <= limit):
            return path.read_bytes()
    except OSError:
        pass
    return None


def _used(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
