"""Instruction LLMs from .gguf files, run natively by llama.cpp (the `[gguf]` extra: llama-cpp-python).

Why: llama.cpp computes on the quantised weights directly. On 2 CPU cores the 0.5B Q4_K_M file loads in
about a second (transformers first dequantises it, ~28 s) and decodes several times faster in a third of
the memory; docs/benchmarks.md has the figures.

JSON is constrained by llama.cpp's own grammar engine: the JSON Schema becomes a GBNF grammar (gbnf.py,
which keeps long bounded strings within what llama.cpp's parser accepts). Decoding checks the greedy token
against the grammar first and masks the whole vocabulary only when the grammar refuses it, as llama.cpp's
own `common_sampler` does. llama-cpp-python's sampler chain instead runs the grammar over all 152k
candidates of Qwen's vocabulary at every step, which more than doubled the time per token. Both give the
same greedy choice: when the best token is allowed, it is also the best allowed token.

Prompts are evaluated by llama_cpp_prompts.PrefixReuse, which skips the prefixes earlier prompts already
computed (the translation examples, the summary instructions) without changing any output; with the cache
on, it also restores those that earlier runs saved (llama_cpp_states.py, authenticated files).
"""

from __future__ import annotations

import ctypes
import json
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Sequence

from summarizer.config import Config
from summarizer.errors import GenerationError, ModelLoadError
from summarizer.models.base import ChatModel, Conversation, DecodeOptions, ResolvedModel
from summarizer.models.chat_template import render_segments
from summarizer.models.gbnf import schema_to_gbnf
from summarizer.models.llama_cpp_prompts import PrefixReuse, PromptPlan
from summarizer.models.llama_cpp_states import StateStore
from summarizer.models.llama_cpp_threads import govern, idle_cores
from summarizer.models.loading import load_errors, prepare_openmp

# KV-cache size when the model allows more. A summary call holds the prompt, one chunk of article and the
# reply; 8,192 tokens fit a long news article whole, and longer ones are summarised in chunks. The cache
# costs ~12 KB per token for Qwen2.5-0.5B (24 layers x 2 x 128 x f16), so 8k tokens ~ 100 MB.
DEFAULT_CONTEXT = 8192
GRAMMAR_CACHE_SIZE = 8  # GBNF texts kept (one per summary schema, which varies with the article's ids)


class LlamaCppChatModel(ChatModel):
    """A .gguf model in llama.cpp: one conversation at a time (llama.cpp is fast single-stream)."""

    backend = "llama.cpp"

    def __init__(self, resolved: ResolvedModel, llm: Any, states: StateStore | None = None):
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelLoadError(
                f"{resolved.display} has no chat template, so it is not an instruction (chat) model",
                hint="use an instruct/chat model, e.g. a *-Instruct GGUF",
            )
        self.resolved = resolved
        self.llm = llm
        self.context_length = int(llm.n_ctx())
        self._template = _compile_template(template)
        self._prompts = PrefixReuse(llm, states)
        self._special_text = {
            "bos_token": _token_text(llm, llm.token_bos()),
            "eos_token": _token_text(llm, llm.token_eos()),
        }

    @classmethod
    def load(cls, resolved: ResolvedModel, config: Config) -> "LlamaCppChatModel":
        """Map the .gguf (no dequantisation), with the configured thread count and seed.

        Raises:
            ModelLoadError: llama-cpp-python missing, or the file is not a loadable GGUF.
        """
        prepare_openmp()
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelLoadError(
                f"cannot run {resolved.display} natively: llama-cpp-python is not installed",
                hint="pip install -e '.[gguf]' (compiles llama.cpp; needs cmake and a C++ compiler)",
            ) from exc
        path = Path(resolved.location) / str(resolved.gguf_file)
        threads = config.threads or idle_cores()

        def open_with(n_ctx: int) -> Any:
            with load_errors(resolved):
                return Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                             seed=config.seed, verbose=False)

        llm = open_with(int(resolved.settings.get("context_length") or DEFAULT_CONTEXT))
        trained = int(llm.metadata.get(f"{llm.metadata.get('general.architecture')}.context_length") or 0)
        if trained and llm.n_ctx() > trained:  # never past what the model was trained on
            llm = open_with(trained)
        govern(llm, threads)
        states = StateStore.open(config.cache_dir, resolved, llm) if config.use_cache else None
        return cls(resolved, llm, states)

    # ------------------------------------------------------------------ tokens

    def token_count(self, text: str) -> int:
        return len(self._tokenize(text, special=False))

    def _tokenize(self, text: str, special: bool) -> list[int]:
        """With special=False a "<|im_start|>" inside `text` stays plain text."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special) if text else []

    def _prompt(self, conversation: Conversation) -> PromptPlan:
        """Prompt ids: the template's text with its control tokens, each message's content as plain text."""
        return PromptPlan.from_pieces((self._tokenize(text, special=not is_content), is_content)
                                      for text, is_content in render_segments(conversation, self._render))

    def _render(self, messages: Conversation) -> str:
        return self._template.render(messages=messages, add_generation_prompt=True, **self._special_text)

    # ------------------------------------------------------------------ generation

    def generate(self, conversations: Sequence[Conversation], options: DecodeOptions) -> list[str]:
        # llama.cpp has no n-gram blocking; the repetition penalty is its guard against loops.
        return [self._complete(conversation, options) for conversation in conversations]

    def generate_json(self, conversations: Sequence[Conversation], json_schemas: Sequence[dict[str, Any]],
                      max_tokens: int) -> list[str]:
        return [self._complete_grammar(conversation, max_tokens, _gbnf(json.dumps(schema)))
                for conversation, schema in zip(conversations, json_schemas)]

    def generate_grammar(self, conversations: Sequence[Conversation], grammars: Sequence[str],
                         max_tokens: int) -> list[str]:
        return [self._complete_grammar(conversation, max_tokens, grammar)
                for conversation, grammar in zip(conversations, grammars)]

    def _start(self, conversation: Conversation) -> tuple[list[int], int]:
        """Prompt ids, evaluated in the KV cache (logits ready for the first reply token), and the room left
        for the reply."""
        plan = self._prompt(conversation)
        room = self.context_length - len(plan.ids)
        if room < 1:
            raise GenerationError(
                f"the prompt is {len(plan.ids)} tokens, more than {self.resolved.display}'s "
                f"{self.context_length}-token context")
        self._prompts.evaluate(plan)
        return plan.ids.tolist(), room

    def _complete(self, conversation: Conversation, options: DecodeOptions) -> str:
        ids, room = self._start(conversation)
        result = self.llm.create_completion(
            prompt=ids, max_tokens=min(options.max_new_tokens, room), temperature=0.0, top_k=1,
            repeat_penalty=options.repetition_penalty, stream=False,
            logits_processor=self._no_end_before(options.min_new_tokens, len(ids)) if options.min_new_tokens else None,
        )
        return result["choices"][0]["text"].strip()

    def _no_end_before(self, count: int, prompt_length: int) -> Any:
        """Logits processor for DecodeOptions.min_new_tokens: no end-of-generation token (llama.cpp stops at
        any of them) among the first `count` reply tokens."""
        import llama_cpp
        import numpy as np

        ends = self._end_tokens

        def block_ends(input_ids: Any, scores: Any) -> Any:
            if len(input_ids) - prompt_length < count:
                scores[ends] = -np.inf
            return scores

        return llama_cpp.LogitsProcessorList([block_ends])

    @cached_property
    def _end_tokens(self) -> list[int]:
        """The vocabulary's end-of-generation tokens: one scan of the ~150k entries per model, not per call
        (forced-length benchmarks would otherwise time the scan with every sentence)."""
        import llama_cpp

        vocab = self.llm._model.vocab
        return [token for token in range(self.llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, token)]

    def _complete_grammar(self, conversation: Conversation, max_tokens: int, grammar_text: str) -> str:
        """Greedy decoding under a GBNF grammar (see the module docstring)."""
        import llama_cpp
        import numpy as np

        llm = self.llm
        ids, room = self._start(conversation)
        vocab, n_vocab = llm._model.vocab, llm.n_vocab()
        grammar = llama_cpp.llama_sampler_init_grammar(vocab, grammar_text.encode("utf-8"), b"root")
        if not grammar:
            raise GenerationError(f"llama.cpp refused an output grammar for {self.resolved.display}")
        one = (llama_cpp.llama_token_data * 1)()
        single = llama_cpp.llama_token_data_array(data=one, size=1, selected=-1, sorted=False)
        everything = _TokenArray(n_vocab)
        reply: list[int] = []
        try:
            for _ in range(min(max_tokens, room)):
                logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(n_vocab,))
                token = int(logits.argmax())
                one[0].id, one[0].logit, single.size = token, logits[token], 1
                llama_cpp.llama_sampler_apply(grammar, ctypes.byref(single))
                if one[0].logit == -np.inf:  # refused: the best token the grammar allows
                    token = everything.best_allowed(grammar, logits)
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    break
                llama_cpp.llama_sampler_accept(grammar, token)
                reply.append(token)
                llm.eval([token])
        finally:
            llama_cpp.llama_sampler_free(grammar)
        # llama.cpp's grammar reads UTF-8 more leniently than Python: a byte sequence it let through may be
        # invalid here, and each U+FFFD replacement would count against the schema's length bounds. Drop
        # such bytes, as llama-cpp-python does for plain completions.
        return llm.detokenize(reply).decode("utf-8", errors="ignore").strip()


class _TokenArray:
    """The whole vocabulary as llama.cpp candidates, allocated once per call and refilled on refusals."""

    def __init__(self, n_vocab: int):
        from llama_cpp._internals import LlamaTokenDataArray

        self.array = LlamaTokenDataArray(n_vocab=n_vocab)

    def best_allowed(self, grammar: Any, logits: Any) -> int:
        import llama_cpp

        self.array.copy_logits(logits)
        llama_cpp.llama_sampler_apply(grammar, ctypes.byref(self.array.candidates))
        data = self.array.candidates_data
        return int(data.id[int(data.logit.argmax())])


@lru_cache(maxsize=GRAMMAR_CACHE_SIZE)
def _gbnf(schema_json: str) -> str:
    return schema_to_gbnf(json.loads(schema_json))


def _compile_template(source: str) -> Any:
    """The GGUF's Jinja chat template in a sandbox, with the settings transformers uses for templates."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise ValueError(message)

    environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    environment.globals["raise_exception"] = raise_exception
    return environment.from_string(source)


def _token_text(llm: Any, token: int) -> str:
    if token is None or token < 0:
        return ""
    return llm.detokenize([token], special=True).decode("utf-8", errors="replace")
