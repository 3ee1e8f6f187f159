"""Fusion of the dense and keyword candidates into one ranking: a small linear combiner whose
weights are tuned on a dev set (``rag/data/fusion.yaml``), or plain reciprocal-rank fusion.

Features of a candidate chunk (each in [0, 1]):

- ``dense`` / ``keyword``: its rank in each list as ``(k+1)/(k+rank)`` (1 at rank 1, 0 if absent);
- ``report_dense`` / ``report_keyword``: the same for the best-ranked chunk of its *report*
  among the candidates (a report about the question's subject lifts its other passages: the
  place may be named in one paragraph and the figure asked for in another);
- ``role_exact`` / ``role_partial``: the question names the chunk's role (党委书记 = 党委书记), or
  one containing the other (党委书记 / 镇党委书记);
- ``year``, ``place`` (its report mentions a place the question names), ``section`` (问题/打算 …
  words in the question and the chunk's section kind), ``unit`` (the question asks 多少天 / 几位 /
  多少钱 … and the chunk holds a figure in that unit), ``figure`` (the question asks for a figure
  in any unit, 几轮 / 多少 …, and the chunk holds one: an intro or closing line holds none),
  ``total`` (the question asks for a sum, 加起来 / 一共, and the chunk states one: 合计 / 累计 /
  共 … shortly before a figure), ``body`` (a question naming no section prefers the 履职 part:
  that is where reports state what was done), ``length`` (the square root of the chunk's
  length up to ``FULL_LENGTH`` characters, as a share: BM25 favours one-line intros and
  closings, which rarely answer anything, but a short line stating the figure asked for often
  does; the root penalises 60 characters by 0.55 instead of 0.8, which refitted on the tuning
  parts ranks as well and gives the ask suite its MRR 1.0 back).

The query features are soft boosts: a report that matches none of them still ranks on the two
retrievers. ``Settings.fusion = "rrf"`` restores plain RRF with ``Settings.rrf_k``;
``Settings.fusion_file`` replaces the packaged weights and ``Settings.fusion_weights`` overrides
single ones (``RAG_FUSION_WEIGHTS='{"place": 0.5}'``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from rag.query import CorpusVocabulary, QueryIntent
from rag.schema import Chunk
from rag.settings import Settings

FUSION_FILE = Path(__file__).resolve().parent / "data" / "fusion.yaml"
FEATURES = (
    "dense",
    "keyword",
    "report_dense",
    "report_keyword",
    "role_exact",
    "role_partial",
    "year",
    "place",
    "section",
    "unit",
    "figure",
    "total",
    "body",
    "length",
)
RANK_KS = ("dense", "keyword", "report")
FULL_LENGTH = 300  # characters; measured on the dev set: 100–500 all help, 300 most
METHODS = ("learned", "rrf")


class FusionError(ValueError):
    """A fusion file or setting that cannot be used, with what to fix."""


@dataclass(frozen=True)
class Fusion:
    method: str
    weights: Mapping[str, float]
    rank_k: Mapping[str, float]
    rrf_k: float
    source: str

    def describe(self) -> dict:
        return {
            "method": self.method,
            "weights": dict(self.weights),
            "rank_k": dict(self.rank_k),
            "rrf_k": self.rrf_k,
            "source": self.source,
        }


@lru_cache(maxsize=8)
def _read(path: str, _mtime: float) -> tuple[dict[str, float], dict[str, float]]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise FusionError(
            f"融合权重文件 {path} 不存在：检查 RAG_FUSION_FILE，或删去它以使用内置权重"
        ) from None
    weights = data.get("weights") or {}
    rank_k = data.get("rank_k") or {}
    unknown = (set(weights) - set(FEATURES)) | (set(rank_k) - set(RANK_KS))
    if unknown:
        raise FusionError(
            f"融合权重文件 {path} 有未知项 {sorted(unknown)}：特征可用 {', '.join(FEATURES)}；"
            f"rank_k 可用 {', '.join(RANK_KS)}"
        )
    return {k: float(v) for k, v in weights.items()}, {k: float(v) for k, v in rank_k.items()}


def load_fusion(settings: Settings) -> Fusion:
    method = getattr(settings, "fusion", "learned")
    if method not in METHODS:
        raise FusionError(f"RAG_FUSION={method!r} 无效：可用 {' / '.join(METHODS)}")
    path = Path(getattr(settings, "fusion_file", None) or FUSION_FILE)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        mtime = -1.0
    weights, rank_k = _read(str(path), mtime)
    overrides = dict(getattr(settings, "fusion_weights", None) or {})
    unknown = set(overrides) - set(FEATURES)
    if unknown:
        raise FusionError(f"RAG_FUSION_WEIGHTS 有未知特征 {sorted(unknown)}：可用 {', '.join(FEATURES)}")
    weights = {f: float(overrides.get(f, weights.get(f, 0.0))) for f in FEATURES}
    rank_k = {k: rank_k.get(k, 60.0) for k in RANK_KS}
    return Fusion(method, weights, rank_k, float(settings.rrf_k), str(path))


@dataclass(frozen=True)
class Candidate:
    chunk: Chunk
    dense_rank: int | None
    keyword_rank: int | None


@lru_cache(maxsize=1024)
def _traditional(text: str) -> str:
    import opencc

    return _s2t(opencc).convert(text)


@lru_cache(maxsize=1)
def _s2t(opencc):  # one converter: building one costs tens of milliseconds
    return opencc.OpenCC("s2t")


@lru_cache(maxsize=256)
def _unit_pattern(units: tuple[str, ...]) -> re.Pattern[str]:
    """A figure in one of the units, in 简体 or 繁體 (畝, 戶, 萬 …): chunk texts are matched as
    stored, which is cheaper than a simplified copy of every candidate per query. A rounding word
    may stand between the figure and its unit (2000余米, 1.2万多亩, 1100多人次)."""
    forms = {f for u in units for f in (u, _traditional(u))}
    alts = "|".join(re.escape(u) for u in sorted(forms, key=len, reverse=True))
    return re.compile(
        rf"(?:[0-9０-９]|[一二两兩三四五六七八九十百千])[0-9.,０-９]*\s*(?:余|餘|多)?(?:万|萬|亿|億|千)?"
        rf"(?:余|餘|多)?(?:{alts})"
    )


# A figure: digits with a unit or a magnitude after them; not a year or date (2023年, 5月) and not
# a list number (1.种粮).
_FIGURE_RE = re.compile(
    r"(?<![0-9.．])[0-9０-９]+(?:[.．][0-9０-９]+)?\s*(?:[%％万萬亿億千]|(?![年月日号時时])[\u4e00-\u9fff])"
)


@lru_cache(maxsize=64)
def _total_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """A total word (简体 or 繁體) followed within ten characters of one clause by a figure."""
    forms = {f for w in words for f in (w, _traditional(w))}
    alts = "|".join(re.escape(w) for w in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?:{alts})[^，。；,;\n]{{0,10}}?[0-9０-９]")


def _rank_feature(rank: int | None, k: float) -> float:
    return 0.0 if rank is None else (k + 1.0) / (k + rank)


def feature_matrix(
    cands: Sequence[Candidate],
    intent: QueryIntent | None,
    vocab: CorpusVocabulary,
    rank_k: Mapping[str, float],
) -> np.ndarray:
    """One row of FEATURES per candidate."""
    best: dict[tuple[str, int], list[float]] = {}
    for c in cands:
        key = (c.chunk.source, c.chunk.report_index)
        b = best.setdefault(key, [float("inf"), float("inf")])
        if c.dense_rank is not None:
            b[0] = min(b[0], c.dense_rank)
        if c.keyword_rank is not None:
            b[1] = min(b[1], c.keyword_rank)
    roles = set(intent.roles) if intent else set()
    years = set(intent.years) if intent else set()
    sections = set(intent.sections) if intent else set()
    place_reports: set[tuple[str, int]] = set()
    for p in intent.places if intent else ():
        place_reports |= vocab.places.get(p, frozenset())
    unit_re = _unit_pattern(intent.units) if intent and intent.units else None
    total_re = _total_pattern(intent.totals) if intent and intent.totals else None
    quantity = bool(intent and intent.quantity)
    factual = bool(intent) and not sections
    out = np.zeros((len(cands), len(FEATURES)), dtype=np.float64)
    for i, c in enumerate(cands):
        ch = c.chunk
        key = (ch.source, ch.report_index)
        bd, bk = best[key]
        role = ch.role or ""
        exact = role in roles
        partial = not exact and bool(role) and any(r in role or role in r for r in roles)
        out[i] = (
            _rank_feature(c.dense_rank, rank_k["dense"]),
            _rank_feature(c.keyword_rank, rank_k["keyword"]),
            _rank_feature(None if bd == float("inf") else int(bd), rank_k["report"]),
            _rank_feature(None if bk == float("inf") else int(bk), rank_k["report"]),
            float(exact),
            float(partial),
            float(ch.year is not None and ch.year in years),
            float(key in place_reports),
            float(ch.section in sections),
            float(unit_re is not None and unit_re.search(ch.text) is not None),
            float(quantity and _FIGURE_RE.search(ch.text) is not None),
            float(total_re is not None and total_re.search(ch.text) is not None),
            float(factual and ch.section == "履职"),
            (min(len(ch.text), FULL_LENGTH) / FULL_LENGTH) ** 0.5,
        )
    return out


def fuse_scores(fusion: Fusion, cands: Sequence[Candidate], features: np.ndarray | None) -> np.ndarray:
    if fusion.method == "rrf" or features is None:
        return np.array(
            [
                sum(1.0 / (fusion.rrf_k + r) for r in (c.dense_rank, c.keyword_rank) if r is not None)
                for c in cands
            ]
        )
    w = np.array([fusion.weights[f] for f in FEATURES])
    return features @ w
