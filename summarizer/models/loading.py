"""What the transformers backends do around `from_pretrained`: safety checks, dtype, threads, int8, error
mapping. (Which backend runs a model is registry.py's business.)

torch and transformers are imported inside functions only: `summarizer --help` and fully cached reruns
never pay for them.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from summarizer.config import Config
from summarizer.errors import ModelLoadError, SummarizerError, UnsafeWeightsError
from summarizer.models.base import DecodeOptions, ResolvedModel
from summarizer.models.resolve import PICKLE_SUFFIXES

if TYPE_CHECKING:
    import torch

PACKAGE_FOR = {
    "gguf": "gguf (needed to read .gguf files)",
    "accelerate": "accelerate (transformers needs it to load .gguf files)",
    "sentencepiece": "sentencepiece (needed by Marian/M2M100 tokenizers)",
}


# --------------------------------------------------------------------------- environment


def require_packages(resolved: ResolvedModel, *names: str) -> None:
    """Fail with the install command, before transformers fails with a less direct message."""
    missing = [name for name in names if importlib.util.find_spec(name) is None]
    if missing:
        raise ModelLoadError(
            f"cannot load {resolved.display}: missing package " + ", ".join(PACKAGE_FOR.get(m, m) for m in missing),
            hint=f"pip install {' '.join(missing)}",
        )


# How long an OpenMP thread with nothing to do spins before it sleeps (libgomp counts ~100 spins per
# microsecond, so ~30 us). See prepare_openmp.
OPENMP_SPIN_COUNT = 3000


def prepare_openmp() -> None:
    """Make OpenMP threads sleep soon when they wait, unless the user chose (OMP_WAIT_POLICY, GOMP_SPINCOUNT).

    Why: by default a waiting thread spins ~3 ms. When other processes share the cores, spinning threads take
    the time their partners need, and decoding collapses (torch: 22 against 41 tokens/s with two busy
    processes on 2 cores; measured 2.3 against 21.2 earlier). OMP_WAIT_POLICY=PASSIVE (sleep at once) avoids
    that, but torch and llama.cpp then share one OpenMP library (both load a libgomp.so.1, and the first one
    loaded serves both), and llama.cpp, whose threads wait at a barrier hundreds of times per token, decoded
    at 16 instead of 33-35 tokens/s on idle cores. A 3,000-spin wait keeps both fast when idle (torch +18%
    against PASSIVE) and within 10% of PASSIVE under load (docs/benchmarks.md). libgomp reads this when it
    loads, so it must be set before torch or llama_cpp is imported.
    """
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = str(OPENMP_SPIN_COUNT)


def prepare_torch(config: Config) -> "torch":
    """Import torch quietly and apply thread count and seed from the config."""
    prepare_openmp()
    import torch
    from transformers.utils import logging as transformers_logging

    # Progress bars for reading a 2 MB config are noise on a CLI's stderr; real errors still raise.
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    return torch


def cpu_has_native_bf16() -> bool:
    """True when the CPU computes bfloat16 natively (AVX512-BF16 or AMX): there bf16 decoding is
    ~2x faster than fp32 (measured with Qwen2.5-0.5B on such a CPU); elsewhere bf16 is emulated and slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def torch_dtype(config: Config, architecture: str) -> "torch.dtype":
    """config.dtype, with "auto" = float32 for seq2seq (small, quality first) and bfloat16 for causal LMs
    when the CPU has native bf16 (identical greedy output on the samples tried, 2-3x faster)."""
    import torch

    if config.quantize == "int8":
        return torch.float32  # dynamic int8 quantises float32 Linear layers
    if config.dtype == "float32":
        return torch.float32
    if config.dtype == "bfloat16":
        return torch.bfloat16
    if architecture == "causal" and cpu_has_native_bf16():
        return torch.bfloat16
    return torch.float32


def quantize_if_asked(model: Any, config: Config) -> Any:
    """Dynamic int8 on nn.Linear (docs/benchmarks.md: ~3x Marian's fp32 throughput). Embeddings stay float."""
    if config.quantize != "int8":
        return model
    import torch

    with warnings.catch_warnings():
        # torch 2.13 flags torch.ao.quantization as deprecated in favour of torchao; it still works.
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


# --------------------------------------------------------------------------- files and safety


def check_weight_safety(resolved: ResolvedModel, directory: Path, config: Config) -> bool:
    """Refuse pickled weights unless allowed. Returns True when safetensors must be used.

    Pickle files can run arbitrary code when loaded; safetensors and GGUF are plain tensor formats.
    """
    names = [path.name for path in directory.iterdir() if path.is_file()]
    has_safetensors = any(name.endswith(".safetensors") for name in names)
    has_pickle = any(Path(name).suffix in PICKLE_SUFFIXES for name in names)
    if has_safetensors:
        return True
    if has_pickle:
        if config.allow_pickle:
            return False
        raise UnsafeWeightsError(
            f"{resolved.display} has only pickled weights (a pickle can run code when loaded)",
            hint="pass --allow-pickle if you trust it",
        )
    raise ModelLoadError(
        f"{resolved.display} has no weight files (*.safetensors) in {directory}",
        hint="the download may be incomplete: run `summarizer models pull` again, or check the path",
    )


@contextmanager
def load_errors(resolved: ResolvedModel) -> Iterator[None]:
    """Turn library exceptions raised while loading into one-line ModelLoadErrors with a fix."""
    try:
        yield
    except ImportError as exc:
        raise ModelLoadError(
            f"cannot load {resolved.display}: {_first_line(exc)}",
            hint="install the missing package with pip (see the message)",
        ) from exc
    except SummarizerError:
        raise
    except Exception as exc:  # transformers, safetensors and gguf each raise their own types for bad files
        raise ModelLoadError(
            f"cannot load {resolved.display}: {type(exc).__name__}: {_first_line(exc)}",
            hint="the files may be corrupt or incomplete: run `summarizer models pull` again or check the path",
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def common_from_pretrained_kwargs() -> dict[str, Any]:
    """Never network, never run code shipped with a model."""
    return {"local_files_only": True, "trust_remote_code": False}


# --------------------------------------------------------------------------- generation


def greedy_generation_config(model: Any, options: DecodeOptions, **extra: Any) -> Any:
    """The model's generation config with our decoding settings forced on top.

    Model repos ship sampling defaults (Qwen2.5: do_sample, temperature 0.7, repetition_penalty 1.05;
    opus-mt: 4 beams, max_length 512). Overriding them all keeps runs deterministic and makes
    DecodeOptions the only knobs.
    """
    config = copy.deepcopy(model.generation_config)
    config.do_sample = False
    config.temperature = None
    config.top_p = None
    config.top_k = None
    config.max_length = None  # max_new_tokens bounds the output
    config.num_beams = options.num_beams
    config.num_return_sequences = 1
    config.max_new_tokens = options.max_new_tokens
    config.min_new_tokens = options.min_new_tokens or None
    config.no_repeat_ngram_size = options.no_repeat_ngram_size
    config.repetition_penalty = options.repetition_penalty
    for name, value in extra.items():
        setattr(config, name, value)
    return config
