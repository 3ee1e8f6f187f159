"""A synthetic scale corpus generated from the seeds, and benchmark queries.

Deterministic for a given seed: reports are recombined from the seed reports' sentences,
section by section (履职 sentences go under 一、履职情况, 问题 under 二、存在问题 …), under
varied titles (place, role, year), with every figure varied (179.25万元 → 212.08万元; years
follow the report's year), paragraph lengths drawn from the seeds' own chunk lengths.
Each report is parsed and chunked by the project's own code (``parse_text``,
``chunk_report``), so the chunks are what an ingest of such files would produce.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.documents.chunking import chunk_report
from rag.documents.files import iter_files
from rag.documents.load import load_document
from rag.documents.parse import parse_text
from rag.schema import Chunk, Document
from rag.settings import Settings

GENERATOR = "seed-recombination-v1"
DEFAULT_SEED = 20240601

_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]")
_MARKER = re.compile(r"^\s*(?:（[一二三四五六七八九十]+）|[一二三四五六七八九十]+是|\d+[.．、])")
_FIGURE = re.compile(r"\d+(?:\.\d+)?")
_CN = "一二三四五六七八九十"
_POOL_OF = {"履职": "履职", "前言": "履职", "其他": "履职", "问题": "问题", "原因": "问题", "打算": "打算"}
_PLACE_CHARS = "化眉坡头摆达沿江青山白石红岩龙泉松林桃源金沙河口新田大坪团结清水马鞍凤凰石桥柳溪"
_PLACE_LEVELS = ("村", "社区", "镇", "乡", "街道")
_ROLES = (
    "乡长",
    "副乡长",
    "镇党委书记",
    "乡党委书记",
    "村党总支书记",
    "村党支部书记",
    "组织委员",
    "宣传委员",
    "纪委书记",
    "组织部长",
    "宣传部长",
    "镇长",
    "副镇长",
    "第一书记",
)
_HEADS = {
    "履职": ("一、履职情况", "一、工作情况", "一、主要工作及成效", "一、履职尽责情况"),
    "问题": ("二、存在问题", "二、存在问题及原因分析", "二、存在的不足"),
    "打算": ("三、下步打算", "三、下一步工作打算", "三、下步工作思路"),
}
_OPENINGS = (
    "根据要求，现将一年来工作情况报告如下：",
    "现将本人履职情况报告如下，请予评议。",
    "根据组织安排，现将抓基层党建工作情况述职如下：",
)
_CLOSING = "以上述职，不妥之处，敬请各位领导和同志批评指正。"


@dataclass(frozen=True)
class Material:
    """What the generator recombines: sentences per section type, headings, paragraph lengths."""

    sentences: dict[str, list[str]]
    headings: dict[str, list[str]]
    lengths: list[int]


def seed_material(seeds_dir: Path, settings: Settings | None = None) -> Material:
    settings = settings or Settings()
    sentences: dict[str, list[str]] = {k: [] for k in ("履职", "问题", "打算")}
    headings: dict[str, list[str]] = {k: [] for k in ("履职", "问题", "打算")}
    lengths: list[int] = []
    for path in iter_files([seeds_dir]):
        for report in load_document(path).reports:
            for section in report.sections:
                pool = _POOL_OF.get(section.kind)
                if pool:
                    headings[pool] += [s.heading for s in section.subsections if 4 <= len(s.heading) <= 30]
            chunks = chunk_report(
                report, max_chars=settings.chunk_max_chars, min_chars=settings.chunk_min_chars
            )
            for chunk in chunks:
                lengths.append(len(chunk.text))
                pool = _POOL_OF.get(chunk.section)
                if pool is None:
                    continue
                for s in _SENTENCE.findall(chunk.text):
                    s = _MARKER.sub("", s.lstrip("”’」』）)")).strip()
                    if len(s) >= 8 and "*" not in s:
                        sentences[pool].append(s)
    if not all(sentences.values()) or not lengths:
        raise ValueError(f"{seeds_dir}: 种子报告太少，无法生成合成语料（需要履职、问题、打算三类段落）")
    for pool in headings:
        headings[pool] = headings[pool] or ["扎实推进各项工作"]
    return Material(sentences, headings, lengths)


class _Writer:
    def __init__(self, material: Material, rng: random.Random) -> None:
        self.m = material
        self.rng = rng

    def _vary(self, sentence: str, year: int) -> str:
        def figure(match: re.Match[str]) -> str:
            raw = match.group(0)
            if len(raw) == 4 and raw.startswith("20"):
                return str(year - (2024 - int(raw)) if int(raw) < 2024 else year)
            decimals = len(raw.partition(".")[2])
            value = float(raw) * self.rng.uniform(0.4, 2.2)
            return f"{value:.{decimals}f}" if decimals else str(max(1, round(value)))

        return _FIGURE.sub(figure, sentence)

    def paragraph(self, pool: str, year: int) -> str:
        target = self.rng.choice(self.m.lengths)
        out = ""
        while len(out) < target:
            out += self._vary(self.rng.choice(self.m.sentences[pool]), year)
        return out

    def report(self, number: int) -> str:
        rng = self.rng
        year = rng.randint(2018, 2024)
        place = "".join(rng.sample(_PLACE_CHARS, 2)) + rng.choice(_PLACE_LEVELS)
        role = rng.choice(_ROLES)
        title = rng.choice(
            (
                f"{place}{role}{year}年度述职报告",
                f"{role}{year}年抓基层党建工作述职报告",
                f"{year}年度{place}{role}个人述职报告",
            )
        )
        lines = [title, rng.choice(_OPENINGS)]
        for pool, (lo, hi) in (("履职", (3, 5)), ("问题", (2, 3)), ("打算", (2, 4))):
            lines.append(rng.choice(_HEADS[pool]))
            enum = pool != "履职" and rng.random() < 0.5  # 一是…二是… vs （一）…
            for j in range(rng.randint(lo, hi)):
                marker = f"{_CN[j]}是" if enum else f"（{_CN[j]}）"
                lead = "" if enum else rng.choice(self.m.headings[pool]) + "。"
                lines.append(marker + lead + self.paragraph(pool, year))
        lines.append(_CLOSING)
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class CorpusDoc:
    document: Document
    chunks: tuple[Chunk, ...]

    def texts(self) -> list[tuple[str, str]]:
        """(source, report text up to its last chunk) for each report: the same data for baselines."""
        out = []
        for report in self.document.reports:
            ends = [c.end for c in self.chunks if c.report_index == report.index]
            if ends:
                out.append((self.document.source, report.text[: max(ends)]))
        return out


def iter_corpus(material: Material, settings: Settings, *, seed: int = DEFAULT_SEED) -> Iterator[CorpusDoc]:
    """Synthetic documents (one report each), endless; deterministic for a seed."""
    writer = _Writer(material, random.Random(seed))
    number = 0
    while True:
        text = writer.report(number)
        source = f"synthetic/{seed}/{number:06d}.txt"
        doc = parse_text(text, source=source, path=source, sha256=hashlib.sha256(text.encode()).hexdigest())
        chunks = tuple(
            c
            for r in doc.reports
            for c in chunk_report(r, max_chars=settings.chunk_max_chars, min_chars=settings.chunk_min_chars)
        )
        number += 1
        if chunks:
            yield CorpusDoc(doc, chunks)


def take(corpus: Iterator[CorpusDoc], n_chunks: int) -> list[CorpusDoc]:
    """Documents from ``corpus`` holding exactly ``n_chunks`` chunks (the last one cut short)."""
    out: list[CorpusDoc] = []
    have = 0
    while have < n_chunks:
        doc = next(corpus)
        need = n_chunks - have
        if len(doc.chunks) > need:
            doc = CorpusDoc(doc.document, doc.chunks[:need])
        out.append(doc)
        have += len(doc.chunks)
    return out


def benchmark_queries(
    material: Material, n: int, *, seed: int = DEFAULT_SEED, fixed: Sequence[str] = ()
) -> list[str]:
    """``fixed`` (e.g. the ask suite's questions) first, then clauses cut from seed sentences."""
    rng = random.Random(seed + 1)
    out = list(dict.fromkeys(q.strip() for q in fixed if q.strip()))[:n]
    pool = [s for sentences in material.sentences.values() for s in sentences]
    seen = set(out)
    while len(out) < n:
        clauses = [c for c in re.split(r"[，、：。；！？]", rng.choice(pool)) if len(c) >= 6]
        if not clauses:
            continue
        clause = rng.choice(clauses)[:20]
        if clause not in seen:
            seen.add(clause)
            out.append(clause)
    return out
