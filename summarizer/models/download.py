"""Fetching preset and hub models the first time they are needed (and for `summarizer models pull`).

huggingface_hub does the transfer, the hub cache layout and the progress bars (HF_HUB_DISABLE_PROGRESS_BARS
silences them; the CLI sets it for --quiet and non-terminals); this module decides what
to fetch and how failures look: one notice line first (model, size, licence, destination), pinned
revisions, only the files a run needs (configs, tokenizers, safetensors, or one GGUF file checked
against its SHA-256), and every network failure as a one-line SetupError within seconds. It is never
called when the run is offline.
"""

from __future__ import annotations

import hashlib
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from summarizer.errors import SetupError, UnsafeWeightsError
from summarizer.models.presets import Preset

# What a run needs: configs, tokenizers, chat templates, safetensors weights (and their shard index).
REPO_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.spm", "*.txt", "*.jinja", "*.tiktoken"]
PICKLE_PATTERNS = ["*.bin", "*.pt", "*.pth", "*.ckpt"]
# Seconds to connect or to wait for a reply to the first requests (repo info, file metadata).
# huggingface_hub waits forever unless told; with this a dead or black-holed hub ends the run in
# seconds (within 15 s including start-up on a busy machine).
TIMEOUT_S = 6.0
_HASH_CHUNK = 8 * 1024 * 1024

Notify = Callable[[str], None]


def _stderr(message: str) -> None:
    print(f"summarizer: {message}", file=sys.stderr, flush=True)


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit in ("B", "KB") else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def fetch_repo(repo_id: str, revision: str, *, name: str, cache_dir: Path, licence: str | None = None,
               allow_pickle: bool = False, notify: Notify = _stderr) -> Path:
    """Download the files a run needs from `repo_id` at `revision` into the hub cache; returns the snapshot.

    Raises:
        UnsafeWeightsError: the repo has only pickled weights and allow_pickle is off.
        SetupError: the hub is unreachable, the repo/revision does not exist, or the transfer failed.
    """
    from huggingface_hub import HfApi, snapshot_download

    api = HfApi(endpoint=_endpoint())
    with _network_errors(f"{repo_id}@{revision}"):
        info = api.model_info(repo_id, revision=revision, files_metadata=True, timeout=TIMEOUT_S)
        files = {sibling.rfilename: sibling.size or 0 for sibling in info.siblings or []}
        has_safetensors = any(path.endswith(".safetensors") for path in files)
        if not has_safetensors and not allow_pickle:
            raise UnsafeWeightsError(
                f"{repo_id}@{revision} has only pickled weights (a pickle can run code when loaded)",
                hint="pass --allow-pickle to download and run it, if you trust it",
            )
        patterns = REPO_PATTERNS + (PICKLE_PATTERNS if not has_safetensors else [])
        size = sum(size for path, size in files.items() if _matches(path, patterns))
        licence = licence or _card_licence(info) or "licence not stated"
        notify(f"downloading {name} ({repo_id}@{str(info.sha)[:10]}, {human_size(size)}, {licence}) "
               f"into {cache_dir}")
        path = snapshot_download(repo_id, revision=info.sha, allow_patterns=patterns, cache_dir=cache_dir,
                                 endpoint=_endpoint(), etag_timeout=TIMEOUT_S)
    _record_ref(cache_dir, repo_id, revision, str(info.sha))
    return Path(path)


def fetch_gguf(preset: Preset, *, cache_dir: Path, notify: Notify = _stderr) -> Path:
    """Download a GGUF preset's one file and check its SHA-256; returns the file's path.

    A file whose hash differs from the preset's is deleted and refused: a truncated or tampered
    download must never be loaded.
    """
    from huggingface_hub import hf_hub_download

    assert preset.gguf_file, f"{preset.name} is not a GGUF preset"
    size = human_size(preset.size_bytes) if preset.size_bytes else preset.approx_size
    notify(f"downloading {preset.name} ({preset.repo_id}/{preset.gguf_file}, {size}, {preset.licence}) "
           f"into {cache_dir}")
    with _network_errors(f"{preset.repo_id}/{preset.gguf_file}@{preset.revision}"):
        path = Path(hf_hub_download(preset.repo_id, preset.gguf_file, revision=preset.revision,
                                    cache_dir=cache_dir, endpoint=_endpoint(), etag_timeout=TIMEOUT_S))
    verify_gguf(preset, path)
    return path


def verify_gguf(preset: Preset, path: Path) -> None:
    """Refuse (and delete) a GGUF file whose SHA-256 is not the preset's."""
    if preset.sha256 is None:
        return
    digest = file_sha256(path)
    if digest != preset.sha256:
        _remove_cached_file(path)
        raise SetupError(
            f"downloaded {preset.gguf_file} has SHA-256 {digest[:16]}..., expected {preset.sha256[:16]}...; "
            "deleted it",
            hint=f"the download was corrupted or the file changed upstream: run `summarizer models pull "
            f"{preset.name}` again",
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- plumbing


def _endpoint() -> str | None:
    """HF_ENDPOINT read now: huggingface_hub freezes it at import time."""
    return (os.environ.get("HF_ENDPOINT") or "").rstrip("/") or None


def _matches(path: str, patterns: Iterable[str]) -> bool:
    from fnmatch import fnmatch

    return any(fnmatch(path, pattern) for pattern in patterns)


def _card_licence(info: Any) -> str | None:
    card = getattr(info, "card_data", None)
    licence = getattr(card, "license", None) if card is not None else None
    return str(licence) if licence else None


def _record_ref(cache_dir: Path, repo_id: str, revision: str, commit: str) -> None:
    """snapshot_download was given the commit, so record which commit `revision` (a branch or ref such
    as refs/pr/1) named: later offline runs find the snapshot by the preset's revision."""
    if revision == commit:
        return
    ref = cache_dir / ("models--" + repo_id.replace("/", "--")) / "refs" / revision
    try:
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(commit)
    except OSError:
        pass  # only costs a lookup by commit later


def _remove_cached_file(path: Path) -> None:
    """Remove a hub-cache file: the snapshot symlink and the blob it points to."""
    try:
        blob = path.resolve()
        path.unlink(missing_ok=True)
        if blob != path:
            blob.unlink(missing_ok=True)
    except OSError:
        pass


@contextmanager
def _network_errors(what: str) -> Iterator[None]:
    """Map what huggingface_hub and its HTTP client raise to one-line SetupErrors."""
    try:
        yield
    except SetupError:
        raise
    except Exception as exc:
        error = _setup_error(what, exc)
        if error is None:
            raise
        raise error from exc


def _setup_error(what: str, exc: Exception) -> SetupError | None:
    import httpx2
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = _endpoint() or "https://huggingface.co"
    if isinstance(exc, OfflineModeIsEnabled):
        return SetupError(f"cannot download {what}: HF_HUB_OFFLINE is set",
                          hint="unset it, or prepare this machine with `summarizer models pull`")
    if isinstance(exc, (RepositoryNotFoundError, RevisionNotFoundError)):
        return SetupError(f"cannot download {what}: not found on {where}",
                          hint="check the name and revision (private and gated repos need HF_TOKEN)")
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        return SetupError(f"cannot download {what}: {where} answered HTTP {status}",
                          hint="check the name and revision, or try again later")
    if isinstance(exc, (httpx2.HTTPError, LocalEntryNotFoundError)):
        reason = _first_line(exc.__cause__ or exc if isinstance(exc, LocalEntryNotFoundError) else exc)
        return SetupError(f"cannot download {what}: {where} is unreachable ({reason})",
                          hint="check the connection or HF_ENDPOINT; offline, pass a local directory or .gguf file")
    if isinstance(exc, OSError):
        return SetupError(f"cannot download {what}: {_first_line(exc)}",
                          hint="check free space and permissions of the Hugging Face cache (HF_HOME)")
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
