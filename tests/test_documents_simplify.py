"""繁體 reports: a simplified copy of the same length serves matching; the original serves quotes.

Role/level/year detection, section words, keyword search, the embedded text, the query and
figure units all read the simplified copy; offsets and quotes stay those of the original.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.documents import simplify
from rag.documents.chunking import chunk_report
from rag.documents.load import load_document
from rag.documents.simplify import is_traditional, to_simplified
from rag.grounding.figures import extract_figures, find_figure, has_redacted_figure, unsupported_figures
from rag.index.index import Index
from rag.index.keyword import KeywordIndex, tokenize
from rag.retrieval import hybrid_search
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "reports"
TRADITIONAL = sorted(FIXTURES.glob("r*traditional*.txt"))
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))


def test_three_traditional_fixtures() -> None:
    assert [p.name[:3] for p in TRADITIONAL] == ["r03", "r10", "r17"]


@pytest.mark.parametrize("path", TRADITIONAL + SEEDS, ids=lambda p: p.name[:3])
def test_copy_has_the_original_length(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    simple = to_simplified(text)
    assert len(simple) == len(text)
    assert [i for i, (a, b) in enumerate(zip(text, simple, strict=True)) if (a == "\n") != (b == "\n")] == []


def test_conversion() -> None:
    assert to_simplified("白沙鄉黨委書記2020年度述職報告") == "白沙乡党委书记2020年度述职报告"
    assert (
        to_simplified("流轉土地650畝，改造旱廁184戶，籌措資金86萬元")
        == "流转土地650亩，改造旱厕184户，筹措资金86万元"
    )
    assert to_simplified("村裡的事，看著辦") == "村里的事，看着办"  # Taiwan variants folded
    assert to_simplified("著名的乾隆年間") == "著名的乾隆年间"  # phrase rules kept
    simple = "乡党委书记2023年述职报告：全年发展党员17名。"
    assert to_simplified(simple) == simple
    assert to_simplified("") == "" and to_simplified("abc 123") == "abc 123"
    assert is_traditional("述職報告") and not is_traditional("述职报告")


def test_a_length_changing_phrase_falls_back_to_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    class Phrasey:  # a converter with an idiom rule that changes the length
        def convert(self, text: str) -> str:
            return text.replace("滑鼠", "鼠标器").replace("萬", "万").replace("畝", "亩")

    monkeypatch.setattr(simplify._local, "conv", Phrasey(), raising=False)
    simplify._char.cache_clear()
    try:
        out = to_simplified("買了滑鼠，種了650畝，花了3萬元。")
        assert len(out) == len("買了滑鼠，種了650畝，花了3萬元。")
        assert out == "買了滑鼠，種了650亩，花了3万元。"
    finally:
        simplify._char.cache_clear()


@pytest.mark.parametrize(
    ("name", "title", "role", "year", "level"),
    [
        ("r03", "白沙鄉黨委書記2020年度抓基層黨建工作述職報告", "乡党委书记", 2020, "乡"),
        ("r10", "柳河村黨總支書記2021年述職報告", "村党总支书记", 2021, "村"),
        ("r17", "縣生態環境分局局長2024年述職報告", "局长", 2024, "局"),
    ],
)
def test_traditional_metadata_and_sections(name: str, title: str, role: str, year: int, level: str) -> None:
    path = next(p for p in TRADITIONAL if p.name.startswith(name))
    [report] = load_document(path).reports
    assert (report.title, report.role, report.year, report.level) == (title, role, year, level)
    kinds = [s.kind for s in report.sections]
    assert kinds[-1] == "结语" and "问题" in kinds and "打算" in kinds
    for chunk in chunk_report(report):
        assert report.text[chunk.start : chunk.end] == chunk.text
        assert chunk.embedding_text() == to_simplified(f"{chunk.header()}\n{chunk.text}")
    assert "述職" in report.text  # the text itself (what offsets and quotes index) stays traditional


def test_keyword_tokens_are_simplified() -> None:
    assert tokenize("流轉土地650畝") == tokenize("流转土地650亩")
    assert "党员" in tokenize("新發展黨員4名")


def test_keyword_index_finds_a_traditional_report_by_a_simplified_query(tmp_path: Path) -> None:
    chunks = [c for p in TRADITIONAL + SEEDS for r in load_document(p).reports for c in chunk_report(r)]
    index = KeywordIndex(tmp_path / "kw")
    index.build(
        [c.chunk_id for c in chunks],
        [f"{c.header()}\n{c.text}" for c in chunks],
        [{"source": c.source} for c in chunks],
        generation=1,
        save=False,
    )
    by_id = {c.chunk_id: c for c in chunks}
    for query, needle in (
        ("流转土地650亩 建成连栋大棚", "流轉土地650畝"),
        ("淘汰国三柴油货车", "淘汰國三及以下排放標準柴油貨車426輛"),
        ("乡党委书记 整顿软弱涣散村党组织", "整頓軟弱渙散村黨組織2個"),
    ):
        top = index.search(query, 3)
        assert top, query
        assert needle in by_id[top[0][0]].text, (query, by_id[top[0][0]].text[:40])


def test_hybrid_search_normalises_a_traditional_query(tmp_path: Path) -> None:
    index = Index(Settings(index_dir=tmp_path / "index", embedder="hash"))
    index.ingest([FIXTURES / "r02_seed_village_branch_collective.txt", TRADITIONAL[1]])
    hits = hybrid_search(index, "統一流轉土地420畝", k=3)
    assert hits and "统一流转土地420亩" in hits[0].chunk.text
    hits = hybrid_search(index, "连栋大棚 草莓", k=3)
    assert hits and "連棟大棚40個" in hits[0].chunk.text


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("投入120万元", "籌措資金120萬元"),
        ("投入120萬元", "筹措资金120万元"),
        ("流转土地650亩", "流轉土地650畝"),
        ("改造旱厕184户", "改造旱廁184戶"),
        ("淘汰柴油货车426辆", "淘汰柴油貨車426輛"),
        ("参与3200余人次", "參與3200餘人次"),
        ("组建两支突击队", "組建兩支突擊隊"),
        ("处置危险废物1.28万吨", "處置危險廢物1.28萬噸"),
    ],
)
def test_figures_match_across_scripts(claim: str, source: str) -> None:
    assert unsupported_figures(claim, [source]) == []
    [figure] = extract_figures(claim)
    span = find_figure(figure, source)
    assert span is not None
    assert source[span[0] : span[1]] in source  # the original characters, e.g. 120萬元


def test_figure_raw_and_offsets_are_the_original() -> None:
    text = "村集體從中分紅21.4萬元，改造旱廁184戶。"
    figures = extract_figures(text)
    assert [(f.raw, f.value, f.unit) for f in figures] == [
        ("21.4萬元", 214000.0, "元"),
        ("184戶", 184.0, "户"),
    ]
    assert all(text[f.start : f.end] == f.raw for f in figures)
    assert unsupported_figures("分红21.5万元", [text]) != []  # a changed figure is still caught
    assert has_redacted_figure("爭取資金**萬元")
