"""Instruction LLMs through transformers: a model directory, a hub snapshot, or a .gguf dequantised.

This is the portable path: it runs any causal LM transformers knows, in batches (several conversations
decoded together, the prefix they share evaluated once), with JSON constrained by xgrammar, one grammar
matcher per batch row.
For .gguf files the llama.cpp backend (llama_cpp_chat.py) is several times faster; this path is the
fallback when it is not installed.

Loading a .gguf here makes transformers dequantise every tensor (~28 s for a 0.5B Q4 file on 2 cores),
so the dequantised model and tokenizer are kept as safetensors under cache_dir/models/<fingerprint>/<dtype>/
and later runs load those in about a second.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import OrderedDict
from pathlib import Path
from typing import Any, Sequence

from summarizer.atomic import atomic_directory
from summarizer.cache_parts import converted_model_dir, mark_used
from summarizer.config import Config
from summarizer.errors import GenerationError, ModelLoadError
from summarizer.models.base import ChatModel, Conversation, DecodeOptions, ResolvedModel
from summarizer.models.chat_template import render_segments, tokenize_segments
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

# Compiled grammars kept per model (an article whose ids match an earlier one, or a re-run, skips the
# ~1.7 s compile with Qwen's vocabulary); ~10 MB each with a 152k vocabulary. xgrammar's own cache
# (cache_enabled) stays off: in 0.2.8 it aborts compiling the summary schemas ("Check failed:
# per_rule_fsm_hashes[...]", the grammar FSM hasher bug of mlc-ai/xgrammar#647).
GRAMMAR_CACHE_SIZE = 8
SHARED_PREFIX_MIN = 16  # tokens; below this a batch's common prefix is not worth a separate forward pass


class HFChatModel(ChatModel):
    """A transformers causal LM plus its tokenizer; greedy, left-padded batches."""

    backend = "transformers"

    def __init__(self, resolved: ResolvedModel, model: Any, tokenizer: Any):
        if not getattr(tokenizer, "chat_template", None):
            raise ModelLoadError(
                f"{resolved.display} has no chat template, so it is not an instruction (chat) model",
                hint="use an instruct/chat model, e.g. qwen2.5-1.5b-instruct",
            )
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.resolved = resolved
        self.model = model
        self.tokenizer = tokenizer
        self.vocab_size = int(model.config.vocab_size)  # the logits width; may exceed len(tokenizer)
        self.context_length = int(
            resolved.settings.get("context_length") or getattr(model.config, "max_position_embeddings", 0) or 2048
        )
        self.stop_ids = _stop_token_ids(model, tokenizer)
        self._grammar_compiler: Any = None
        self._grammars: OrderedDict[tuple[str, str], Any] = OrderedDict()

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

    # ------------------------------------------------------------------ tokens

    def token_count(self, text: str) -> int:
        return len(self._tokenize(text, special=False))

    def _tokenize(self, text: str, special: bool) -> list[int]:
        """Token ids of `text`; with special=False a "<|im_start|>" in it stays plain text."""
        return self.tokenizer(text, add_special_tokens=False, split_special_tokens=not special)["input_ids"]

    def prompt_ids(self, conversation: Conversation) -> list[int]:
        """The chat template applied with the generation prompt, contents tokenised as plain text."""
        segments = render_segments(conversation, lambda messages: self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False))
        return tokenize_segments(segments, self._tokenize)

    # ------------------------------------------------------------------ generation

    def generate(self, conversations: Sequence[Conversation], options: DecodeOptions) -> list[str]:
        if not conversations:
            return []
        prompts = [self.prompt_ids(conversation) for conversation in conversations]
        return self._decode(self._run(prompts, options, options.max_new_tokens))

    def generate_json(self, conversations: Sequence[Conversation], json_schemas: Sequence[dict[str, Any]],
                      max_tokens: int) -> list[str]:
        return self._constrained(conversations, [self.compiled_grammar("json", json.dumps(schema))
                                                 for schema in json_schemas], max_tokens)

    def generate_grammar(self, conversations: Sequence[Conversation], grammars: Sequence[str],
                         max_tokens: int) -> list[str]:
        return self._constrained(conversations, [self.compiled_grammar("gbnf", grammar) for grammar in grammars],
                                 max_tokens)

    def _constrained(self, conversations: Sequence[Conversation], compiled: list[Any], max_tokens: int) -> list[str]:
        if not conversations:
            return []
        prompts = [self.prompt_ids(conversation) for conversation in conversations]
        processor = _BatchGrammarProcessor(compiled, self.vocab_size)
        replies = self._decode(self._run(prompts, DecodeOptions(max_new_tokens=max_tokens), max_tokens, processor))
        # Byte-level vocabularies let a grammar accept a byte run that is not valid UTF-8 on its own; it
        # decodes to U+FFFD, which carries nothing and can push a string past its cap.
        return [reply.replace("\ufffd", "") for reply in replies]

    def _run(self, prompts: list[list[int]], options: DecodeOptions, max_tokens: int,
             processor: Any = None) -> list[list[int]]:
        """Generated ids per row, each cut at its own budget: a row's output never depends on how long
        the other rows of its batch are.

        Rows are laid out as [shared prefix][padding][rest of the prompt]. The prefix every row shares (a
        summary prompt's ~600 tokens of instructions) is evaluated once and its KV cache copied to every
        row: prefill is compute-bound on a CPU, so evaluating it once per row would cost as much as the
        batched decoding saves."""
        import torch
        from transformers import LogitsProcessorList

        budgets = []
        for prompt in prompts:
            room = self.context_length - len(prompt)
            if room < 1:
                raise GenerationError(
                    f"the prompt is {len(prompt)} tokens, more than {self.resolved.display}'s "
                    f"{self.context_length}-token context")
            budgets.append(min(max_tokens, room))
        shared = _shared_prefix(prompts)
        width = max(map(len, prompts)) - shared
        pad = self.tokenizer.pad_token_id
        rows = [(p[:shared], [pad] * (width - len(p) + shared), p[shared:]) for p in prompts]
        input_ids = torch.tensor([head + padding + rest for head, padding, rest in rows], dtype=torch.long)
        attention_mask = torch.tensor([[1] * len(head) + [0] * len(padding) + [1] * len(rest)
                                       for head, padding, rest in rows], dtype=torch.long)
        # Each token's position counts only the real tokens before it (the model would otherwise number the
        # padding too, and the rest of a padded row would sit further from its prefix than when alone).
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        generation_config = greedy_generation_config(
            self.model, options, max_new_tokens=max(budgets), pad_token_id=pad, eos_token_id=self.stop_ids)
        with torch.inference_mode():
            cache = self._prefix_cache(prompts[0][:shared], len(prompts)) if shared else None
            generated = self.model.generate(
                input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                generation_config=generation_config,
                logits_processor=LogitsProcessorList([processor]) if processor else None,
                **({"cache": cache} if cache is not None else {}))
        replies = []
        for row, budget in zip(generated[:, shared + width:].tolist(), budgets):
            row = row[:budget]
            stop = next((i for i, token in enumerate(row) if token in self.stop_ids), len(row))
            replies.append(row[:stop])
        return replies

    def _prefix_cache(self, prefix: list[int], rows: int) -> Any:
        """The KV cache of `prefix`, evaluated once, repeated for `rows` batch rows."""
        import torch
        from transformers import DynamicCache

        cache = DynamicCache(config=self.model.config)
        self.model(input_ids=torch.tensor([prefix], dtype=torch.long), cache=cache, use_cache=True)
        cache.batch_repeat_interleave(rows)
        return cache

    def _decode(self, rows: list[list[int]]) -> list[str]:
        return [self.tokenizer.decode(row, skip_special_tokens=True).strip() for row in rows]

    def compiled_grammar(self, kind: str, text: str) -> Any:
        """xgrammar's compiled grammar, memoised per model: kind "json" for a JSON schema (compact
        separators, no free whitespace, so a finite schema gives a finite grammar), "gbnf" for a grammar."""
        import xgrammar

        if self._grammar_compiler is None:  # TokenizerInfo walks the whole vocabulary: once per model
            info = xgrammar.TokenizerInfo.from_huggingface(self.tokenizer, vocab_size=self.vocab_size,
                                                           stop_token_ids=self.stop_ids)
            self._grammar_compiler = xgrammar.GrammarCompiler(info, cache_enabled=False)
        key = (kind, text)
        if key in self._grammars:
            self._grammars.move_to_end(key)
        else:
            try:
                self._grammars[key] = (self._grammar_compiler.compile_json_schema(text, any_whitespace=False)
                                       if kind == "json" else self._grammar_compiler.compile_grammar(text))
            except RuntimeError as error:
                raise GenerationError(f"xgrammar refused an output grammar for {self.resolved.display}: "
                                      f"{str(error).splitlines()[0]}") from error
            if len(self._grammars) > GRAMMAR_CACHE_SIZE:
                self._grammars.popitem(last=False)
        return self._grammars[key]


def _shared_prefix(prompts: list[list[int]]) -> int:
    """How many leading tokens every prompt has in common (0 for one prompt, or when sharing would save
    less than SHARED_PREFIX_MIN tokens). Each row keeps at least one token of its own, whose logits start
    its reply."""
    if len(prompts) < 2:
        return 0
    length = min(len(os.path.commonprefix(prompts)), min(map(len, prompts)) - 1)
    return length if length >= SHARED_PREFIX_MIN else 0


def _stop_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """Every token that ends a reply: the generation config's eos ids (Qwen2.5 lists both <|im_end|> and
    <|endoftext|>) and the tokenizer's eos. The grammar and `generate` must agree on these: a stop token
    the grammar does not know is masked, and one `generate` does not know runs on past the document."""
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids = list(configured) if isinstance(configured, (list, tuple)) else [configured]
    ids.append(tokenizer.eos_token_id)
    return sorted({int(i) for i in ids if i is not None})


class _BatchGrammarProcessor:
    """A transformers logits processor holding one xgrammar matcher per batch row.

    Each step it feeds every live row's last token to that row's matcher. Then, per row, it checks the
    greedy token first: when the grammar accepts it (rolled back at once), the row is left unmasked, and
    greedy picks that token, which is also the best one the grammar allows. Only when the grammar refuses
    it is the row masked to the allowed tokens. Filling that mask walks the grammar over the whole
    vocabulary (~37 ms a row for a summary schema and Qwen's 152k tokens, on one core), so doing it only on
    refusals makes constrained decoding cost about what free decoding does; llama_cpp_chat.py does the
    same. A row whose matcher has accepted a stop token is finished; `generate` pads it from then on, so
    its mask is left open."""

    def __init__(self, grammars: Sequence[Any], vocab_size: int):
        import xgrammar

        self.xgrammar = xgrammar
        self.matchers = [xgrammar.GrammarMatcher(grammar) for grammar in grammars]
        self.bitmask = xgrammar.allocate_token_bitmask(len(self.matchers), vocab_size)
        self.started = False
        self.masked_steps = 0  # rows masked over the whole vocabulary (the greedy token was refused)

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.started:
            for row, matcher in enumerate(self.matchers):
                if not matcher.is_terminated():
                    matcher.accept_token(int(input_ids[row, -1]))
        self.started = True
        refused = []
        for row, (matcher, best) in enumerate(zip(self.matchers, scores.argmax(dim=-1).tolist())):
            if not matcher.is_terminated() and not self._allows(matcher, best):
                matcher.fill_next_token_bitmask(self.bitmask, row)
                refused.append(row)
        if refused:
            self.masked_steps += len(refused)
            self.xgrammar.apply_token_bitmask_inplace(scores, self.bitmask.to(scores.device), indices=refused)
        return scores

    @staticmethod
    def _allows(matcher: Any, token: int) -> bool:
        if not matcher.accept_token(token):
            return False
        matcher.rollback(1)
        return True


# --------------------------------------------------------------------------- loading


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
    cache = (converted_model_dir(config.cache_dir, resolved.directory_name, str(dtype).removeprefix("torch."))
             if config.use_cache else None)
    if cache is not None and directory_is_complete(cache):
        try:
            loaded = _load_directory(resolved, cache, dtype, use_safetensors=True)
        except ModelLoadError:
            shutil.rmtree(cache, ignore_errors=True)  # damaged: rebuild it from the .gguf below
        else:
            mark_used(cache)  # `summarizer cache prune` removes what was not used for a while
            return loaded

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


def directory_is_complete(directory: Path) -> bool:
    return (directory / "config.json").is_file() and any(directory.glob("*.safetensors"))


def _save_atomically(model: Any, tokenizer: Any, target: Path) -> None:
    """Readers never see half a model. A failure to write (disk full, read-only cache) only costs the
    speed-up, so it is not an error."""
    try:
        with atomic_directory(target) as staging:
            _save_plain(model, staging)
            tokenizer.save_pretrained(staging)
    except OSError:
        pass


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
