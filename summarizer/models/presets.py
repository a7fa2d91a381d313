"""Named models the tool knows how to drive, as data: hub id, pinned revision, settings, licence.

A preset is only a shortcut for a hub id at a pinned commit plus the settings that model needs
(language codes, context length). Any other model is usable by hub id, local directory or .gguf path.

Revisions are commit hashes where one could be verified from independent public sources (pinning keeps
cache keys and outputs stable when a repo changes upstream). Where none could be verified the pin is a
named ref, marked below; the first download records the commit it pointed to (the hub cache keeps it).

A GGUF preset names one file in a hub repo plus that file's SHA-256: only that file is fetched, and a
download whose hash differs is deleted and refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Mapping

Task = Literal["translation", "summary"]


@dataclass(frozen=True)
class Preset:
    name: str
    repo_id: str
    revision: str
    architecture: Literal["seq2seq", "causal"]
    tasks: tuple[Task, ...]
    approx_size: str  # download size, for `models list`
    licence: str
    languages: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    # Printed once per cache dir when the preset is used (for licences that restrict use).
    licence_notice: str | None = None
    note: str | None = None  # caveats shown by `models info`
    gguf_file: str | None = None  # GGUF presets: the single file to fetch from repo_id
    # SHA-256 of gguf_file, from independent public sources. None would mean "unverified": the hash
    # is then computed on first download and recorded, and `models info` says so.
    sha256: str | None = None
    size_bytes: int | None = None  # exact size of gguf_file, when known


_NLLB_SETTINGS = MappingProxyType({"src_lang": "ind_Latn", "tgt_lang": "eng_Latn"})
_NLLB_NOTICE = (
    "NLLB-200 weights are licensed CC-BY-NC-4.0: non-commercial use only. "
    "Use opus-mt-id-en or another model for commercial work."
)
# Qwen2.5 instruct models: 32,768-token context (config.json max_position_embeddings).
_QWEN_SETTINGS = MappingProxyType({"context_length": 32768})

_ALL_PRESETS = (
    Preset(
        name="opus-mt-id-en",
        repo_id="Helsinki-NLP/opus-mt-id-en",
        # main ships only pickled weights (pytorch_model.bin). The hub's own safetensors conversion is
        # pull request 1 (SFconvertbot, commit 947e42c7...); its full hash could not be verified here,
        # so the pin is the PR ref and the first download records the commit.
        revision="refs/pr/1",
        architecture="seq2seq",
        tasks=("translation",),
        approx_size="300 MB",
        licence="Apache-2.0",
        languages="id -> en",
        note="Default translator. Pinned to refs/pr/1 (the safetensors conversion); main has only pickled "
        "weights. The first download records the exact commit.",
    ),
    Preset(
        name="nllb-200-distilled-600m",
        repo_id="facebook/nllb-200-distilled-600M",
        revision="f8d333a098d19b4fd9a8b18f94170487ad3f821d",
        architecture="seq2seq",
        tasks=("translation",),
        approx_size="2.5 GB",
        licence="CC-BY-NC-4.0",
        languages="200 langs (ind_Latn -> eng_Latn)",
        settings=_NLLB_SETTINGS,
        licence_notice=_NLLB_NOTICE,
    ),
    Preset(
        name="nllb-200-1.3b",
        repo_id="facebook/nllb-200-1.3B",
        revision="b0de46b488af0cf31749cd8da5ed3171e11b2309",
        architecture="seq2seq",
        tasks=("translation",),
        approx_size="5.5 GB",
        licence="CC-BY-NC-4.0",
        languages="200 langs (ind_Latn -> eng_Latn)",
        settings=_NLLB_SETTINGS,
        licence_notice=_NLLB_NOTICE,
    ),
    Preset(
        name="m2m100-418m",
        repo_id="facebook/m2m100_418M",
        revision="55c2e61bbf05dfb8d7abccdc3fae6fc8512fd636",
        architecture="seq2seq",
        tasks=("translation",),
        approx_size="1.9 GB",
        licence="MIT",
        languages="100 langs (id -> en)",
        settings=MappingProxyType({"src_lang": "id", "tgt_lang": "en"}),
        note="This revision publishes only pickled weights (pytorch_model.bin): pull and run need --allow-pickle.",
    ),
    Preset(
        name="qwen2.5-0.5b-instruct",
        repo_id="Qwen/Qwen2.5-0.5B-Instruct",
        revision="7ae557604adf67be50417f59c2c2f167def9a775",
        architecture="causal",
        tasks=("summary", "translation"),
        approx_size="1.0 GB",
        licence="Apache-2.0",
        languages="29+ langs incl. id, en",
        settings=_QWEN_SETTINGS,
    ),
    Preset(
        name="qwen2.5-1.5b-instruct",
        repo_id="Qwen/Qwen2.5-1.5B-Instruct",
        revision="989aa7980e4cf806f80c7fef2b1adb7bc71aa306",
        architecture="causal",
        tasks=("summary", "translation"),
        approx_size="3.1 GB",
        licence="Apache-2.0",
        languages="29+ langs incl. id, en",
        settings=_QWEN_SETTINGS,
        note="Default --llm when llama-cpp-python is not installed.",
    ),
    Preset(
        name="qwen2.5-3b-instruct",
        repo_id="Qwen/Qwen2.5-3B-Instruct",
        revision="aa8e72537993ba99e69dfaafa59ed015b17504d1",
        architecture="causal",
        tasks=("summary", "translation"),
        approx_size="6.2 GB",
        licence="Qwen Research License",
        languages="29+ langs incl. id, en",
        settings=_QWEN_SETTINGS,
        note="Qwen Research License: read its terms before commercial use.",
    ),
)

# GGUF presets for the native llama.cpp backend. Hashes and sizes agree across independent public sources
# (download manifests pinning the same revision); they could not be checked against the hub from here.
_GGUF_PRESETS = (
    Preset(
        name="qwen2.5-1.5b-instruct-q4",
        repo_id="Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        revision="91cad51170dc346986eccefdc2dd33a9da36ead9",
        architecture="causal",
        tasks=("summary", "translation"),
        approx_size="1.1 GB",
        licence="Apache-2.0",
        languages="29+ langs incl. id, en",
        settings=_QWEN_SETTINGS,
        gguf_file="qwen2.5-1.5b-instruct-q4_k_m.gguf",
        sha256="6a1a2eb6d15622bf3c96857206351ba97e1af16c30d7a74ee38970e434e9407e",
        size_bytes=1_117_320_736,
        note="Default --llm when llama-cpp-python is installed.",
    ),
    Preset(
        name="qwen2.5-coder-0.5b-instruct-q4",
        repo_id="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        revision="ebb2015119c907b064c512bf053e945850b5875f",
        architecture="causal",
        tasks=("summary", "translation"),
        approx_size="470 MB",
        licence="Apache-2.0",
        languages="29+ langs incl. id, en",
        settings=_QWEN_SETTINGS,
        gguf_file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size_bytes=491_400_064,
        note="The model docs/benchmarks.md measures: fastest, weakest summaries.",
    ),
)

PRESETS: dict[str, Preset] = {preset.name: preset for preset in _ALL_PRESETS + _GGUF_PRESETS}
