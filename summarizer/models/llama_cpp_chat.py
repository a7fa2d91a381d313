"""Instruction LLMs from .gguf files, run natively by llama.cpp (the `[gguf]` extra: llama-cpp-python).

Why: llama.cpp computes on the quantised weights directly. On 2 CPU cores the 0.5B Q4_K_M file loads in
about a second (transformers first dequantises it, ~28 s) and decodes several times faster in a third of
the memory; docs/benchmarks.md has the figures.

JSON is constrained by llama.cpp's own grammar sampler: the JSON Schema becomes a GBNF grammar (gbnf.py,
which keeps long bounded strings within what llama.cpp's parser accepts), parsed once per schema.

Determinism: greedy sampling, and the KV cache is reused only for an exact prompt prefix that is always
evaluated on its own (everything before the last message's content), so a prompt's numbers never depend
on which prompt ran before it.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any, Sequence

from summarizer.config import Config
from summarizer.errors import GenerationError, ModelLoadError
from summarizer.models.base import ChatModel, Conversation, DecodeOptions, ResolvedModel
from summarizer.models.chat_template import Segment, render_segments
from summarizer.models.gbnf import schema_to_gbnf
from summarizer.models.loading import load_errors

# KV-cache size when the model allows more. A summary call holds the prompt, one chunk of article and the
# reply; 8,192 tokens fit a long news article whole, and longer ones are summarised in chunks. The cache
# costs ~12 KB per token for Qwen2.5-0.5B (24 layers x 2 x 128 x f16), so 8k tokens ~ 100 MB.
DEFAULT_CONTEXT = 8192
GRAMMAR_CACHE_SIZE = 8  # parsed GBNF grammars kept per model


class LlamaCppChatModel(ChatModel):
    """A .gguf model in llama.cpp: one conversation at a time (llama.cpp is fast single-stream)."""

    backend = "llama.cpp"

    def __init__(self, resolved: ResolvedModel, llm: Any):
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
        self._special_text = {
            "bos_token": _token_text(llm, llm.token_bos()),
            "eos_token": _token_text(llm, llm.token_eos()),
        }
        self._grammars: OrderedDict[str, Any] = OrderedDict()

    @classmethod
    def load(cls, resolved: ResolvedModel, config: Config) -> "LlamaCppChatModel":
        """Map the .gguf (no dequantisation), with the configured thread count and seed.

        Raises:
            ModelLoadError: llama-cpp-python missing, or the file is not a loadable GGUF.
        """
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
        return cls(resolved, llm)

    # ------------------------------------------------------------------ tokens

    def token_count(self, text: str) -> int:
        return len(self._tokenize(text, special=False))

    def _tokenize(self, text: str, special: bool) -> list[int]:
        """With special=False a "<|im_start|>" inside `text` stays plain text."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special) if text else []

    def _prompt(self, conversation: Conversation) -> tuple[list[int], int]:
        """Prompt ids, and how many of them form the reusable prefix: everything before the last message's
        content (the system prompt and the template around it)."""
        segments: list[Segment] = render_segments(conversation, self._render)
        last_content = max(i for i, (_, is_content) in enumerate(segments) if is_content)
        ids: list[int] = []
        prefix = 0
        for index, (text, is_content) in enumerate(segments):
            if index == last_content:
                prefix = len(ids)
            ids.extend(self._tokenize(text, special=not is_content))
        return ids, prefix

    def _render(self, messages: Conversation) -> str:
        return self._template.render(messages=messages, add_generation_prompt=True, **self._special_text)

    # ------------------------------------------------------------------ generation

    def generate(self, conversations: Sequence[Conversation], options: DecodeOptions) -> list[str]:
        # llama.cpp has no n-gram blocking; the repetition penalty is its guard against loops.
        return [self._complete(conversation, options.max_new_tokens, None, options.repetition_penalty)
                for conversation in conversations]

    def generate_json(self, conversations: Sequence[Conversation], json_schemas: Sequence[dict[str, Any]],
                      max_tokens: int) -> list[str]:
        return [self._complete(conversation, max_tokens, self._grammar(schema), 1.0)
                for conversation, schema in zip(conversations, json_schemas)]

    def _complete(self, conversation: Conversation, max_tokens: int, grammar: Any, repeat_penalty: float) -> str:
        ids, prefix = self._prompt(conversation)
        room = self.context_length - len(ids)
        if room < 1:
            raise GenerationError(
                f"the prompt is {len(ids)} tokens, more than {self.resolved.display}'s "
                f"{self.context_length}-token context")
        self._load_prefix(ids[:prefix])
        result = self.llm.create_completion(
            prompt=ids, max_tokens=min(max_tokens, room), temperature=0.0, top_k=1, repeat_penalty=repeat_penalty,
            grammar=grammar, stream=False,
        )
        return result["choices"][0]["text"].strip()

    def _load_prefix(self, prefix: list[int]) -> None:
        """Leave exactly `prefix` in the KV cache, evaluated on its own: reused when the previous call had
        the same prefix, else recomputed. create_completion then evaluates only the rest."""
        llm = self.llm
        if prefix and llm.n_tokens >= len(prefix) and list(llm.input_ids[:len(prefix)]) == prefix:
            llm.n_tokens = len(prefix)  # create_completion drops the KV entries past this point
            return
        llm.reset()
        if prefix:
            llm.eval(prefix)

    def _grammar(self, schema: dict[str, Any]) -> Any:
        from llama_cpp import LlamaGrammar

        schema_json = json.dumps(schema)
        if schema_json in self._grammars:
            self._grammars.move_to_end(schema_json)
        else:
            self._grammars[schema_json] = LlamaGrammar.from_string(schema_to_gbnf(schema), verbose=False)
            if len(self._grammars) > GRAMMAR_CACHE_SIZE:
                self._grammars.popitem(last=False)
        return self._grammars[schema_json]


def idle_cores() -> int:
    """Cores this process may use that other processes are not already keeping busy (at least 1).

    llama.cpp's worker threads spin at a barrier after every matrix product; when another process holds
    one of the cores, a thread waiting for its descheduled partner burns the time the partner needs.
    Measured on 2 shared cores (load ~18): 1 thread decoded 64 tokens at 1.7 tokens/s, while 2 threads
    had not finished in 300 s. On an idle machine every core is used."""
    cores = len(os.sched_getaffinity(0))
    busy = int(os.getloadavg()[0])
    return max(1, min(cores, cores - busy + 1))


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
