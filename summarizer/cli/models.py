"""`summarizer models ...`: list presets, show how a SPEC resolves, download a model for offline use.

Thin: resolution and downloading live in summarizer.models; errors are raised typed and mapped to one line
by cli/errors.py. Runs download missing models themselves; `models pull` prepares a machine ahead of time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from summarizer.cli.options import CacheDirOpt, JsonOpt, make_config
from summarizer.errors import ModelNotFoundError, SetupError, UsageError

app = typer.Typer(help="List, inspect and download models.", no_args_is_help=True, add_completion=False,
                  rich_markup_mode=None)  # plain help keeps [bracketed] text

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
            "gguf_file": preset.gguf_file,
            "sha256": preset.sha256,
            "local": find_hub_snapshot(preset.repo_id, preset.revision, preset.gguf_file or "config.json") is not None,
        }
        for preset in PRESETS.values()
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo("\n".join(preset_table(rows)))


def preset_table(rows: list[dict[str, Any]]) -> list[str]:
    """Two lines per preset, at most 80 columns: the facts to choose by, then where it comes from."""
    from summarizer.defaults import DEFAULT_MT_MODEL, default_llm

    defaults = {DEFAULT_MT_MODEL: "translation", default_llm(): "summary"}
    name_width = max(len(row["name"]) for row in rows)
    line = f"{{:<{name_width}}}  {{:<10}}  {{:>6}}  {{:<21}}  {{}}"
    lines = [line.format("name", "task", "size", "licence", "local"), ""]
    for row in rows:
        tasks = "+".join("mt" if task == "translation" else task for task in row["tasks"])
        lines.append(line.format(row["name"], tasks, row["size"], row["licence"], "yes" if row["local"] else "no"))
        source = f"{row['repo_id']}@{row['revision'][:10]}" + (" (GGUF)" if row["gguf_file"] else "")
        default = f", default for {defaults[row['name']]}" if row["name"] in defaults else ""
        lines.append(f"  {source}{default}")
    lines += ["", "Pass a name to --mt-model / --llm; details: `summarizer models info NAME`."]
    return lines


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
            "gguf_file": preset.gguf_file,
            "sha256": preset.sha256,
            "note": preset.note,
        }
    try:
        # use_cache=False: inspecting a model must not create or write the cache directory.
        resolved = resolve_spec(spec, make_config(cache_dir=cache_dir, use_cache=False))
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
    """Download a model now (e.g. to prepare an offline machine): a GGUF preset's one file, checked
    against its SHA-256, or a repo's config, tokenizer and safetensors weights."""
    from summarizer.defaults import hub_offline_from_env
    from summarizer.models import PRESETS
    from summarizer.models.download import fetch_gguf, fetch_repo, verify_gguf
    from summarizer.models.resolve import HUB_ID, find_hub_snapshot, hub_cache_dir

    preset = PRESETS.get(spec)
    if not preset and not HUB_ID.match(spec):
        raise UsageError(
            f"cannot pull {spec!r}: not a preset or a hub id",
            hint="pass a preset name (`summarizer models list`) or org/name[@revision]",
        )
    if hub_offline_from_env():
        raise SetupError(
            f"cannot pull {spec}: HF_HUB_OFFLINE is set",
            hint="run `summarizer models pull` on a connected machine without HF_HUB_OFFLINE, then copy the cache",
        )
    if preset and preset.gguf_file:
        if revision and revision != preset.revision:
            raise UsageError(f"{spec} is pinned to {preset.revision} with a known SHA-256; --revision cannot change it",
                             hint="pass the hub id instead to pull another revision")
        found = find_hub_snapshot(preset.repo_id, preset.revision, preset.gguf_file)
        path = found[1] / preset.gguf_file if found else fetch_gguf(preset, cache_dir=hub_cache_dir())
        if found:
            verify_gguf(preset, path)
        typer.echo(f"{preset.name} is ready in {path} (SHA-256 {'verified' if preset.sha256 else 'not published'})")
        return
    if preset:
        repo_id, revision, licence = preset.repo_id, revision or preset.revision, preset.licence
    else:
        match = HUB_ID.match(spec)
        assert match is not None
        repo_id, revision, licence = match["repo"], revision or match["rev"] or "main", None
    path = fetch_repo(repo_id, revision, name=spec, cache_dir=hub_cache_dir(), licence=licence,
                      allow_pickle=allow_pickle)
    typer.echo(f"{repo_id}@{path.name} is ready in {path}")


def _files(directory: Path, only: str | None) -> list[dict[str, Any]]:
    paths = [directory / only] if only else sorted(p for p in directory.iterdir() if p.is_file())
    return [{"name": path.name, "bytes": path.stat().st_size} for path in paths]


def _human_size(size: float) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
