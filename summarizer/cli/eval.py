"""`summarizer eval`: the command layer only (options -> Config -> evaluate.evaluate -> table or JSON).

Imports stay inside the function so that `summarizer --help` does not pay for sacrebleu, the pipeline or
torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from summarizer.cli.options import (BeamsOpt, CacheDirOpt, DtypeOpt, EngineOpt, MtModelOpt, NoCacheOpt, PickleOpt,
                                    QuantizeOpt, RayActorsOpt, RayAddressOpt, RayCpusOpt, RayGpusOpt, RayShipOpt,
                                    ThreadsOpt, make_config, make_engine)

EVAL_FORMATS = ("table", "json")


def eval_command(
    src: Annotated[Optional[Path], typer.Option("--src", help="Source (Indonesian) file, one segment a line; with --ref.", show_default=False)] = None,
    ref: Annotated[Optional[Path], typer.Option("--ref", help="Reference (English) file, line-aligned with --src.", show_default=False)] = None,
    docs: Annotated[Optional[Path], typer.Option("--docs", help="Whole documents: JSONL with 'ind_sentences' and 'eng_sentences' lists (e.g. NTREX-128's document file); scored per sentence and per document.", show_default=False)] = None,
    mt_model: MtModelOpt = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Only the first N lines (--src/--ref) or documents (--docs).", show_default=False)] = None,
    threads: ThreadsOpt = None,
    beams: BeamsOpt = 1,
    quantize: QuantizeOpt = "none",
    dtype: DtypeOpt = "auto",
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    allow_pickle: PickleOpt = False,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Also write the full report as JSON to FILE.", show_default=False)] = None,
    translations: Annotated[Optional[Path], typer.Option("--translations", help="Also write the translations to FILE, one sentence a line, aligned with the references.", show_default=False)] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="Output on stdout: table or json.")] = "table",
    baseline: Annotated[bool, typer.Option("--baseline", help="Also translate naively with the same model (one sentence per call, raw reply, no guards) and compare.")] = False,
    engine: EngineOpt = "local", ray_address: RayAddressOpt = None, ray_actors: RayActorsOpt = None,
    ray_cpus_per_actor: RayCpusOpt = None, ray_gpus_per_actor: RayGpusOpt = 0.0, ray_ship_models: RayShipOpt = False,
) -> None:
    """Score translation quality (sacrebleu BLEU/chrF), fidelity warnings and speed on a parallel test set."""
    from summarizer.errors import UsageError
    from summarizer.progress import counter

    if format not in EVAL_FORMATS:
        raise UsageError(f"unknown --format {format!r}", hint=f"use one of: {', '.join(EVAL_FORMATS)}")
    if docs is not None and (src is not None or ref is not None):
        raise UsageError("--docs cannot be combined with --src/--ref", hint="evaluate one test set at a time")
    if docs is None and (src is None or ref is None):
        raise UsageError("no test set given", hint="pass --src FILE --ref FILE (line-aligned) or --docs FILE.jsonl")
    runner = make_engine(engine, ray_address=ray_address, ray_actors=ray_actors, ray_cpus_per_actor=ray_cpus_per_actor,
                         ray_gpus_per_actor=ray_gpus_per_actor, ray_ship_models=ray_ship_models)
    config = make_config(task="translate", mt_model=mt_model, cache_dir=cache_dir, use_cache=not no_cache,
                         threads=threads, beams=beams, quantize=quantize, dtype=dtype, allow_pickle=allow_pickle)

    from summarizer import eval_sets, evaluate

    dataset = eval_sets.read_documents(docs, limit) if docs is not None else eval_sets.read_line_pairs(src, ref, limit)
    with counter("translating", dataset.sentence_count * (2 if baseline else 1)) as advance:
        result = evaluate.evaluate(dataset, config, progress=advance, baseline=baseline, engine=runner)
    if json_path is not None:
        _write(json_path, "--json", json.dumps(result.report, indent=2, ensure_ascii=False) + "\n")
    if translations is not None:
        lines = [" ".join(sentence.split()) for document in result.hypotheses for sentence in document]
        _write(translations, "--translations", "".join(line + "\n" for line in lines))
    if format == "json":
        typer.echo(json.dumps(result.report, indent=2, ensure_ascii=False))
    else:
        print_report(result.report)


def _write(path: Path, option: str, text: str) -> None:
    from summarizer.errors import UsageError

    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {option} {path}: {exc}", hint="pass a writable path") from None


def _number(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "-" if value is None else f"{value:,.{digits}f}{suffix}"


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.1f}%"


def print_report(report: dict[str, Any]) -> None:
    """A short human summary of the report on stdout: scores, fidelity, speed, and the signatures."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    data, model, scores, fid, speed = (report[k] for k in ("dataset", "model", "scores", "fidelity", "speed"))
    settings = f"dtype {model['dtype']}, quantize {model['quantize']}, beams {model['beams']}"
    console.print(f"model: {model['display']} ({model['architecture']}; {settings})", markup=False)
    console.print(f"data:  {data['documents']} documents, {data['sentences']} sentences ({data['mode']})", markup=False)

    table = Table(title="quality", title_justify="left")
    for column in ("level", "segments", "BLEU", "chrF"):
        table.add_column(column, justify="right" if column != "level" else "left")
    for level in ("sentence", "document"):
        if scores.get(level):
            s = scores[level]
            table.add_row(level, str(s["segments"]), _number(s["bleu"], 2), _number(s["chrf"], 2))
    console.print(table)

    table = Table(title="fidelity (share of sentences)", title_justify="left")
    table.add_column("warning")
    table.add_column("sentences", justify="right")
    table.add_column("share", justify="right")
    if fid["sentences_with_numbers"]:
        table.add_row("numbers preserved", str(fid["sentences_with_numbers"]), _percent(fid["numbers_preserved_rate"]))
    for code, count in fid["issue_counts"].items():
        table.add_row(code, str(count), _percent(fid["issue_rates"][code]))
    console.print(table)

    if report.get("baseline"):
        print_comparison(console, report)
    if speed["sentences_per_second"] is None:
        console.print(f"speed: every sentence came from the cache ({speed['cached_sentences']}); "
                      "use --no-cache to time the model", markup=False)
    else:
        console.print(
            f"speed: {_number(speed['sentences_per_second'], 2)} sentences/s, "
            f"{_number(speed['source_tokens_per_second'])} source tokens/s "
            f"({speed['translated_sentences']} translated in {speed['translate_seconds']:.1f} s, "
            f"{speed['cached_sentences']} cached, model load {speed['model_load_seconds']:.1f} s)", markup=False)
        if speed["engine"] == "ray":
            console.print(f"ray: {speed['workers']} workers (speed above is per worker, model time summed); "
                          f"{speed['translated_sentences'] / speed['wall_seconds']:.2f} sentences/s over "
                          f"{speed['wall_seconds']:.1f} s wall, Ray start-up and model loading included", markup=False)
    console.print(f"BLEU signature: {scores['sentence']['bleu_signature']}", markup=False)
    console.print(f"chrF signature: {scores['sentence']['chrf_signature']}", markup=False)


def print_comparison(console: Any, report: dict[str, Any]) -> None:
    """Pipeline against the naive same-model baseline: quality, numbers kept, clean one-line outputs."""
    from rich.table import Table

    table = Table(title="pipeline vs naive same-model baseline", title_justify="left")
    for column in ("", "chrF", "BLEU", "numbers preserved", "line breaks", "commentary"):
        table.add_column(column, justify="right" if column else "left")
    for name, side in (("pipeline", report), ("baseline", report["baseline"])):
        s, f, h = side["scores"]["sentence"], side["fidelity"], side["hygiene"]
        table.add_row(name, _number(s["chrf"], 2), _number(s["bleu"], 2), _percent(f["numbers_preserved_rate"]),
                      str(h["with_line_break"]), str(h["with_commentary"]))
    console.print(table)
