"""Turn a model SPEC into a ResolvedModel without loading anything (no torch).

Order: preset name -> hub id[@revision] in the local Hugging Face cache -> local directory -> .gguf file.
A preset or hub id that is not yet local is downloaded on first use (models/download.py), unless the run
is offline; `resolve_spec` (used by inspection commands) never touches the network.
Cache keys hang off `ResolvedModel.fingerprint`, so this runs on every invocation, including fully
cached reruns that must stay fast: local content hashes are memoised by (path, size, mtime_ns).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Literal

from summarizer.atomic import atomic_write
from summarizer.config import Config
from summarizer.errors import ModelLoadError, ModelNotFoundError, UsageError
from summarizer.models.base import ResolvedModel
from summarizer.models.presets import PRESETS, Preset, Task


# "org/name" or "org/name@revision" (a branch, tag or commit).
HUB_ID = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+?)(?:@(?P<rev>[\w./-]+))?$")
SEQ2SEQ_MODEL_TYPES = {"marian", "m2m_100", "mbart", "t5", "mt5", "umt5", "bart", "fsmt", "nllb_moe"}
# Files that decide what a model computes: configs, tokenizers, chat templates and weights. README,
# licences and images are left out so editing a model card does not invalidate cached results.
FINGERPRINT_SUFFIXES = {".json", ".model", ".spm", ".txt", ".jinja", ".tiktoken", ".safetensors", ".gguf"}
PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".ckpt"}
FINGERPRINT_MEMO = "model-fingerprints.json"
LICENCE_NOTICE_MARKER = "licence-notices"
_HASH_CHUNK = 8 * 1024 * 1024
PULL_HINT = "run `summarizer models pull {name}` on a connected machine, or pass a local directory/.gguf path"
OFFLINE_HINT = "the run is offline (--offline or HF_HUB_OFFLINE=1); run `summarizer models pull {name}` on a connected machine first"


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment now (huggingface_hub freezes it at import)."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def find_hub_snapshot(repo_id: str, revision: str | None, filename: str = "config.json") -> tuple[str, Path] | None:
    """(commit, snapshot dir) of `repo_id` at `revision` holding `filename` in the local hub cache, or None.
    Never networks."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo_id, filename, cache_dir=hub_cache_dir(), revision=revision or "main")
    except ValueError:  # huggingface_hub rejects malformed repo ids: such a repo cannot be cached
        return None
    if not isinstance(found, str):
        return None
    snapshot = Path(found).parent
    return snapshot.name, snapshot


def read_model_config(directory: Path) -> dict[str, Any]:
    path = directory / "config.json"
    try:
        model_config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {path}: {exc}", hint="the model files may be corrupt: pull or copy them again") from exc
    if not isinstance(model_config, dict):
        raise ModelLoadError(f"{path} is not a model config", hint="the model files may be corrupt: pull or copy them again")
    return model_config


def architecture_of(model_config: dict[str, Any]) -> Literal["seq2seq", "causal"]:
    """seq2seq for encoder-decoder translation models (Marian, M2M100/NLLB, mBART, T5), else causal."""
    if model_config.get("model_type") in SEQ2SEQ_MODEL_TYPES or model_config.get("is_encoder_decoder"):
        return "seq2seq"
    return "causal"


def inferred_settings(directory: Path, model_config: dict[str, Any]) -> dict[str, Any]:
    """Settings a non-preset model needs, worked out from its files (language codes, context length)."""
    tokenizer_class = ""
    tokenizer_config = directory / "tokenizer_config.json"
    if tokenizer_config.is_file():
        try:
            tokenizer_class = json.loads(tokenizer_config.read_text(encoding="utf-8")).get("tokenizer_class") or ""
        except (OSError, ValueError):
            tokenizer_class = ""
    if tokenizer_class.startswith("Nllb"):
        return {"src_lang": "ind_Latn", "tgt_lang": "eng_Latn"}
    if tokenizer_class.startswith("M2M100") or model_config.get("model_type") == "m2m_100":
        return {"src_lang": "id", "tgt_lang": "en"}
    if tokenizer_class.startswith("MBart50"):
        return {"src_lang": "id_ID", "tgt_lang": "en_XX"}
    if architecture_of(model_config) == "causal" and model_config.get("max_position_embeddings"):
        return {"context_length": int(model_config["max_position_embeddings"])}
    return {}


def model_files(directory: Path) -> list[Path]:
    """Top-level files of a model directory that define the model (see FINGERPRINT_SUFFIXES)."""
    return sorted(
        path
        for path in directory.iterdir()
        if path.is_file()
        and not path.name.startswith(".")
        and (path.suffix in FINGERPRINT_SUFFIXES or path.suffix in PICKLE_SUFFIXES)
    )


# --------------------------------------------------------------------------- content fingerprints


class FingerprintMemo:
    """SHA-256 per file, reused while (size, mtime_ns) are unchanged. A JSON file in the cache dir;
    a corrupt or unreadable memo is ignored and replaced."""

    def __init__(self, config: Config):
        self.path = Path(config.cache_dir) / FINGERPRINT_MEMO
        self.writable = config.use_cache
        self.entries = self._read()
        self.changed = False

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return entries if isinstance(entries, dict) else {}

    def file_sha256(self, path: Path) -> str:
        path = path.resolve()
        stat = path.stat()
        key = str(path)
        entry = self.entries.get(key)
        if isinstance(entry, dict) and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
            return str(entry["sha256"])
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(_HASH_CHUNK):
                digest.update(chunk)
        self.entries[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest.hexdigest()}
        self.changed = True
        return digest.hexdigest()

    def save(self) -> None:
        if not (self.writable and self.changed):
            return
        try:  # only a speed-up: an unusable cache directory (a file, read-only, full) must not stop the run
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json.dumps(self.entries))
        except OSError:
            pass


def content_fingerprint(files: list[Path], config: Config) -> str:
    """"sha256:<hex>" over the names and contents of `files`."""
    memo = FingerprintMemo(config)
    combined = hashlib.sha256()
    for path in files:
        combined.update(f"{path.name}\0{memo.file_sha256(path)}\n".encode())
    memo.save()
    return f"sha256:{combined.hexdigest()}"


# --------------------------------------------------------------------------- resolution


def resolve_model(spec: str, task: Task, config: Config) -> ResolvedModel:
    """Resolve SPEC (preset, hub id[@rev], local dir, .gguf) for `task`. Cheap: no torch, no network.

    Raises:
        UsageError: unknown SPEC (with the closest preset names) or a model unfit for `task`.
        ModelNotFoundError: the SPEC names a model whose files are not on this machine.
    """
    try:
        resolved = resolve_spec(spec, config)
    except ModelNotFoundError as missing:
        if not _download(spec.strip(), config, missing):
            raise
        resolved = resolve_spec(spec, config)
    if task == "summary" and resolved.architecture != "causal":
        raise UsageError(
            f"{resolved.display} is a translation (encoder-decoder) model and cannot summarise",
            hint="pass an instruction LLM to --llm, e.g. qwen2.5-1.5b-instruct",
        )
    preset = PRESETS.get(resolved.preset or "")
    if preset and preset.licence_notice:
        _licence_notice_once(preset, config)
    return resolved


def _download(spec: str, config: Config, missing: ModelNotFoundError) -> bool:
    """Fetch a missing preset or hub model; False when SPEC is neither. Offline, say how to prepare."""
    preset = PRESETS.get(spec)
    hub = None if preset or looks_like_path(spec) else HUB_ID.match(spec)
    if not (preset or hub):
        return False
    if config.offline:
        raise ModelNotFoundError(missing.message, hint=OFFLINE_HINT.format(name=spec)) from None
    from summarizer.models import download

    if preset and preset.gguf_file:
        download.fetch_gguf(preset, cache_dir=hub_cache_dir())
    elif preset:
        download.fetch_repo(preset.repo_id, preset.revision, name=preset.name, cache_dir=hub_cache_dir(),
                            licence=preset.licence, allow_pickle=config.allow_pickle)
    else:
        assert hub is not None
        download.fetch_repo(hub["repo"], hub["rev"] or "main", name=spec, cache_dir=hub_cache_dir(),
                            allow_pickle=config.allow_pickle)
    return True


def resolve_spec(spec: str, config: Config) -> ResolvedModel:
    """resolve_model without the task check, licence notice and download (for `summarizer models info`)."""
    spec = spec.strip()
    if spec in PRESETS:
        return _resolve_preset(PRESETS[spec])
    hub = HUB_ID.match(spec)
    if hub and not looks_like_path(spec):
        found = find_hub_snapshot(hub["repo"], hub["rev"])
        if found:
            return _resolved_from_snapshot(spec, hub["repo"], found, preset=None)
    path = Path(spec).expanduser()
    if path.is_dir():
        return _resolve_directory(spec, path, config)
    if path.is_file() and path.suffix == ".gguf":
        return _resolve_gguf(spec, path, config)
    if path.exists():
        raise UsageError(f"model path {spec} is neither a model directory nor a .gguf file")
    if hub and not looks_like_path(spec):
        raise ModelNotFoundError(
            f"model {spec} is not in the local Hugging Face cache ({hub_cache_dir()})",
            hint=PULL_HINT.format(name=spec),
        )
    if looks_like_path(spec):
        raise ModelNotFoundError(f"no such model directory or .gguf file: {spec}")
    close = difflib.get_close_matches(spec.lower(), list(PRESETS), n=3, cutoff=0.4)
    raise UsageError(
        f"unknown model {spec!r}" + (f"; did you mean: {', '.join(close)}?" if close else ""),
        hint="use a preset (`summarizer models list`), a hub id org/name[@revision], a local directory or a .gguf file",
    )


def looks_like_path(spec: str) -> bool:
    return spec.startswith((".", "/", "~")) or spec.endswith(".gguf") or spec.count("/") > 1


def _resolve_preset(preset: Preset) -> ResolvedModel:
    found = find_hub_snapshot(preset.repo_id, preset.revision, preset.gguf_file or "config.json")
    if not found:
        what = f"{preset.repo_id}/{preset.gguf_file}" if preset.gguf_file else preset.repo_id
        raise ModelNotFoundError(
            f"model {preset.name} ({what}@{preset.revision}) is not in the local Hugging Face cache",
            hint=PULL_HINT.format(name=preset.name),
        )
    if preset.gguf_file:
        commit, snapshot = found
        return ResolvedModel(
            spec=preset.name,
            kind="gguf",
            architecture="causal",
            location=str(snapshot),
            fingerprint=f"{preset.repo_id}@{commit}/{preset.gguf_file}",
            revision=commit,
            gguf_file=preset.gguf_file,
            preset=preset.name,
            settings=dict(preset.settings),
        )
    return _resolved_from_snapshot(preset.name, preset.repo_id, found, preset=preset)


def _resolved_from_snapshot(spec: str, repo_id: str, found: tuple[str, Path], preset: Preset | None) -> ResolvedModel:
    commit, snapshot = found
    model_config = read_model_config(snapshot)
    settings = dict(preset.settings) if preset else inferred_settings(snapshot, model_config)
    return ResolvedModel(
        spec=spec,
        kind="preset" if preset else "hub",
        architecture=preset.architecture if preset else architecture_of(model_config),
        location=repo_id,
        fingerprint=f"{repo_id}@{commit}",
        revision=commit,
        preset=preset.name if preset else None,
        settings=settings,
    )


def _resolve_directory(spec: str, directory: Path, config: Config) -> ResolvedModel:
    if not (directory / "config.json").is_file():
        raise ModelNotFoundError(
            f"directory {spec} has no config.json, so it is not a model directory",
            hint="pass a directory written by save_pretrained or downloaded from the hub, or a .gguf file",
        )
    model_config = read_model_config(directory)
    return ResolvedModel(
        spec=spec,
        kind="local",
        architecture=architecture_of(model_config),
        location=str(directory.resolve()),
        fingerprint=content_fingerprint(model_files(directory), config),
        settings=inferred_settings(directory, model_config),
    )


def _resolve_gguf(spec: str, path: Path, config: Config) -> ResolvedModel:
    path = path.resolve()
    return ResolvedModel(
        spec=spec,
        kind="gguf",
        architecture="causal",
        location=str(path.parent),
        fingerprint=content_fingerprint([path], config),
        gguf_file=path.name,
    )


def local_snapshot_dir(resolved: ResolvedModel) -> Path:
    """The directory holding a resolved model's files (hub snapshot, local dir, or the .gguf's dir)."""
    if resolved.kind in ("preset", "hub"):
        found = find_hub_snapshot(resolved.location, resolved.revision)
        if not found:
            raise ModelNotFoundError(
                f"model {resolved.display} disappeared from the local Hugging Face cache",
                hint=PULL_HINT.format(name=resolved.preset or resolved.location),
            )
        return found[1]
    return Path(resolved.location)


def _licence_notice_once(preset: Preset, config: Config) -> None:
    """Print a preset's licence notice to stderr once per cache dir (a marker file remembers it)."""
    marker = Path(config.cache_dir) / LICENCE_NOTICE_MARKER / preset.name
    if marker.exists():
        return
    print(f"note: {preset.licence_notice}", file=sys.stderr)
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # a read-only cache dir only means the notice shows again next time
