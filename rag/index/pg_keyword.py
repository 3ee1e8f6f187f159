"""Keyword search on PostgreSQL: the chunk rows' jieba ``tsvector`` (rag.index.pg_store) under a GIN
index, and BM25 postings (term, chunk, tf) derived from it in the same transaction; ranked by BM25
computed in SQL (bm25s' formula and defaults; ``RAG_PG_RANK=ts_rank_cd`` ranks by cover density
instead, measured worse: docs/SCALING.md); metadata filters are plain column conditions.

It has the embedded ``KeywordIndex``'s reading surface (``search``, ``ids``, ``generation``, ``len``,
``load``, ``build``) but nothing to build: each chunk row is indexed in the transaction that writes
it, so the index is always at the store's generation and an ingest never re-tokenizes the corpus.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

from rag.index.keyword import FILTER_KEYS, tokenize
from rag.index.pg_store import PgStore, query_terms, tsquery_literal

# ts_rank_cd normalization: 1 divides by 1 + log(document length).
RANK_NORMALIZATION = 1
K1, B = 1.5, 0.75  # bm25s' defaults
RANKS = ("bm25", "ts_rank_cd")


class PgKeywordIndex:
    backend = "postgres"

    def __init__(self, store: PgStore, rank: str = "bm25") -> None:
        if rank not in RANKS:
            raise ValueError(f"RAG_PG_RANK={rank!r}: use one of {', '.join(RANKS)}")
        self.store = store
        self.rank = rank
        self._corpus: tuple[int, int, float] | None = None

    @property
    def generation(self) -> int | None:
        return self.store.generation

    @property
    def ids(self) -> list[str]:
        return self.store.chunk_ids()

    def __len__(self) -> int:
        return self.store.counts()["chunks"]

    def load(self) -> bool:
        return True

    def build(
        self,
        chunk_ids: Sequence[str],
        texts: Sequence[str],
        meta: Sequence[Mapping],
        generation: int,
        *,
        save: bool = True,
        tokens: Sequence[Sequence[str]] | None = None,
    ) -> None:
        """Nothing to do: rows are indexed as they are written."""

    def sync(self, generation: int, stamps: Mapping[str, str], read: object, **_: object) -> str:
        """Nothing to do: the index is always at the store's generation."""
        return "delta"

    def _stats(self) -> tuple[int, float]:
        """(chunks, mean length in tokens), cached per store generation."""
        generation = self.store.generation
        if self._corpus is None or self._corpus[0] != generation:
            n, avgdl = self.store._q("SELECT COUNT(*), COALESCE(AVG(dl), 0) FROM chunks")[0]
            self._corpus = (generation, int(n), float(avgdl) or 1.0)
        return self._corpus[1], self._corpus[2]

    def search(
        self, query: str, n: int, where: Mapping[str, object] | None = None
    ) -> list[tuple[str, float]]:
        if n <= 0:
            return []
        terms = query_terms(query)
        if not terms:
            return []
        conds, args = [], []
        for key, value in (where or {}).items():
            if key not in FILTER_KEYS:
                raise KeyError(key)
            if value is None:
                conds.append(f"c.{key} IS NULL")
            else:
                conds.append(f"c.{key} = %s")
                args.append(value)
        if self.rank == "ts_rank_cd":
            sql = (
                f"SELECT chunk_id, ts_rank_cd(tsv, q, {RANK_NORMALIZATION}) AS score "
                f"FROM chunks c, CAST(%s AS tsquery) AS q WHERE {' AND '.join(['c.tsv @@ q', *conds])} "
                "ORDER BY score DESC, id LIMIT %s"
            )
            rows = self.store._q(sql, [tsquery_literal(query), *args, n])
            return [(cid, float(score)) for cid, score in rows if score > 0]
        total, avgdl = self._stats()
        # BM25 as bm25s computes it by default (Lucene's idf; a repeated query token counts again).
        # The document frequencies come first, in their own query (an index-only scan of the
        # postings' primary key), and go back in as a literal table: computed inside one statement,
        # the planner guessed thousands of terms and scanned every posting (EXPLAIN ANALYZE at
        # 10k chunks: a parallel seq scan of 808k postings, 347 ms, for 25k relevant ones).
        times = Counter(t for t in tokenize(query) if t in terms)
        df = dict(
            self.store._q("SELECT term, COUNT(*) FROM postings WHERE term = ANY(%s) GROUP BY term", (terms,))
        )
        if not df:
            return []
        found = sorted(df)
        idf = [math.log(1 + (total - df[t] + 0.5) / (df[t] + 0.5)) * times[t] for t in found]
        # The sum runs over the postings alone (chunk length is in them); chunks are joined for
        # the filters, or for the ids of the top n only.
        score = "SUM(q.idf * p.tf / (p.tf + %s * (1 - %s + %s * p.dl / %s)))"
        head = "WITH q(term, idf) AS (SELECT * FROM unnest(%s::text[], %s::float8[])) "
        # Ties (the same text in two chunks) go by chunk id, as in the embedded index, so both
        # backends return the same top n: every chunk scoring at least the n-th is ordered.
        if conds:
            sql = (
                f"{head}SELECT c.chunk_id, {score} AS score FROM q JOIN postings p ON p.term = q.term "
                f"JOIN chunks c ON c.id = p.chunk WHERE {' AND '.join(conds)} "
                "GROUP BY c.id ORDER BY score DESC, c.chunk_id LIMIT %s"
            )
            params = [found, idf, K1, B, B, avgdl, *args, n]
        else:
            # The chunks scoring at least the n-th, by serial id; their chunk ids in a second query
            # (joined in one statement, the planner hashed the whole chunks table).
            sql = (
                f"{head}, agg AS (SELECT p.chunk, {score} AS score FROM q JOIN postings p ON p.term = q.term "
                "GROUP BY p.chunk), kth AS (SELECT score FROM agg ORDER BY score DESC LIMIT 1 OFFSET %s) "
                "SELECT chunk, score FROM agg WHERE score >= COALESCE((SELECT score FROM kth), 0)"
            )
            top = dict(self.store._q(sql, [found, idf, K1, B, B, avgdl, n - 1]))
            names = self.store._q("SELECT id, chunk_id FROM chunks WHERE id = ANY(%s)", (list(top),))
            ranked = sorted(((float(top[i]), cid) for i, cid in names), key=lambda x: (-x[0], x[1]))
            return [(cid, score) for score, cid in ranked[:n] if score > 0]
        rows = self.store._q(sql, params)
        return [(cid, float(score)) for cid, score in rows if score > 0]
