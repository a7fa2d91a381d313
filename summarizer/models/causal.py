"""Instruction LLMs (causal LMs) driven through their chat template, from a directory, hub snapshot or .gguf.

Loading a .gguf makes transformers dequantise every tensor (~28 s for a 0.5B Q4 file here), so the
dequantised model and tokenizer are kept as safetensors under cache_dir/models/<fingerprint>/<dtype>/
and later runs load those in about a second.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence

from summarizer.config import Config
from summarizer.errors import GenerationError, ModelLoadError
from summarizer.models.base import ChatModel, DecodeOptions, ResolvedModel
from summarizer.models.loading import (
    check_weight_safety,
    common_from_pretrained_kwargs,
    greedy_generation_config,
    load_errors,
    prepare_torch,
    quantize_if_asked,
    require_packages,
    torch_dtype,
)
from summarizer.models.resolve import local_snapshot_dir


class HFChatModel(ChatModel):
    """A transformers causal LM plus its tokenizer; greedy, left-padded batches."""

    def __init__(self, resolved: ResolvedModel, model: Any, tokenizer: Any):
        if not getattr(tokenizer, "chat_template", None):
            raise ModelLoadError(
                f"{resolved.display} has no chat template, so it is not an instruction (chat) model",
                hint="use an instruct/chat model, e.g. qwen2.5-1.5b-instruct",
            )
        tokenizer.padding_side = "left"  # generation continues from the right end of every row
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.resolved = resolved
        self.model = model
        self.tokenizer = tokenizer
        self.vocab_size = int(model.config.vocab_size)
        self.context_length = int(
            resolved.settings.get("context_length") or getattr(model.config, "max_position_embeddings", 0) or 2048
        )

    @classmethod
    def load(cls, resolved: ResolvedModel, config: Config) -> "HFChatModel":
        """Load without network access.

        Raises:
            UnsafeWeightsError: only pickled weights and no --allow-pickle.
            ModelLoadError: missing package (gguf/accelerate), corrupt files, no chat template.
        """
        prepare_torch(config)
        dtype = torch_dtype(config, "causal")
        if resolved.gguf_file:
            model, tokenizer = _load_gguf(resolved, config, dtype)
        else:
            directory = local_snapshot_dir(resolved)
            model, tokenizer = _load_directory(resolved, directory, dtype, check_weight_safety(resolved, directory, config))
        model.eval()
        return cls(resolved, quantize_if_asked(model, config), tokenizer)

    def token_count(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def chat(
        self,
        conversations: Sequence[list[dict[str, str]]],
        options: DecodeOptions,
        logits_processors: Sequence[Any] | None = None,
    ) -> list[str]:
        import torch
        from transformers import LogitsProcessorList

        if not conversations:
            return []
        prompts = [
            self.tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
            for conversation in conversations
        ]
        # The template already writes any BOS/role tokens the model expects.
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        prompt_length = batch["input_ids"].shape[1]
        room = self.context_length - prompt_length
        if room < 1:
            raise GenerationError(
                f"the prompt is {prompt_length} tokens, more than {self.resolved.display}'s "
                f"{self.context_length}-token context",
            )
        generation_config = greedy_generation_config(
            self.model,
            options,
            max_new_tokens=min(options.max_new_tokens, room),
            pad_token_id=self.tokenizer.pad_token_id,
        )
        processors = LogitsProcessorList(list(logits_processors)) if logits_processors else None
        with torch.inference_mode():
            generated = self.model.generate(**batch, generation_config=generation_config, logits_processor=processors)
        replies = self.tokenizer.batch_decode(generated[:, prompt_length:], skip_special_tokens=True)
        return [reply.strip() for reply in replies]


def _load_directory(resolved: ResolvedModel, directory: Path, dtype: Any, use_safetensors: bool) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with load_errors(resolved):
        tokenizer = AutoTokenizer.from_pretrained(directory, **common_from_pretrained_kwargs())
        model = AutoModelForCausalLM.from_pretrained(
            directory, dtype=dtype, use_safetensors=use_safetensors, **common_from_pretrained_kwargs()
        )
    return model, tokenizer


def _load_gguf(resolved: ResolvedModel, config: Config, dtype: Any) -> tuple[Any, Any]:
    """From the dequantised cache when present, else from the .gguf (then filling the cache)."""
    cache = dequantised_cache_dir(config, resolved, str(dtype).removeprefix("torch.")) if config.use_cache else None
    if cache is not None and directory_is_complete(cache):
        try:
            return _load_directory(resolved, cache, dtype, use_safetensors=True)
        except ModelLoadError:
            shutil.rmtree(cache, ignore_errors=True)  # damaged: rebuild it from the .gguf below

    require_packages(resolved, "gguf", "accelerate")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    location, name = resolved.location, resolved.gguf_file
    with load_errors(resolved):
        tokenizer = AutoTokenizer.from_pretrained(location, gguf_file=name, **common_from_pretrained_kwargs())
        model = AutoModelForCausalLM.from_pretrained(
            location, gguf_file=name, dtype=dtype, **common_from_pretrained_kwargs()
        )
    if cache is not None:
        _save_atomically(model, tokenizer, cache)
    return model, tokenizer


def dequantised_cache_dir(config: Config, resolved: ResolvedModel, dtype_name: str) -> Path:
    """Where a GGUF's dequantised weights live: cache_dir/models/<fingerprint>/<dtype>/."""
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in resolved.fingerprint)
    return Path(config.cache_dir) / "models" / safe / dtype_name


def directory_is_complete(directory: Path) -> bool:
    return (directory / "config.json").is_file() and any(directory.glob("*.safetensors"))


def _save_atomically(model: Any, tokenizer: Any, target: Path) -> None:
    """Write to a temporary sibling directory, then rename: readers never see half a model. A failure
    to write (disk full, read-only cache) only costs the speed-up, so it is not an error."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}-"))
    try:
        _save_plain(model, staging)
        tokenizer.save_pretrained(staging)
        os.replace(staging, target)
    except OSError:
        pass  # another process may have won the rename; its copy is as good as ours
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _save_plain(model: Any, directory: Path) -> None:
    """Save as an ordinary safetensors checkpoint, without the GGUF loading metadata."""
    from safetensors.torch import save_file

    config = model.config
    config.quantization_config = None  # the weights are plain tensors now, not GGUF blocks
    config.save_pretrained(directory)
    model.generation_config.save_pretrained(directory)
    state = {name: tensor.contiguous() for name, tensor in model.state_dict().items()}
    if getattr(config, "tie_word_embeddings", False):
        state.pop("lm_head.weight", None)  # tied: stored once, as the input embeddings
    save_file(state, directory / "model.safetensors", metadata={"format": "pt"})
