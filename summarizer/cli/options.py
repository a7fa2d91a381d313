"""Option declarations every command shares (one help text per option) and the one place options become a
Config. Light to import: typer and the defaults only, so `summarizer --help` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from summarizer.defaults import DEFAULT_LLM_GGUF, DEFAULT_LLM_TRANSFORMERS, DEFAULT_MT_MODEL
from summarizer.errors import UsageError

Paths = Annotated[Optional[list[str]], typer.Argument(help="Files, directories (recursive: .txt .md .html .htm) or '-' for stdin.", show_default=False)]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="Output format: jsonl, json, md or text (any case).")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Write one file per article plus index.jsonl into DIR instead of stdout.")]
MtModelOpt = Annotated[Optional[str], typer.Option("--mt-model", help=f"Translation model: preset, hub id[@rev], local dir or .gguf [env SUMMARIZER_MT_MODEL; default {DEFAULT_MT_MODEL}].", show_default=False)]
LlmOpt = Annotated[Optional[str], typer.Option("--llm", help=f"Summary model: preset, hub id[@rev], local dir or .gguf [env SUMMARIZER_LLM; default {DEFAULT_LLM_GGUF} when llama-cpp-python is installed, else {DEFAULT_LLM_TRANSFORMERS}].", show_default=False)]
CacheDirOpt = Annotated[Optional[Path], typer.Option("--cache-dir", help="Cache directory [env SUMMARIZER_CACHE_DIR; default ./cache].", show_default=False)]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache.")]
RefreshOpt = Annotated[bool, typer.Option("--refresh", help="Recompute everything and overwrite cached results.")]
ThreadsOpt = Annotated[Optional[int], typer.Option("--threads", min=1, help="CPU threads for the models.", show_default=False)]
BeamsOpt = Annotated[int, typer.Option("--beams", min=1, max=16, help="Beam size (1 = greedy).")]
QuantizeOpt = Annotated[str, typer.Option("--quantize", help="none, or int8 (dynamic int8 Linear layers on CPU).")]
DtypeOpt = Annotated[str, typer.Option("--dtype", help="auto, float32 or bfloat16.")]
BackendOpt = Annotated[str, typer.Option("--backend", help="LLM runtime: auto (llama.cpp for .gguf when installed), transformers or llama.cpp.")]
PickleOpt = Annotated[bool, typer.Option("--allow-pickle", help="Allow pickled (.bin) weights. Only for models you trust.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
CachePartsOpt = Annotated[Optional[list[str]], typer.Option("--only", metavar="<part>", help="Only these parts of the cache: results, states (llama.cpp prompt states), models (GGUF weights converted for transformers); repeat or comma-separate [default: all].", show_default=False)]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, per-article messages or final line on stderr (setup errors and download notices still show).")]
OfflineOpt = Annotated[bool, typer.Option("--offline", help="Never touch the network: a missing model is an error [env HF_HUB_OFFLINE=1].")]
ProgressOpt = Annotated[bool, typer.Option("--progress", help="Show a progress bar even when stderr is not a terminal.")]
StrictOpt = Annotated[bool, typer.Option("--strict/--lenient", help="Drop unsupported summary items (strict) or keep them flagged (lenient).")]
EngineOpt = Annotated[str, typer.Option("--engine", help="Where models run: local (this process) or ray (a Ray cluster; needs the [ray] extra).", rich_help_panel="Scale out")]
RayAddressOpt = Annotated[Optional[str], typer.Option("--ray-address", help="Ray cluster address [env RAY_ADDRESS; default: start a local Ray instance].", show_default=False, rich_help_panel="Scale out")]
RayActorsOpt = Annotated[Optional[int], typer.Option("--ray-actors", min=1, help="Workers, each holding the models [default: as many as the cluster's CPUs (or GPUs) fit].", show_default=False, rich_help_panel="Scale out")]
RayCpusOpt = Annotated[Optional[float], typer.Option("--ray-cpus-per-actor", min=0.01, help="CPUs (and model threads) per worker [default: up to 4].", show_default=False, rich_help_panel="Scale out")]
RayGpusOpt = Annotated[float, typer.Option("--ray-gpus-per-actor", min=0.0, help="GPUs per worker (0 = CPU only).", rich_help_panel="Scale out")]
RayShipOpt = Annotated[bool, typer.Option("--ray-ship-models", help="Send a local model directory or .gguf to the workers through Ray's object store.", rich_help_panel="Scale out")]
MaxCharsOpt = Annotated[Optional[int], typer.Option("--max-chars", min=1, help="Longest article text accepted, in characters (default 100000); longer ones get an error record.", show_default=False)]
TimeoutOpt = Annotated[Optional[float], typer.Option("--article-timeout", min=0, help="Seconds one article may take, model loading excluded (default 900; 0 = no limit); then it gets an error record.", show_default=False)]


def make_config(**values: object):
    """The Config of the options given (None = not given: Config's default, which reads SUMMARIZER_* env).
    An invalid value is a UsageError naming the option."""
    from pydantic import ValidationError

    from summarizer.config import Config

    given = {k: v for k, v in values.items() if v is not None}
    try:
        return Config(**given)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(p) for p in problem["loc"])
        raise UsageError(f"invalid --{field.replace('_', '-')}: {problem['msg']}") from None


def make_engine(name: str, **ray_options: object):
    """None for the local engine; the Ray engine (checked to be installed) for `--engine ray`."""
    if name == "local":
        given = [f"--{option.replace('_', '-')}" for option, value in ray_options.items() if value not in (None, False, 0.0)]
        if given:
            raise UsageError(f"{given[0]} only applies with --engine ray")
        return None
    if name != "ray":
        raise UsageError(f"unknown --engine {name!r}", hint="use local or ray")
    from summarizer.ray_engine import RayEngine
    from summarizer.ray_pool import RaySettings, require_ray

    require_ray()
    return RayEngine(RaySettings(address=ray_options["ray_address"], actors=ray_options["ray_actors"],
                                 cpus_per_actor=ray_options["ray_cpus_per_actor"],
                                 gpus_per_actor=ray_options["ray_gpus_per_actor"] or 0.0,
                                 ship_models=bool(ray_options["ray_ship_models"])))
