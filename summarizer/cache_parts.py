"""The derived files beside the result database in the cache directory, and the one home of their layout.

- `llama-states/<model>/<prefix key>.state` + `index.json`: llama.cpp prompt prefix states
  (models/llama_cpp_states.py), a few MB each, at most 8 per model;
- `models/<model>/<dtype>/`: a GGUF's weights dequantised to safetensors for transformers
  (models/transformers_chat.py), ~2 GB for a 0.5B model in float32.

`<model>` is `ResolvedModel.directory_name`. The writers take their paths from here, and
`summarizer cache stats|clear|prune` size, clear and prune both parts here. Light to import (no torch, numpy
or llama_cpp), so the cache commands stay fast.

Deleting is careful, because `--cache-dir` may point anywhere: only files and directories that match the
layout above are removed (anything else in those folders is left and not counted), a symbolic link is
removed as a link and never followed, a part folder that is itself a link is left alone, and nothing is
ever created. The result database and `model-fingerprints.json` (content hashes of local model files, a
few KB that save re-hashing gigabytes) are not parts here.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from summarizer.errors import CacheError

STATES_DIR = "llama-states"
STATE_SUFFIX = ".state"
STATES_INDEX = "index.json"
CONVERTED_DIR = "models"

# Names the writers give: a prefix key's hex, atomic_write's temporaries, a torch dtype, atomic_directory's
# staging directory (left behind only by a killed conversion).
_STATE = re.compile(r"[0-9a-f]+" + re.escape(STATE_SUFFIX))
_STATE_TEMP = re.compile(r"\.(?:[0-9a-f]+" + re.escape(STATE_SUFFIX) + "|" + re.escape(STATES_INDEX) + r")\.\w+\.tmp")
_DTYPE = re.compile(r"b?float\d+")
_DTYPE_STAGING = re.compile(r"\.b?float\d+-\w+")


def states_dir(cache_dir: Path, model: str) -> Path:
    """Where one model's prompt states live (`model`: a ResolvedModel.directory_name)."""
    return Path(cache_dir) / STATES_DIR / model


def converted_model_dir(cache_dir: Path, model: str, dtype: str) -> Path:
    """Where a GGUF's weights dequantised to `dtype` (e.g. float32) live."""
    return Path(cache_dir) / CONVERTED_DIR / model / dtype


def mark_used(path: Path) -> None:
    """Set `path`'s mtime to now: `cache prune` and the state store's eviction go by it (atime is not
    reliable: relatime updates it at most daily, noatime never)."""
    try:
        os.utime(path)
    except OSError:
        pass


@dataclass
class Tally:
    """How many items (state files, converted models) and how many bytes."""

    count: int = 0
    bytes: int = 0

    def add(self, other: "Tally") -> None:
        self.count += other.count
        self.bytes += other.bytes


# ------------------------------------------------------------------------------ stats


def states_stats(cache_dir: Path) -> dict[str, Any]:
    """Prompt states: files and bytes in all, and per model (bytes include its index)."""
    models = []
    for model in _subdirs(Path(cache_dir) / STATES_DIR):
        files = [entry for entry in _entries(model) if _is_state_part(entry.name)]
        sizes = [_lstat(entry) for entry in files]
        states = sum(1 for entry, size in zip(files, sizes) if _is_state(entry, size))
        models.append({"model": model.name, "files": states,
                       "bytes": sum(_file_bytes(size) for size in sizes),
                       "last_used": max((size.st_mtime for size in sizes), default=None)})
    return {"files": sum(m["files"] for m in models), "bytes": sum(m["bytes"] for m in models), "models": models}


def models_stats(cache_dir: Path) -> dict[str, Any]:
    """Converted models: one entry per model and dtype (`complete` false: a killed conversion's leftover)."""
    converted = [{"model": directory.parent.name, "dtype": directory.name.lstrip(".").split("-")[0],
                  "complete": not directory.name.startswith("."), "bytes": _tree_bytes(directory),
                  "last_used": _lstat(directory).st_mtime} for directory in _converted(cache_dir)]
    return {"directories": len(converted), "bytes": sum(c["bytes"] for c in converted), "models": converted}


# ------------------------------------------------------------------------------ clear and prune


def clear_states(cache_dir: Path, unused_since: float | None = None) -> Tally:
    """Remove prompt state files, or only those last used before the time `unused_since`. A model's index
    goes when no state of it is left, unless a run used it since `unused_since`: it holds the prefix
    counts that decide what is worth saving, and names no file, so it stays valid whatever is removed."""
    removed = Tally()
    for model in _subdirs(Path(cache_dir) / STATES_DIR):
        for entry in _entries(model):
            if entry.name != STATES_INDEX and _is_state_part(entry.name) and _unused(entry, unused_since):
                status = _lstat(entry)
                _remove(entry)
                removed.add(Tally(int(_is_state(entry, status)), _file_bytes(status)))
        index = model / STATES_INDEX
        if not any(_STATE.fullmatch(entry.name) for entry in _entries(model)) and _unused(index, unused_since):
            removed.bytes += _file_bytes(_lstat(index))
            _remove(index)
        _remove_if_empty(model)
    _remove_if_empty(Path(cache_dir) / STATES_DIR)
    return removed


def clear_models(cache_dir: Path, unused_since: float | None = None) -> Tally:
    """Remove converted models, or only those last used before the time `unused_since`."""
    removed = Tally()
    for directory in _converted(cache_dir):
        if _unused(directory, unused_since):
            size = _tree_bytes(directory)
            _remove_tree(directory)
            removed.add(Tally(1, size))
    for model in _subdirs(Path(cache_dir) / CONVERTED_DIR):
        _remove_if_empty(model)
    _remove_if_empty(Path(cache_dir) / CONVERTED_DIR)
    return removed


# ------------------------------------------------------------------------------ helpers


def _converted(cache_dir: Path) -> list[Path]:
    """The converted-model directories (complete or staging leftovers) under every model folder."""
    return [directory for model in _subdirs(Path(cache_dir) / CONVERTED_DIR) for directory in _subdirs(model)
            if _DTYPE.fullmatch(directory.name) or _DTYPE_STAGING.fullmatch(directory.name)]


def _unused(path: Path, since: float | None) -> bool:
    """Whether `path` exists and was last used before `since` (always, when `since` is None)."""
    status = _lstat(path)
    return status.st_mode != 0 and (since is None or status.st_mtime < since)


def _is_state(path: Path, status: os.stat_result) -> bool:
    """A state file proper (a link named like one is removed but not counted)."""
    return bool(_STATE.fullmatch(path.name)) and stat.S_ISREG(status.st_mode)


def _is_state_part(name: str) -> bool:
    return name == STATES_INDEX or bool(_STATE.fullmatch(name) or _STATE_TEMP.fullmatch(name))


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _lstat(path: Path) -> os.stat_result:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # removed meanwhile, or a parent is a file: nothing there
        return os.stat_result((0,) * 10)
    except OSError as exc:
        raise CacheError(f"cannot read {path}: {_reason(exc)}", hint="check its permissions") from None


def _entries(directory: Path) -> list[Path]:
    """The entries of `directory` (none when it is missing)."""
    try:
        with os.scandir(directory) as scan:
            return sorted(Path(entry.path) for entry in scan)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise CacheError(f"cannot read {directory}: {_reason(exc)}", hint="check its permissions") from None


def _subdirs(directory: Path) -> list[Path]:
    """The real directories in `directory`, not links to one; none when `directory` is missing or a link."""
    if not stat.S_ISDIR(_lstat(directory).st_mode):
        return []
    return [entry for entry in _entries(directory) if stat.S_ISDIR(_lstat(entry).st_mode)]


def _tree_bytes(directory: Path) -> int:
    """Bytes of the regular files under `directory`, links not followed."""
    total = 0
    for entry in _entries(directory):
        status = _lstat(entry)
        if stat.S_ISDIR(status.st_mode):
            total += _tree_bytes(entry)
        else:
            total += _file_bytes(status)
    return total


def _file_bytes(status: os.stat_result) -> int:
    """A regular file's size; a link (not followed) or anything else counts as nothing."""
    return status.st_size if stat.S_ISREG(status.st_mode) else 0


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise CacheError(f"cannot remove {path}: {_reason(exc)}", hint="check its permissions") from None


def _remove_tree(directory: Path) -> None:
    """Remove `directory` (a real directory) and everything in it; links inside are removed, not followed."""
    def fail(function: Any, path: str, info: Any) -> None:
        if not isinstance(info[1], FileNotFoundError):
            raise CacheError(f"cannot remove {path}: {_reason(info[1])}", hint="check its permissions") from None

    shutil.rmtree(directory, onerror=fail)


def _remove_if_empty(directory: Path) -> None:
    if stat.S_ISDIR(_lstat(directory).st_mode):
        try:
            directory.rmdir()
        except OSError:
            pass  # not empty (something not ours, or a run writing right now): left alone
