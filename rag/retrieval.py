"""Hybrid retrieval: dense (Chroma) + BM25 (jieba) fused by reciprocal rank,
with metadata filters and near-duplicate removal."""

from __future__ import annotations

from collections.abc import Mapping

from rag.documents.simplify import to_simplified
from rag.index.index import Index
from rag.index.keyword import FILTER_KEYS
from rag.schema import Passage


class QueryError(ValueError):
    """A bad query or filter, with a message that says how to fix it."""


MAX_QUERY_CHARS = 2000
MAX_K = 100
_INT_KEYS = frozenset({"year"})


def parse_where(pairs: list[str] | None) -> dict[str, object]:
    """``["role=乡长", "year=2023"]`` → filter dict, validated against known keys."""
    where: dict[str, object] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise QueryError(f"过滤条件 {pair!r} 格式不对：应为 key=value，例如 role=乡长")
        where[key] = value
    return validate_where(where)


def validate_where(where: Mapping[str, object] | None) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in (where or {}).items():
        if key not in FILTER_KEYS:
            raise QueryError(f"不支持的过滤字段 {key!r}：可用 {', '.join(FILTER_KEYS)}")
        if key in _INT_KEYS:
            try:
                value = int(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise QueryError(f"过滤字段 {key} 需要整数，收到 {value!r}") from None
        out[key] = value
    return out


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _near_duplicate(a: set[str], b: set[str], threshold: float) -> bool:
    if not a or not b:
        return False
    return len(a & b) / len(a | b) >= threshold


def hybrid_search(
    index: Index,
    query: str,
    *,
    k: int = 5,
    where: Mapping[str, object] | None = None,
    dedupe_threshold: float = 0.85,
) -> list[Passage]:
    query = query.strip()
    if not query:
        raise QueryError("查询为空：请输入要检索的内容")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"查询过长（{len(query)} 字）：请控制在 {MAX_QUERY_CHARS} 字以内")
    if not 1 <= k <= MAX_K:
        raise QueryError(f"-k 应在 1 到 {MAX_K} 之间，收到 {k}")
    where = validate_where(where)
    settings = index.settings
    n = max(settings.candidates, k * 4)

    # Chunks are embedded and tokenized in simplified characters: the query is too.
    normalized = to_simplified(query)
    dense = index.dense_search(normalized, n, where)
    keyword = index.keyword_search(normalized, n, where)

    fused: dict[str, float] = {}
    dense_rank: dict[str, int] = {}
    keyword_rank: dict[str, int] = {}
    for rank, (cid, _sim) in enumerate(dense, 1):
        dense_rank[cid] = rank
        fused[cid] = fused.get(cid, 0.0) + 1.0 / (settings.rrf_k + rank)
    for rank, (cid, _score) in enumerate(keyword, 1):
        keyword_rank[cid] = rank
        fused[cid] = fused.get(cid, 0.0) + 1.0 / (settings.rrf_k + rank)

    ranked = sorted(fused, key=lambda cid: fused[cid], reverse=True)[: k * 3]
    chunks = index.store.chunks_by_ids(ranked)
    dense_sim = dict(dense)
    keyword_score = dict(keyword)

    kept: list[Passage] = []
    kept_grams: list[set[str]] = []
    for cid in ranked:
        chunk = chunks.get(cid)
        if chunk is None:  # removed between the two reads
            continue
        grams = _bigrams(chunk.text)
        if any(_near_duplicate(grams, g, dedupe_threshold) for g in kept_grams):
            continue
        extra = {}
        if cid in dense_sim:
            extra["dense_similarity"] = dense_sim[cid]
        if cid in keyword_score:
            extra["bm25"] = keyword_score[cid]
        kept.append(Passage(chunk, fused[cid], dense_rank.get(cid), keyword_rank.get(cid), extra))
        kept_grams.append(grams)
        if len(kept) == k:
            break
    return kept
