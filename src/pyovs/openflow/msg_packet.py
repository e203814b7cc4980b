"""Placeholder until this message family is implemented."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .codec import MsgCodec

CODECS: Final[dict[str, MsgCodec]] = {}
DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {}
