"""`summarizer models ...`: list presets, show how a SPEC resolves, download a model for offline use.

Thin: resolution lives in summarizer.models; errors are raised typed and mapped to one line by the CLI.
Downloading happens here and only here (`models pull`); runs never touch the network.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Annotated, Any, Optional
from urllib.parse import urlparse

import typer

from summarizer.errors import ModelNotFoundError, SetupError, UnsafeWeightsError, UsageError

app = typer.Typer(help="List, inspect and download models.", no_args_is_help=True, add_completion=False)

# A reachability probe longer than this means no usable connection: fail in seconds, not minutes.
HUB_CONNECT_TIMEOUT_S = 5.0
# What a run needs: configs, tokenizers, chat templates, safetensors weights (and their shard index).
PULL_PATTERNS = [
    "*.json",
    "*.safetensors",
    "*.model",
    "*.spm",
    "*.txt",
    "*.jinja",
    "*.tiktoken",
]
PICKLE_PATTERNS = ["*.bin", "*.pt", "*.pth", "*.ckpt"]

CacheDirOpt = Annotated[
    Optional[Path], typer.Option("--cache-dir", help="Cache directory [env SUMMARIZER_CACHE_DIR; default ./cache].")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def _config(cache_dir: Path | None = None, allow_pickle: bool = False):
    from summarizer.config import Config

    return Config(**({"cache_dir": cache_dir} if cache_dir else {}), allow_pickle=allow_pickle)


@app.command("list")
def list_models(as_json: JsonOpt = False) -> None:
    """Presets: hub id, pinned revision, task, size, licence, languages, and whether downloaded here."""
    from summarizer.models import PRESETS
    from summarizer.models.resolve import find_hub_snapshot

    rows = [
        {
            "name": preset.name,
            "repo_id": preset.repo_id,
            "revision": preset.revision,
            "tasks": list(preset.tasks),
            "architecture": preset.architecture,
            "size": preset.approx_size,
            "licence": preset.licence,
            "languages": preset.languages,
            "local": find_hub_snapshot(preset.repo_id, preset.revision) is not None,
        }
        for preset in PRESETS.values()
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Model presets (use the name with --mt-model / --llm)")
    for column in ("name", "hub id", "revision", "task", "size", "licence", "languages", "local"):
        # Names are copied into commands: never wrap them; let the descriptive columns wrap instead.
        table.add_column(column, no_wrap=column in ("name", "hub id", "revision", "size", "local"), overflow="fold")
    for row in rows:
        table.add_row(
            row["name"],
            row["repo_id"],
            row["revision"][:10],
            ", ".join(row["tasks"]),
            row["size"],
            row["licence"],
            row["languages"],
            "yes" if row["local"] else "no",
        )
    # A pipe or a narrow terminal would squash the columns into unreadable slivers: never go below 160.
    console = Console()
    Console(width=max(console.width, 160)).print(table)


@app.command()
def info(
    spec: Annotated[str, typer.Argument(help="Preset, hub id[@rev], local directory or .gguf file.")],
    cache_dir: CacheDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """How SPEC resolves: kind, location, revision/fingerprint, architecture, settings, files."""
    from summarizer.models import PRESETS
    from summarizer.models.resolve import local_snapshot_dir, resolve_spec

    details: dict[str, Any] = {"spec": spec}
    preset = PRESETS.get(spec)
    if preset:
        details["preset"] = {
            "repo_id": preset.repo_id,
            "revision": preset.revision,
            "tasks": list(preset.tasks),
            "size": preset.approx_size,
            "licence": preset.licence,
            "languages": preset.languages,
            "note": preset.note,
        }
    try:
        resolved = resolve_spec(spec, _config(cache_dir))
    except ModelNotFoundError as missing:
        if not preset:
            raise
        details["local"] = False
        details["missing"] = missing.one_line()
    else:
        directory = local_snapshot_dir(resolved)
        details.update(
            local=True,
            kind=resolved.kind,
            architecture=resolved.architecture,
            location=resolved.location,
            path=str(directory),
            revision=resolved.revision,
            fingerprint=resolved.fingerprint,
            settings=resolved.settings,
            files=_files(directory, resolved.gguf_file),
        )
    if as_json:
        typer.echo(json.dumps(details, indent=2))
        return
    for key, value in details.items():
        if key == "files":
            typer.echo("files:")
            for entry in value:
                typer.echo(f"  {entry['name']}  ({_human_size(entry['bytes'])})")
        elif isinstance(value, dict):
            typer.echo(f"{key}:")
            for inner_key, inner_value in value.items():
                if inner_value is not None:
                    typer.echo(f"  {inner_key}: {inner_value}")
        elif value is not None:
            typer.echo(f"{key}: {value}")


@app.command()
def pull(
    spec: Annotated[str, typer.Argument(help="Preset name or hub id org/name[@revision].")],
    revision: Annotated[
        Optional[str], typer.Option("--revision", help="Branch, tag or commit (default: the preset's pin, or main).")
    ] = None,
    allow_pickle: Annotated[
        bool, typer.Option("--allow-pickle", help="Also download pickled (.bin) weights. Only for models you trust.")
    ] = False,
) -> None:
    """Download a model's config, tokenizer and safetensors weights into the Hugging Face cache."""
    from summarizer.models import PRESETS
    from summarizer.models.resolve import HUB_ID, hub_cache_dir

    if spec in PRESETS:
        repo_id, revision = PRESETS[spec].repo_id, revision or PRESETS[spec].revision
    elif match := HUB_ID.match(spec):
        repo_id, revision = match["repo"], revision or match["rev"] or "main"
    else:
        raise UsageError(
            f"cannot pull {spec!r}: not a preset or a hub id",
            hint="pass a preset name (`summarizer models list`) or org/name[@revision]",
        )
    _require_hub(spec)

    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import HfHubHTTPError

    try:
        files = HfApi().list_repo_files(repo_id, revision=revision)
        has_safetensors = any(name.endswith(".safetensors") for name in files)
        if not has_safetensors and not allow_pickle:
            raise UnsafeWeightsError(
                f"{repo_id}@{revision} has only pickled weights (a pickle can run code when loaded)",
                hint="pass --allow-pickle to pull and to run it, if you trust it",
            )
        patterns = PULL_PATTERNS + (PICKLE_PATTERNS if allow_pickle and not has_safetensors else [])
        path = snapshot_download(repo_id, revision=revision, allow_patterns=patterns, cache_dir=hub_cache_dir())
    except HfHubHTTPError as exc:
        raise SetupError(f"cannot download {repo_id}@{revision}: {str(exc).splitlines()[0]}") from exc
    except OSError as exc:
        raise SetupError(
            f"cannot download {repo_id}@{revision}: {exc}", hint="check the connection and disk space"
        ) from exc
    typer.echo(f"{repo_id}@{Path(path).name} is ready in {path}")


def _require_hub(spec: str) -> None:
    """Fail in seconds when offline, before huggingface_hub retries for minutes."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ("1", "ON", "YES", "TRUE"):
        raise SetupError(
            f"cannot pull {spec}: HF_HUB_OFFLINE is set",
            hint="run `summarizer models pull` on a connected machine without HF_HUB_OFFLINE, then copy the cache",
        )
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        socket.create_connection((endpoint.hostname or "", port), timeout=HUB_CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise SetupError(
            f"cannot pull {spec}: the Hugging Face hub ({endpoint.hostname}) is unreachable ({exc})",
            hint="run `summarizer models pull` on a connected machine, or pass a local directory/.gguf path",
        ) from exc


def _files(directory: Path, only: str | None) -> list[dict[str, Any]]:
    paths = [directory / only] if only else sorted(p for p in directory.iterdir() if p.is_file())
    return [{"name": path.name, "bytes": path.stat().st_size} for path in paths]


def _human_size(size: float) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
