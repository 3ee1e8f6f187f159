"""OCR output as text: words joined into lines, Tesseract's spacing normalised, and each
character's recognition confidence carried along to the report text and its chunks.

Tesseract's chi_sim/chi_tra models put spaces between Han characters and split figures
("7 . 8 公里", "4 6 户"); chi_tra writes ASCII commas after Han characters. Normalising
before chunking keeps figures and quotes exact: a space survives only between two Latin
words, ,:;?! right after a Han character become their full-width forms, and an O read
where a 。 ends a sentence after a Han character becomes 。 again.

Confidence is a number per character (the word's confidence, 0..1; None for a character
OCR did not produce). After cleaning and splitting (rag.documents.parse), every report gets
``ocr_spans`` (runs of its text with one confidence) and every chunk the mean over its
characters (``span_confidence``).
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Citations show it; the checks do not trust a figure read below it (Settings.ocr_min_confidence,
# RAG_OCR_MIN_CONFIDENCE, defaults to it; ``rag check`` reads the setting).
LOW_CONFIDENCE = 0.80
# A page with fewer characters read with some confidence holds no text (a photo, a blank scan).
MIN_TEXT_CHARS = 4
# Words Tesseract gives (almost) no confidence are ghosts (a "和" read into a gap).
_GHOST_CONFIDENCE = 5.0
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef\u2014-\u201d\u2026]")
_IDEOGRAPH = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_FULL_WIDTH = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！"}


@dataclass
class OcrText:
    """Text with one confidence per character (None: not from OCR, e.g. a text layer)."""

    text: str = ""
    conf: list[float | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.conf:
            self.conf = [None] * len(self.text)
        assert len(self.conf) == len(self.text)

    def __add__(self, other: OcrText) -> OcrText:
        return OcrText(self.text + other.text, self.conf + other.conf)

    @classmethod
    def plain(cls, text: str) -> OcrText:
        return cls(text, [None] * len(text))

    @classmethod
    def join(cls, parts: Sequence[OcrText], sep: str = "\n") -> OcrText:
        out = cls()
        for i, part in enumerate(parts):
            if i:
                out = out + cls.plain(sep)
            out = out + part
        return out

    def mean(self) -> float | None:
        values = [c for c in self.conf if c is not None]
        return round(sum(values) / len(values), 3) if values else None

    def confident_chars(self, floor: float = 0.5) -> int:
        """Characters recognised with at least ``floor`` confidence (a picture with no text
        yields none, or only a few uncertain ones)."""
        return sum(
            1
            for ch, c in zip(self.text, self.conf, strict=True)
            if c is not None and c >= floor and ch.isalnum()
        )


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _keeps_space(before: str, after: str) -> bool:
    """A space stays only between Latin words (Word 文档 → Word文档, 7 . 8 → 7.8, 4 6 → 46)."""
    return _latin(before) and _latin(after) and (before.isalpha() or after.isalpha())


def _ends_sentence(text: str, pos: int) -> bool:
    """What follows a 。: the line's end, a space, or the next sentence's Han character."""
    return pos >= len(text) or text[pos].isspace() or bool(_IDEOGRAPH.match(text[pos]))


def normalise_map(text: str) -> tuple[str, list[int]]:
    """Normalised text and, for each of its characters, the index it came from in ``text``."""
    out: list[str] = []
    source: list[int] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch in " \t\u3000":
            j = i
            while j < n and text[j] in " \t\u3000":
                j += 1
            before = out[-1] if out else ""
            after = text[j] if j < n else ""
            if before and after and after != "\n" and before != "\n" and _keeps_space(before, after):
                out.append(" ")
                source.append(i)
            i = j
            continue
        if ch in _FULL_WIDTH and out and _HAN.match(out[-1]):
            ch = _FULL_WIDTH[ch]
        elif ch in "Oo" and out and _IDEOGRAPH.match(out[-1]) and _ends_sentence(text, i + 1):
            ch = "。"  # chi_sim reads a full stop after a Han character as a Latin O
        out.append(ch)
        source.append(i)
        i += 1
    return "".join(out), source


def normalise_ocr_text(text: str) -> str:
    """Tesseract's spacing removed (see the module docstring); figures come out whole."""
    return normalise_map(text)[0]


def normalise(piece: OcrText) -> OcrText:
    text, source = normalise_map(piece.text)
    return OcrText(text, [piece.conf[i] for i in source])


def lines_from_data(data: Mapping[str, Sequence]) -> list[OcrText]:
    """Lines of a page from pytesseract's ``image_to_data`` dict, in reading order, each
    normalised, each character carrying its word's confidence (0..1)."""
    lines: dict[tuple[int, int, int], list[tuple[str, float]]] = {}
    for i, word in enumerate(data["text"]):
        word = str(word).strip()
        conf = float(data["conf"][i])
        if not word or conf < _GHOST_CONFIDENCE:  # -1: not a word; 0: a ghost
            continue
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        lines.setdefault(key, []).append((word, min(conf, 100.0) / 100.0))
    out = []
    for words in lines.values():
        line = OcrText()
        for word, conf in words:
            if line.text:
                line = line + OcrText.plain(" ")
            line = line + OcrText(word, [conf] * len(word))
        line = normalise(line)
        if line.text.strip():
            out.append(line)
    return out


# -- from the raw text to the report text ------------------------------------------------


def _visible(text: str) -> tuple[str, list[int]]:
    idx = [i for i, ch in enumerate(text) if not ch.isspace()]
    return "".join(text[i] for i in idx), idx


def _match_blocks(a: str, b: str) -> list[tuple[int, int, int]]:
    """(i, j, n) blocks where a[i:i+n] == b[j:j+n]: line by line, exact (cleaning keeps OCR
    lines whole), and difflib only between the anchors where something was dropped."""
    if a == b:
        return [(0, 0, len(a))]
    blocks: list[tuple[int, int, int]] = []
    i = j = 0
    gap_i, gap_j = 0, 0
    segment = 24  # anchor on pieces of this size: long enough to be unique nearby
    while i < len(a):
        piece = a[i : i + segment]
        window = b[j : j + len(piece) + 400]
        pos = window.find(piece) if len(piece) >= 8 or i + len(piece) == len(a) else -1
        if pos < 0:
            i += len(piece)
            continue
        start_j = j + pos
        if (gap_i, gap_j) != (i, start_j):
            blocks += _diff(a, b, gap_i, i, gap_j, start_j)
        blocks.append((i, start_j, len(piece)))
        i += len(piece)
        j = start_j + len(piece)
        gap_i, gap_j = i, j
    blocks += _diff(a, b, gap_i, len(a), gap_j, len(b))
    return blocks


def _diff(a: str, b: str, i0: int, i1: int, j0: int, j1: int) -> list[tuple[int, int, int]]:
    if i0 >= i1 or j0 >= j1:
        return []
    matcher = difflib.SequenceMatcher(None, a[i0:i1], b[j0:j1], autojunk=False)
    return [(i0 + m.a, j0 + m.b, m.size) for m in matcher.get_matching_blocks() if m.size]


def align_confidence(raw: OcrText, target: str) -> list[float | None]:
    """The confidence of each character of ``target`` (a text cleaned from ``raw.text``):
    whitespace and characters cleaning added get None."""
    a, a_idx = _visible(raw.text)
    b, b_idx = _visible(target)
    out: list[float | None] = [None] * len(target)
    for i, j, n in _match_blocks(a, b):
        for k in range(n):
            out[b_idx[j + k]] = raw.conf[a_idx[i + k]]
    return out


def confidence_spans(conf: Sequence[float | None]) -> tuple[tuple[int, int, float], ...]:
    """Runs (start, end, confidence) of equal confidence; characters without one are left out."""
    spans: list[tuple[int, int, float]] = []
    for pos, c in enumerate(conf):
        if c is None:
            continue
        c = round(c, 3)
        if spans and spans[-1][1] == pos and spans[-1][2] == c:
            spans[-1] = (spans[-1][0], pos + 1, c)
        else:
            spans.append((pos, pos + 1, c))
    return tuple(spans)


def report_spans(raw: OcrText, texts: Sequence[str]) -> list[tuple[tuple[int, int, float], ...]]:
    """``ocr_spans`` for each report text cut from the cleaned ``raw`` text (in order)."""
    joined = "\n".join(texts)
    conf = align_confidence(raw, joined)
    out, pos = [], 0
    for text in texts:
        out.append(confidence_spans(conf[pos : pos + len(text)]))
        pos += len(text) + 1
    return out


def span_confidence(spans: Sequence[tuple[int, int, float]], start: int, end: int) -> float | None:
    """Mean confidence over the OCR-read characters of text[start:end] (None: none were)."""
    if not spans:
        return None
    first = max(0, bisect.bisect_right([s[1] for s in spans], start))
    total = weight = 0.0
    for s, e, c in spans[first:]:
        if s >= end:
            break
        n = min(e, end) - max(s, start)
        if n > 0:
            total += c * n
            weight += n
    return round(total / weight, 3) if weight else None


def figure_confidence(spans: Sequence[tuple[int, int, float]], start: int, end: int) -> float | None:
    """The OCR confidence of a figure standing at text[start:end]: the mean over its characters,
    each carrying the confidence of the Tesseract word it came from (so "7 . 8" read as three
    words weighs each); None when no character of it was read by OCR (a text layer, a file)."""
    return span_confidence(spans, start, end)


def is_low(confidence: float | None, floor: float = LOW_CONFIDENCE) -> bool:
    """Read by OCR with less confidence than ``floor``: flagged by the checks, not trusted."""
    return confidence is not None and confidence < floor
