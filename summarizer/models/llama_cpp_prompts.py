"""Prompt evaluation for llama.cpp that skips prefixes computed before, without changing any output.

Why: prefill is compute-bound on a CPU. The 0.5B Q4_K_M GGUF evaluates ~50 prompt tokens/s per core here,
whether in blocks of 32 or in one batch of 320. Much of each prompt repeats an earlier one: the
translation prompt's worked examples (~600 tokens, ~12 s on one core) and the summary prompt's
instructions (~600 more). In a folder each article is translated and then summarised, so the two kinds
of prompt alternate. The KV cache of the last prompt alone would recompute both fixed parts for every
article.

Chunks. A prompt is evaluated in chunks. A chunk starts at the prompt's start, at the start of each
message's content, and every CHUNK tokens after either, so each chunk's boundaries depend only on the
prompt's own messages. Reuse happens only at a chunk start where both prompts have the same tokens and
the same chunk starts. A reused prefix is therefore the same computation as a fresh one, chunk for
chunk, and greedy output never depends on what ran before. This needs no assumption that llama.cpp's
arithmetic is the same for every batch size. On this machine's build it was: 32-token blocks and one
320-token batch gave byte-identical KV states, as did 1 and 2 threads.

Reused prefixes come from two places:
- the live KV cache, which holds the previous prompt;
- saved states. When a prompt shares at least RECURRING_MIN tokens with earlier prompts (among the last
  RECENT_PROMPTS), that shared prefix recurs (`PrefixReuse._recurring` says which one is kept). Its KV
  state is copied out of llama.cpp (about 12 KB per token for Qwen2.5-0.5B; a 600-token prefix takes ~1 ms
  to copy back) and kept. At most SAVED_PREFIXES are kept; the least recently used goes first.
- a StateStore (llama_cpp_states.py), when the cache is on: saved states are also written to disk, where
  later runs restore them, and a prefix that prompts of earlier runs shared also counts as recurring
  (`StateStore.recurring`).
"""

from __future__ import annotations

import ctypes
import hashlib
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

if TYPE_CHECKING:
    from summarizer.models.llama_cpp_states import StateStore

# Small enough that little of a shared prefix is lost at its last chunk start; prefill is no faster in bigger batches.
CHUNK = 32
RECURRING_MIN = 128  # tokens; shorter shared prefixes cost less to recompute than to keep
RECENT_PROMPTS = 64  # more than one article's translation calls, so a summary prompt still finds the previous summary's
SAVED_PREFIXES = 4  # translation examples, summary instructions, and room for a second model role or prompt version


@dataclass(frozen=True)
class PromptPlan:
    """A prompt's token ids and the positions where its chunks start (ascending, starting with 0)."""

    ids: np.ndarray
    starts: tuple[int, ...]

    @classmethod
    def from_pieces(cls, pieces: Iterable[tuple[list[int], bool]]) -> "PromptPlan":
        """`pieces`: each rendered piece's token ids and whether it is a message's content."""
        ids: list[int] = []
        anchors = [0]
        for tokens, is_content in pieces:
            if is_content and tokens:
                anchors.append(len(ids))
            ids.extend(tokens)
        anchors.append(len(ids))
        starts = sorted({start for anchor, end in zip(anchors, anchors[1:]) for start in range(anchor, end, CHUNK)})
        return cls(np.asarray(ids, dtype=np.intc), tuple(starts))

    def chunks(self, start: int) -> list[tuple[int, int]]:
        """The chunks from `start` (a chunk start) to the end."""
        bounds = [s for s in self.starts if s >= start] + [len(self.ids)]
        return list(zip(bounds, bounds[1:]))

    def shared(self, other: "PromptPlan") -> int:
        """The longest prefix, ending at a chunk start short of this prompt's last token, that `other`
        computed the same way (same tokens, same chunk starts). At least one token is always left to
        evaluate, for fresh logits."""
        length = min(len(self.ids), len(other.ids))
        differs = np.flatnonzero(self.ids[:length] != other.ids[:length])
        common = int(differs[0]) if len(differs) else length
        best = 0
        for mine, theirs in zip(self.starts, other.starts):
            if mine != theirs or mine > common or mine >= len(self.ids):
                break
            best = mine
        return best

    def key(self, length: int) -> bytes:
        """Identifies the computation of this prompt's first `length` tokens."""
        starts = np.asarray([s for s in self.starts if s <= length], dtype=np.intc)
        return hashlib.sha256(self.ids[:length].tobytes() + b"|" + starts.tobytes()).digest()


class PrefixReuse:
    """Evaluates prompts in a llama-cpp-python `Llama` (sequence 0), reusing the live and saved prefixes;
    with a `store`, also those saved by earlier runs."""

    def __init__(self, llm: Any, store: "StateStore | None" = None):
        self.llm = llm
        self.store = store
        self._live: PromptPlan | None = None
        self._recent: deque[PromptPlan] = deque(maxlen=RECENT_PROMPTS)
        self._saved: OrderedDict[bytes, bytes] = OrderedDict()  # PromptPlan.key -> llama.cpp sequence state

    def evaluate(self, plan: PromptPlan) -> None:
        """Leave `plan`'s tokens in the KV cache, logits ready for the first reply token."""
        start = plan.shared(self._live) if self._live is not None else 0
        restored = self._restore_longest_saved(plan, longer_than=start)
        if restored is not None:
            start = restored
        recurring = self._recurring(plan)
        if self.store is not None:
            recurring = max(recurring, self.store.recurring(plan))
        self.llm.n_tokens = start
        self.llm._ctx.kv_cache_seq_rm(-1, start, -1)
        for begin, end in plan.chunks(start):
            if begin == recurring and recurring:
                self._save(plan, begin)
            self.llm.eval(plan.ids[begin:end].tolist())
        self._live = plan
        self._recent.append(plan)

    def _recurring(self, plan: PromptPlan) -> int:
        """The prefix of `plan` worth keeping: the longest that two earlier prompts share with it (a fixed part
        such as the translation examples), else the longest one earlier prompt shares (the second summary
        of a folder). Not simply the longest: a retried sentence shares its own text with its first prompt,
        and that prefix never comes back."""
        shared = sorted((plan.shared(earlier) for earlier in self._recent), reverse=True)
        if len(shared) > 1 and shared[1] >= RECURRING_MIN:
            return shared[1]
        return shared[0] if shared and shared[0] >= RECURRING_MIN else 0

    def forget(self) -> None:
        """Drop every reusable prefix: the next prompt is evaluated from scratch."""
        self._live = None
        self._recent.clear()
        self._saved.clear()

    def _restore_longest_saved(self, plan: PromptPlan, longer_than: int) -> int | None:
        """Load the longest saved prefix of `plan` longer than `longer_than` (in memory, else verified on disk)
        and return its length; None when there is none, 0 when llama.cpp refused it (the KV cache is then
        empty)."""
        import llama_cpp

        for length in sorted((s for s in plan.starts if longer_than < s < len(plan.ids)), reverse=True):
            key = plan.key(length)
            if key not in self._saved:
                state = self.store.load(key, length) if self.store is not None else None
                if state is None:
                    continue
                self._keep(key, state)
            self._saved.move_to_end(key)
            state = self._saved[key]
            self.llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
            if llama_cpp.llama_state_seq_set_data(self.llm._ctx.ctx, buffer, len(state), 0) != len(state):
                del self._saved[key]  # llama.cpp refused it: recompute instead
                self.llm._ctx.kv_cache_seq_rm(-1, 0, -1)
                return 0
            self.llm.input_ids[:length] = plan.ids[:length]
            return length
        return None

    def _save(self, plan: PromptPlan, length: int) -> None:
        """Copy out the KV state of `plan`'s first `length` tokens (the cache holds exactly those now)."""
        import llama_cpp

        key = plan.key(length)
        if key in self._saved:
            self._saved.move_to_end(key)
            return
        context = self.llm._ctx.ctx
        size = llama_cpp.llama_state_seq_get_size(context, 0)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(context, buffer, size, 0)
        if written:
            self._keep(key, ctypes.string_at(buffer, written))
            if self.store is not None:
                self.store.save(key, length, self._saved[key])

    def _keep(self, key: bytes, state: bytes) -> None:
        self._saved[key] = state
        while len(self._saved) > SAVED_PREFIXES:
            self._saved.popitem(last=False)
