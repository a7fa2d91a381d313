"""Atomic file and directory writes: a temporary sibling, then a rename, so readers (and a rerun after a
kill) see the old content or the new, never half of it. The one home for this in the package."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write `data` (text as UTF-8) to `path` with the usual permissions (umask), fsynced before the rename."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, 0o666 & ~_umask())  # mkstemp makes 0600; shared outputs follow the umask
        _write_synced(handle, data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def create_private(path: Path, data: bytes) -> bool:
    """Create `path` holding `data`, readable and writable by its owner only (0600), unless it exists:
    then it is left alone and the answer is False. The file appears whole (a hard link to a fsynced
    temporary), and of two processes creating it at once exactly one wins."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        _write_synced(handle, data)
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        return True
    finally:
        Path(temp).unlink(missing_ok=True)


def _write_synced(handle: int, data: bytes) -> None:
    with os.fdopen(handle, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield an empty staging directory next to `target`; it becomes `target` when the block ends without
    an error. Losing the rename to another process is fine (its copy is as good); the staging directory
    is always removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        yield staging
        try:
            os.replace(staging, target)
        except OSError:
            pass  # another process won the rename
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _umask() -> int:
    """The process umask (reading it means setting it, so it is put straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
