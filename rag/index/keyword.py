"""Keyword search: BM25 over jieba tokens (rag.index.bm25: sparse postings, so a query is numpy
work, not a Python loop over the corpus), persisted beside Chroma with the store generation it
was built from so a stale index is detected and brought up to date.

Incremental: a main segment plus one small delta segment, and the main's sources that are dead
(replaced or removed since). A writer compares the store's document stamps with the segments',
re-reads only the changed documents into a new delta, and rebuilds everything into one main only
when delta and dead rows outgrow ``compact_limit``. Scores are computed at query time over the
live rows, so they equal those of an index built from scratch."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jieba
import numpy as np

from rag.documents.simplify import to_simplified
from rag.index.bm25 import Scorer, Segment, build_segment, load_segment, save_segment

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


# read(sources): chunk ids, tokens and filter columns of those documents' chunks (None: all), in
# store order; given by rag.index.index, which owns the store and the token cache.
Rows = tuple[list[str], list[list[str]], dict[str, list]]
Reader = Callable[[Sequence[str] | None], Rows]


def compact_limit(main_rows: int) -> int:
    """Delta plus dead rows allowed beside a main of ``main_rows`` before one rebuild: a delta is
    re-read on every ingest, so it stays small (≤ 20k rows); a rebuild costs O(corpus)."""
    return max(2_000, min(20_000, main_rows // 10))


@dataclass(frozen=True)
class _Snapshot:
    """Everything a query reads, swapped as one reference so a concurrent update can never
    pair new postings with old ids."""

    main: Segment | None = None
    delta: Segment | None = None
    dead_sources: frozenset[str] = frozenset()  # the main's sources no longer live
    generation: int | None = None
    ids: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    live: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    scorer: Scorer | None = None

    @staticmethod
    def of(main: Segment | None, delta: Segment | None, dead: frozenset[str], generation: int) -> _Snapshot:
        segments = [s for s in (main, delta) if s is not None and len(s)]
        if not segments:
            return _Snapshot(main, delta, dead, generation)
        main_dead = np.zeros(0, dtype=bool)
        if main is not None and len(main):
            main_dead = np.fromiter((s in dead for s in main.columns["source"]), bool, len(main))
        dead_rows = np.concatenate([main_dead, np.zeros(len(delta) if delta else 0, dtype=bool)])
        return _Snapshot(
            main,
            delta,
            dead,
            generation,
            ids=np.concatenate([s.ids for s in segments]),
            columns={k: np.concatenate([s.columns[k] for s in segments]) for k in FILTER_KEYS},
            live=~dead_rows,
            scorer=Scorer(segments, dead_rows),
        )

    def live_stamps(self) -> dict[str, str]:
        out = {
            s: st for s, st in (self.main.stamps if self.main else {}).items() if s not in self.dead_sources
        }
        out.update(self.delta.stamps if self.delta else {})
        return out


_EMPTY = _Snapshot()


def _segment(ids: Sequence[str], tokens: Sequence[Sequence[str]], columns: Mapping[str, Sequence],
             stamps: Mapping[str, str]) -> Segment:  # fmt: skip
    full = {k: list(columns.get(k, [None] * len(ids))) for k in FILTER_KEYS}
    return build_segment(f"s-{uuid.uuid4().hex[:12]}", ids, tokens, full, stamps)


class KeywordIndex:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._snap = _EMPTY
        self._version: str | None = None  # the CURRENT version loaded

    @property
    def generation(self) -> int | None:
        return self._snap.generation

    @property
    def ids(self) -> list[str]:
        return self._snap.ids[self._snap.live].tolist()

    def __len__(self) -> int:
        return int(self._snap.live.sum())

    @property
    def segments(self) -> tuple[int, int, int]:
        """(main rows, delta rows, dead rows): how far the index is from its next rebuild."""
        snap = self._snap
        return (len(snap.main or ()), len(snap.delta or ()), int((~snap.live).sum()))

    # -- build / update ------------------------------------------------------------
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
        """One main segment from these rows (no document stamps: the next ``sync`` rebuilds).
        ``tokens``: the texts' tokens when the caller has them (the store's token cache)."""
        toks = [list(t) for t in tokens] if tokens is not None else [tokenize(t) for t in texts]
        columns = {k: [m.get(k) for m in meta] for k in FILTER_KEYS}
        self._commit(
            _Snapshot.of(_segment(chunk_ids, toks, columns, {}), None, frozenset(), generation), save
        )

    def sync(
        self,
        generation: int,
        stamps: Mapping[str, str],
        read: Reader,
        *,
        rows: Mapping[str, int] | None = None,
        save: bool = True,
    ) -> str:
        """Bring the index to the store's ``generation``. ``stamps``: the store's document → stamp;
        ``rows``: its chunk count per document (to rebuild without first reading a big delta).
        Returns what it did: "delta" (only the changed documents read) or "rebuild"."""
        snap = self._snap
        live = snap.live_stamps()
        changed = [s for s, st in stamps.items() if live.get(s) != st]  # new or replaced
        gone = {s for s in live if s not in stamps} | set(changed)
        main = snap.main
        if main is not None and len(main):
            limit = compact_limit(len(main))
            main_live = {s for s in main.stamps if s not in snap.dead_sources}
            dead = snap.dead_sources | (gone & main_live)
            dead_rows = int(np.fromiter((s in dead for s in main.columns["source"]), bool, len(main)).sum())
            delta_src = [s for s in (snap.delta.stamps if snap.delta else {}) if s not in gone] + changed
            expected = sum((rows or {}).get(s, 0) for s in delta_src)
            if dead_rows + expected <= limit:
                ids, toks, cols = read(delta_src) if delta_src else ([], [], {})
                if dead_rows + len(ids) <= limit:
                    delta = _segment(ids, toks, cols, {s: stamps[s] for s in delta_src}) if ids else None
                    self._commit(_Snapshot.of(main, delta, frozenset(dead), generation), save)
                    return "delta"
        ids, toks, cols = read(None)
        self._commit(_Snapshot.of(_segment(ids, toks, cols, stamps), None, frozenset(), generation), save)
        return "rebuild"

    def _commit(self, snap: _Snapshot, save: bool) -> None:
        if save:
            self._save(snap)
        self._snap = snap

    # -- persist ---------------------------------------------------------------------
    # Layout: <dir>/segments/<name>/ are immutable segments; <dir>/g<generation>-<id>/manifest.json
    # names a version's segments and dead sources; <dir>/CURRENT names the live version, swapped
    # atomically (os.replace), so readers in other processes always see a complete version.
    def _save(self, snap: _Snapshot) -> None:
        seg_dir = self.directory / "segments"
        seg_dir.mkdir(parents=True, exist_ok=True)
        for seg in (snap.main, snap.delta):
            if seg is not None and not (seg_dir / seg.name).exists():
                tmp = seg_dir / f"{seg.name}.tmp"
                shutil.rmtree(tmp, ignore_errors=True)
                save_segment(seg, tmp)
                tmp.rename(seg_dir / seg.name)
        name = f"g{snap.generation}-{uuid.uuid4().hex[:8]}"
        tmp = self.directory / f"{name}.tmp"
        tmp.mkdir()
        manifest = {
            "generation": snap.generation,
            "main": snap.main.name if snap.main else None,
            "delta": snap.delta.name if snap.delta else None,
            "dead_sources": sorted(snap.dead_sources),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        tmp.rename(self.directory / name)
        pointer = self.directory / "CURRENT.tmp"
        pointer.write_text(name, encoding="utf-8")
        os.replace(pointer, self.directory / "CURRENT")
        self._version = name
        self._collect()

    def _collect(self) -> None:
        """Keep the previous version a little longer for a reader that is loading it; drop the
        segments no kept version names."""
        versions = sorted(
            (p for p in self.directory.iterdir() if p.is_dir() and p.name != "segments"),
            key=lambda p: p.stat().st_mtime,
        )
        for old in versions[:-2]:
            shutil.rmtree(old, ignore_errors=True)
        named: set[str] = set()
        for v in versions[-2:]:
            try:
                m = json.loads((v / "manifest.json").read_text(encoding="utf-8"))
            except (FileNotFoundError, json.JSONDecodeError):
                continue
            named.update(x for x in (m.get("main"), m.get("delta")) if x)
        for seg in (self.directory / "segments").iterdir():
            if seg.name not in named:
                shutil.rmtree(seg, ignore_errors=True)

    def current_version(self) -> str | None:
        try:
            return (self.directory / "CURRENT").read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def load(self) -> bool:
        """Load the live version; False when there is none yet (or only an older format's)."""
        for _attempt in range(5):
            version = self.current_version()
            if version is None:
                return False
            if version == self._version:
                return True
            folder = self.directory / version
            try:
                m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
                loaded = {s.name: s for s in (self._snap.main, self._snap.delta) if s is not None}
                main, delta = (
                    (loaded.get(n) or load_segment(self.directory / "segments" / n)) if n else None
                    for n in (m["main"], m["delta"])
                )
            except FileNotFoundError:
                if (folder / "rows.json").exists():
                    return False  # the bm25s layout before segments: the next writer rebuilds it
                continue  # a writer swapped versions while we read: read CURRENT again
            self._snap = _Snapshot.of(main, delta, frozenset(m["dead_sources"]), m["generation"])
            self._version = version
            return True
        return False

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
        if snap.scorer is None or n <= 0:
            return []
        scores = snap.scorer.scores(tokenize(query))
        if scores is None:
            return []
        mask = self._mask(snap, where)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        n = min(n, len(scores))
        kth = float(scores[np.argpartition(-scores, n - 1)[n - 1]])
        # Every row tied with the n-th, ordered by id: the same top n whatever the rows' layout
        # (main + delta or one rebuilt segment), where argpartition would pick among ties freely.
        candidates = np.flatnonzero(scores >= kth) if kth > 0 else np.flatnonzero(scores > 0)
        ids = snap.ids
        top = sorted(candidates.tolist(), key=lambda i: (-scores[i], ids[i]))[:n]
        return [(str(ids[i]), float(scores[i])) for i in top]
