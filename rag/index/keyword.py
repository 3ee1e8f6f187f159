"""BM25 over jieba tokens (bm25s: sparse matrices, so a query is numpy work, not a
Python loop over the corpus), persisted beside Chroma with the store generation
it was built from so a stale index is detected and rebuilt."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import jieba
import numpy as np

from rag.documents.simplify import to_simplified

jieba.setLogLevel(logging.WARNING)

_TOKEN_OK = re.compile(r"[\w\u4e00-\u9fff]")
# Function words that carry no retrieval signal in these reports.
_STOP = frozenset("的了和与及是在有为对把将等中上下也就都而并或以于之其我一个") | {"我们"}

# Metadata columns kept as numpy arrays so filters are vectorised, not per-chunk Python.
FILTER_KEYS = ("source", "role", "level", "section", "year", "report_title")


def tokenizer_id() -> str:
    """Changes whenever tokenization may: the source of this module and of the simplifier, and
    jieba's version. Token-cache keys include it, so any such change re-tokenizes once."""
    global _TOKENIZER_ID
    if _TOKENIZER_ID is None:
        digest = hashlib.sha256(jieba.__version__.encode())
        for module in (__file__, sys.modules[to_simplified.__module__].__file__ or ""):
            digest.update(Path(module).read_bytes())
        _TOKENIZER_ID = digest.hexdigest()[:16]
    return _TOKENIZER_ID


_TOKENIZER_ID: str | None = None


def tokenize(text: str) -> list[str]:
    """jieba search-mode tokens of the simplified text: 繁體 chunks and queries meet the same
    tokens as 简体 ones (jieba's dictionary is simplified, so it also segments them better)."""
    return [
        t.lower()
        for t in jieba.lcut_for_search(to_simplified(text))
        if t.strip() and _TOKEN_OK.search(t) and t not in _STOP
    ]


@dataclass(frozen=True)
class _Snapshot:
    """Everything a query reads, swapped as one reference so a concurrent rebuild
    can never pair a new BM25 matrix with old ids."""

    bm25: bm25s.BM25 | None
    ids: np.ndarray
    columns: dict[str, np.ndarray]
    generation: int | None


_EMPTY = _Snapshot(None, np.array([], dtype=object), {}, None)


class KeywordIndex:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._snap = _EMPTY
        self._version: str | None = None  # the CURRENT folder loaded

    @property
    def generation(self) -> int | None:
        return self._snap.generation

    @property
    def ids(self) -> list[str]:
        return self._snap.ids.tolist()

    # -- build / persist --------------------------------------------------------
    # Layout: <dir>/CURRENT names the live version folder <dir>/g<generation>-<n>/. A writer
    # builds a new folder, then swaps CURRENT atomically (os.replace); readers in other
    # processes always see a complete version, never a half-written one.
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
        """``tokens``: the texts' tokens when the caller has them (the store's token cache)."""
        bm25 = None
        if chunk_ids:
            bm25 = bm25s.BM25()
            corpus = [list(t) for t in tokens] if tokens is not None else [tokenize(t) for t in texts]
            bm25.index(corpus, show_progress=False)
        columns = {k: [m.get(k) for m in meta] for k in FILTER_KEYS}
        if save:
            self._save(bm25, list(chunk_ids), columns, generation)
        self._set(bm25, list(chunk_ids), columns, generation)

    def _save(self, bm25: bm25s.BM25 | None, ids: list[str], columns: dict, generation: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"g{generation}-{uuid.uuid4().hex[:8]}"
        tmp = self.directory / f"{name}.tmp"
        tmp.mkdir()
        if bm25 is not None:
            bm25.save(tmp / "bm25", show_progress=False)
        rows = {"generation": generation, "ids": ids, "columns": columns}
        (tmp / "rows.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        tmp.rename(self.directory / name)
        pointer = self.directory / "CURRENT.tmp"
        pointer.write_text(name, encoding="utf-8")
        os.replace(pointer, self.directory / "CURRENT")
        self._version = name
        # Keep the previous version a little longer for a reader that is loading it.
        versions = sorted(
            (p for p in self.directory.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime
        )
        for old in versions[:-2]:
            shutil.rmtree(old, ignore_errors=True)

    def current_version(self) -> str | None:
        try:
            return (self.directory / "CURRENT").read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def load(self) -> bool:
        """Load the live version; False when there is none yet."""
        for _attempt in range(5):
            version = self.current_version()
            if version is None:
                return False
            if version == self._version:
                return True
            folder = self.directory / version
            try:
                rows = json.loads((folder / "rows.json").read_text(encoding="utf-8"))
                bm25 = bm25s.BM25.load(folder / "bm25", show_progress=False) if rows["ids"] else None
            except FileNotFoundError:
                continue  # a writer swapped versions while we read: read CURRENT again
            self._set(bm25, rows["ids"], rows["columns"], rows["generation"])
            self._version = version
            return True
        return False

    def _set(
        self, bm25: bm25s.BM25 | None, ids: list[str], columns: Mapping[str, list], generation: int
    ) -> None:
        cols = {k: np.array(v, dtype=object) for k, v in columns.items()}
        self._snap = _Snapshot(bm25, np.array(ids, dtype=object), cols, generation)

    def __len__(self) -> int:
        return len(self._snap.ids)

    # -- query --------------------------------------------------------------------
    @staticmethod
    def _mask(snap: _Snapshot, where: Mapping[str, object] | None) -> np.ndarray | None:
        if not where:
            return None
        mask = np.ones(len(snap.ids), dtype=bool)
        for key, value in where.items():
            column = snap.columns.get(key)
            if column is None:
                raise KeyError(key)
            mask &= column == value
        return mask

    def search(
        self, query: str, n: int, where: Mapping[str, object] | None = None
    ) -> list[tuple[str, float]]:
        snap = self._snap
        if snap.bm25 is None or n <= 0:
            return []
        vocab = snap.bm25.vocab_dict
        token_ids = [vocab[t] for t in tokenize(query) if t in vocab]
        if not token_ids:
            return []
        scores = snap.bm25.get_scores_from_ids(token_ids)
        mask = self._mask(snap, where)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(str(snap.ids[i]), float(scores[i])) for i in top if scores[i] > 0]
