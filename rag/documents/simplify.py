"""繁體 → 简体 for matching, one character for one character, so offsets stay valid.

Search, figures and role detection run on a simplified *copy* of a text; quotes, spans and
offsets always refer to the original, so the copy must have exactly the original's length.

Library: OpenCC (PyPI ``opencc``), the project's own Python binding of the reference
converter (BYVoid/OpenCC). It is actively released (1.4.x, 2026), ships manylinux wheels with
its dictionaries inside (no network, no build step here), and converts a report in well under a
millisecond. ``opencc-python-reimplemented`` (pure Python) was the alternative: it installs here
too, but its last release is from 2023 and its dictionaries lag the reference ones.

Config ``tw2s``: Taiwan-standard traditional (and generic traditional) to simplified, with the
Taiwan variant forms folded first (看著 → 看着, 裡 → 里) while 著名 / 顯著 stay 著. Simplified
input comes back unchanged. No idiom conversion (``tw2sp`` would turn 軟體 into 软件 and may
change lengths).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import opencc

_CONFIG = "tw2s"
_local = threading.local()
# Pieces converted on their own when a whole-text conversion changed the length.
_PIECE_RE = re.compile(r"[^，。；！？、：\n,.;!?:]*[，。；！？、：\n,.;!?:]?")
# Only text with a CJK ideograph (or a compatibility one) can change.
_HAN_RE = re.compile("[\u3400-\u9fff\uf900-\ufaff]")


def _converter() -> opencc.OpenCC:
    # One converter per thread: the binding does not promise thread safety.
    conv = getattr(_local, "conv", None)
    if conv is None:
        conv = _local.conv = opencc.OpenCC(_CONFIG)
    return conv


@lru_cache(maxsize=8192)
def _char(ch: str) -> str:
    out = _converter().convert(ch)
    return out if len(out) == 1 else ch


def _same_length(text: str) -> str:
    out = _converter().convert(text)
    if len(out) == len(text):
        return out
    return "".join(_char(ch) for ch in text)  # a phrase rule changed the length: char by char


def to_simplified(text: str) -> str:
    """Simplified copy of ``text`` with ``len(copy) == len(text)`` (offsets stay valid).

    Whole-text conversion keeps OpenCC's phrase rules (乾淨 → 干净 but 乾隆 stays); a piece
    whose conversion would change its length is converted character by character instead.
    """
    if not text or not _HAN_RE.search(text):
        return text
    out = _converter().convert(text)
    if len(out) == len(text):
        return out
    return "".join(_same_length(m.group()) for m in _PIECE_RE.finditer(text) if m.group())


def is_traditional(text: str) -> bool:
    """True when simplifying changes the text (it holds 繁體 characters)."""
    return to_simplified(text) != text
