"""Hybrid retrieval: dense (Chroma) + BM25 (jieba) candidates, fused by the tuned combiner of
rag/fusion.py (query-understanding boosts from rag/query.py) or plain RRF, with metadata filters
and near-duplicate removal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rag.documents.simplify import to_simplified
from rag.fusion import Candidate, Fusion, feature_matrix, fuse_scores, load_fusion
from rag.index.index import Index
from rag.index.keyword import FILTER_KEYS
from rag.query import EMPTY_VOCABULARY, QueryIntent, corpus_vocabulary, load_terms, understand
from rag.schema import Passage
from rag.settings import Settings


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


def check_query(query: str, k: int) -> str:
    query = query.strip()
    if not query:
        raise QueryError("查询为空：请输入要检索的内容")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"查询过长（{len(query)} 字）：请控制在 {MAX_QUERY_CHARS} 字以内")
    if not 1 <= k <= MAX_K:
        raise QueryError(f"-k 应在 1 到 {MAX_K} 之间，收到 {k}")
    return query


def search_text(settings: Settings, query: str) -> str:
    """The text the keyword leg searches with. Chunks are tokenized in simplified characters, so
    the query is too; with query understanding it also carries the report wording of its
    colloquial phrases."""
    if settings.query_understanding:
        return understand(query, load_terms(settings)).keyword_query
    return to_simplified(query)


def dense_text(query: str) -> str:
    """The text the dense leg embeds: the question itself, simplified (chunks are embedded in
    simplified characters). Not the expanded keyword text: with the refit fusion the tuning
    parts rank as well (rag/data/fusion.yaml), and the expanded text is up to 2–3 times longer,
    which the query embedding's time grows with."""
    return to_simplified(query.strip())


@dataclass(frozen=True)
class Candidates:
    """Everything fusion reads for one query: the union of both retrievers' lists."""

    intent: QueryIntent | None
    items: list[Candidate]
    dense: dict[str, float]
    keyword: dict[str, float]
    fusion: Fusion
    features: object  # np.ndarray of FEATURES per item (None for plain RRF)


def candidates(
    index: Index,
    query: str,
    n: int,
    where: Mapping[str, object] | None = None,
    intent: QueryIntent | None = None,
) -> Candidates:
    """Dense and keyword top-``n`` for ``query`` (a validated query), with their fusion features.
    ``intent`` (e.g. a follow-up's, with inherited entities) replaces the one read from ``query``."""
    settings = index.settings
    fusion = load_fusion(settings)
    vocab = EMPTY_VOCABULARY
    if not settings.query_understanding:
        intent = None
    if settings.query_understanding and fusion.method == "learned":
        terms = load_terms(settings)
        vocab = corpus_vocabulary(index, terms)
        intent = intent or understand(query, terms, vocab)
    elif settings.query_understanding:
        intent = intent or understand(query, load_terms(settings))
    text = intent.keyword_query if intent else to_simplified(query)  # == search_text(settings, query)
    dense = index.dense_search(dense_text(query), n, where)
    keyword = index.keyword_search(text, n, where)
    dense_rank = {cid: r for r, (cid, _) in enumerate(dense, 1)}
    keyword_rank = {cid: r for r, (cid, _) in enumerate(keyword, 1)}
    ids = list(dict.fromkeys([*dense_rank, *keyword_rank]))
    chunks = index.store.chunks_by_ids(ids)
    items = [
        Candidate(chunks[cid], dense_rank.get(cid), keyword_rank.get(cid)) for cid in ids if cid in chunks
    ]  # a chunk removed between the reads is skipped
    features = (
        feature_matrix(items, intent, vocab, fusion.rank_k) if fusion.method == "learned" and items else None
    )
    return Candidates(intent, items, dict(dense), dict(keyword), fusion, features)


def hybrid_search(
    index: Index,
    query: str,
    *,
    k: int = 5,
    where: Mapping[str, object] | None = None,
    dedupe_threshold: float = 0.85,
    intent: QueryIntent | None = None,
) -> list[Passage]:
    query = check_query(query, k)
    where = validate_where(where)
    n = max(index.settings.candidates, k * 4)
    found = candidates(index, query, n, where, intent)
    if not found.items:
        return []
    scores = fuse_scores(found.fusion, found.items, found.features)
    order = sorted(range(len(found.items)), key=lambda i: -scores[i])

    kept: list[Passage] = []
    kept_grams: list[set[str]] = []
    for i in order:
        cand = found.items[i]
        chunk = cand.chunk
        grams = _bigrams(chunk.text)
        if any(_near_duplicate(grams, g, dedupe_threshold) for g in kept_grams):
            continue
        extra = {}
        if chunk.chunk_id in found.dense:
            extra["dense_similarity"] = found.dense[chunk.chunk_id]
        if chunk.chunk_id in found.keyword:
            extra["bm25"] = found.keyword[chunk.chunk_id]
        kept.append(Passage(chunk, float(scores[i]), cand.dense_rank, cand.keyword_rank, extra))
        kept_grams.append(grams)
        if len(kept) == k:
            break
    return kept
