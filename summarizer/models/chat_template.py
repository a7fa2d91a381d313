"""Chat prompts whose message contents can never become control tokens.

A chat template renders messages into one string with role markers such as `<|im_start|>user`. Tokenised
as a whole, with special tokens recognised, any marker written inside an article becomes a real control
token, and the article can then open a fake system turn. So each content is swapped for a unique slot
marker before rendering; the rendered string is split at the markers, and the backend tokenises the
template's own text with special tokens and each content as plain text.
"""

from __future__ import annotations

import re
import secrets
from typing import Callable, Sequence

from summarizer.models.base import Conversation

# (text, is_content): the template's own text (special tokens allowed) or a message's content (plain text).
Segment = tuple[str, bool]


def render_segments(conversation: Conversation, render: Callable[[Conversation], str]) -> list[Segment]:
    """Render `conversation` with `render` (a chat template applied with the generation prompt) and return
    its pieces, template text and message contents kept apart."""
    nonce = secrets.token_hex(8)
    slots = {f"\u27e6slot-{nonce}-{index}\u27e7": message["content"] for index, message in enumerate(conversation)}
    marked = [{**message, "content": slot} for message, slot in zip(conversation, slots)]
    rendered = render(marked)
    pieces = re.split("(" + "|".join(map(re.escape, slots)) + ")", rendered)
    segments: list[Segment] = []
    for piece in pieces:
        if piece in slots:
            segments.append((slots[piece], True))
        elif piece:
            segments.append((piece, False))
    return segments


def tokenize_segments(segments: Sequence[Segment], tokenize: Callable[[str, bool], list[int]]) -> list[int]:
    """Token ids of the rendered prompt: `tokenize(text, special)` with special=False for contents."""
    ids: list[int] = []
    for text, is_content in segments:
        ids.extend(tokenize(text, not is_content))
    return ids
