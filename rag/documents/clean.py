"""Cleaning: line breaks, paywall markers, invisible characters; counting redaction marks."""

from __future__ import annotations

import re

_MARKER_RE = re.compile(r"##[A-Za-z][A-Za-z0-9_]{0,30}##")  # ##paidbegin## / ##paidend## and kin
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\x00-\x08\x0e-\x1f\x7f]")
_LINE_BREAKS_RE = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_REDACTION_RE = re.compile(r"[*＊]+|(?<![A-Za-z])[XxＸｘ]+(?![A-Za-z])|(?<!\d)×+(?!\d)")


def clean_text(text: str) -> str:
    """Normalize breaks, drop paywall markers and invisible chars; keep redaction marks."""
    text = _LINE_BREAKS_RE.sub("\n", text)
    text = _MARKER_RE.sub("", text)
    text = _INVISIBLE_RE.sub("", text)
    # str.strip() also removes NBSP and the full-width space used for indents.
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")


def count_redactions(text: str) -> int:
    """Runs of * and X/x (not inside a Latin word): each stands for a removed name or figure."""
    return len(_REDACTION_RE.findall(text))
