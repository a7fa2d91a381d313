"""Prompt templates (package data, versioned and reviewed like code) and the one place that reads and hashes
them: a cache key that depends on a prompt uses `sha256` of the very file the stage renders."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources


@cache
def read_bytes(name: str) -> bytes:
    return resources.files(__name__).joinpath(name).read_bytes()


def text(name: str) -> str:
    return read_bytes(name).decode("utf-8")


def sha256(name: str) -> str:
    return hashlib.sha256(read_bytes(name)).hexdigest()
