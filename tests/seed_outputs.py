"""Record-for-record regression check for refactors: run the CLI on a folder of articles with the tiny
models (fixed seeds, summarizer/models/tiny.py) and keep the records minus what legitimately varies.

    python -m tests.seed_outputs ARTICLES_DIR OUT.jsonl [--models DIR]   # before and after a change
    cmp before.jsonl after.jsonl                                       # must be identical

Records lose `timings` and `cache` (wall clock and cache state); everything else must match. The
articles are read where they are: no corpus text is copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from summarizer.models.tiny import build_marian, build_qwen2

VOLATILE = ("timings", "cache")


def build_models(root: Path) -> tuple[Path, Path]:
    """The tiny Marian and the long-context tiny Qwen2, built once under `root` (seeded: same weights)."""
    marian, qwen = root / "marian", root / "qwen2-long"
    if not (marian / "model.safetensors").exists():
        build_marian(marian)
    if not (qwen / "model.safetensors").exists():
        build_qwen2(qwen, 32768)
    return marian, qwen


def run(command: list[str], articles: Path, cache: Path) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUMMARIZER_")}
    env.update({"SUMMARIZER_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    done = subprocess.run([sys.executable, "-m", "summarizer", *command, str(articles), "--quiet"],
                          capture_output=True, text=True, env=env)
    if done.returncode not in (0, 1):
        raise SystemExit(f"summarizer {command[0]} failed ({done.returncode}): {done.stderr.strip()}")
    # Split on newlines only: records may hold U+2028, which str.splitlines would break on.
    return [{k: v for k, v in json.loads(line).items() if k not in VOLATILE} for line in done.stdout.split("\n") if line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--models", type=Path, default=Path(tempfile.gettempdir()) / "summarizer-tiny-models")
    args = parser.parse_args()
    marian, qwen = build_models(args.models)
    with tempfile.TemporaryDirectory() as cache:
        translate = run(["translate", "--mt-model", str(marian)], args.articles, Path(cache) / "t")
        summarize = run(["summarize", "--mt-model", str(marian), "--llm", str(qwen), "--backend", "transformers"],
                        args.articles, Path(cache) / "s")
    with args.out.open("w", encoding="utf-8") as out:
        for task, records in (("translate", translate), ("summarize", summarize)):
            for record in records:
                out.write(json.dumps({"task": task, **record}, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(translate)} translate and {len(summarize)} summarize records in {args.out}")


if __name__ == "__main__":
    main()
