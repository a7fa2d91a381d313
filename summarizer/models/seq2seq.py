"""Encoder-decoder translators: Marian (opus-mt), NLLB-200 and M2M100, through transformers.

NLLB and M2M100 are multilingual: the tokenizer marks the source language, and the first generated
token is forced to the target language code.
"""

from __future__ import annotations

from typing import Any, Sequence

from summarizer.config import Config
from summarizer.errors import GenerationError, ModelLoadError
from summarizer.models.base import DecodeOptions, ResolvedModel, Translator
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

# opus-mt models were trained on inputs of at most 512 tokens (their tokenizer's model_max_length).
MARIAN_MAX_INPUT_TOKENS = 512


class Seq2SeqTranslator(Translator):
    """One padded batch through `generate`; greedy unless DecodeOptions asks for beams."""

    def __init__(self, resolved: ResolvedModel, model: Any, tokenizer: Any):
        self.resolved = resolved
        self.model = model
        self.tokenizer = tokenizer
        self.max_input_tokens = _max_input_tokens(model.config)
        self.forced_bos_token_id = _target_language_token(resolved, tokenizer)

    @classmethod
    def load(cls, resolved: ResolvedModel, config: Config) -> "Seq2SeqTranslator":
        """Load from the local dir or hub snapshot (never the network).

        Raises:
            UnsafeWeightsError: only pickled weights and no --allow-pickle.
            ModelLoadError: missing package, corrupt or incomplete files.
        """
        directory = local_snapshot_dir(resolved)
        if any(directory.glob("*.spm")) or (directory / "sentencepiece.bpe.model").exists():
            require_packages(resolved, "sentencepiece")
        use_safetensors = check_weight_safety(resolved, directory, config)
        prepare_torch(config)
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        tokenizer_kwargs = {k: v for k, v in resolved.settings.items() if k in ("src_lang", "tgt_lang")}
        with load_errors(resolved):
            tokenizer = AutoTokenizer.from_pretrained(directory, **tokenizer_kwargs, **common_from_pretrained_kwargs())
            model = AutoModelForSeq2SeqLM.from_pretrained(
                directory,
                dtype=torch_dtype(config, "seq2seq"),
                use_safetensors=use_safetensors,
                **common_from_pretrained_kwargs(),
            )
        model.eval()
        model = quantize_if_asked(model, config)
        return cls(resolved, model, tokenizer)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(ids) for ids in self.tokenizer(list(texts))["input_ids"]]

    def translate(
        self,
        texts: Sequence[str],
        options: DecodeOptions,
        contexts: Sequence[str | None] | None = None,
    ) -> list[str]:
        """Translate one batch; blank inputs give "" without reaching the model. `contexts` is unused:
        these models translate sentence by sentence."""
        import torch

        outputs = ["" for _ in texts]
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if not todo:
            return outputs
        batch = self.tokenizer([texts[i] for i in todo], return_tensors="pt", padding=True)
        longest = int(batch["attention_mask"].sum(dim=1).max())
        if longest > self.max_input_tokens:
            # Truncating would silently drop source text; the engine splits long segments before this.
            raise GenerationError(
                f"a segment of {longest} tokens exceeds {self.resolved.display}'s {self.max_input_tokens}-token input limit"
            )
        extra = {"forced_bos_token_id": self.forced_bos_token_id} if self.forced_bos_token_id is not None else {}
        generation_config = greedy_generation_config(self.model, options, **extra)
        with torch.inference_mode():
            generated = self.model.generate(**batch, generation_config=generation_config)
        if self.forced_bos_token_id is not None:
            # Drop decoder start + forced language code: M2M100's tokenizer does not mark its language
            # codes special under transformers 5, so skip_special_tokens alone would keep "__en__".
            generated = generated[:, 2:]
        decoded = self.tokenizer.batch_decode(generated, skip_special_tokens=True)
        for index, text in zip(todo, decoded):
            outputs[index] = text.strip()
        return outputs


def _max_input_tokens(model_config: Any) -> int:
    limit = int(getattr(model_config, "max_position_embeddings", 0) or MARIAN_MAX_INPUT_TOKENS)
    if model_config.model_type == "marian":
        limit = min(limit, MARIAN_MAX_INPUT_TOKENS)
    return limit


def _target_language_token(resolved: ResolvedModel, tokenizer: Any) -> int | None:
    """Token id of the target language code for multilingual models (NLLB, M2M100, mBART-50)."""
    target = resolved.settings.get("tgt_lang")
    if not target:
        return None
    if hasattr(tokenizer, "get_lang_id"):  # M2M100Tokenizer: "en" -> "__en__"
        try:
            return int(tokenizer.get_lang_id(target))
        except KeyError:
            token_id = None
    else:
        token_id = tokenizer.convert_tokens_to_ids(target)
    if token_id is None or token_id == tokenizer.unk_token_id:
        raise ModelLoadError(
            f"{resolved.display}'s tokenizer has no language code {target!r}",
            hint="this model does not translate into that language code; pick another model",
        )
    return int(token_id)
