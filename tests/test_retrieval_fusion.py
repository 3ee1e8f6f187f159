"""Fusion (rag/fusion.py) and query-understanding boosts in hybrid_search, over a hashed-embedder
index of the paraphrase corpus (seeds + report fixtures), and the recall reached on the tune part
of the paraphrased dev set, asserted so it cannot silently regress."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml

from rag.bench.quality import PARAPHRASE_TUNE, corpus_files, first_relevant, load_paraphrase
from rag.fusion import FEATURES, FULL_LENGTH, FUSION_FILE, Candidate, FusionError, feature_matrix, load_fusion
from rag.index.index import Index
from rag.query import EMPTY_VOCABULARY, understand
from rag.retrieval import candidates, hybrid_search
from rag.schema import Chunk
from rag.settings import Settings

CASES, CORPUS = load_paraphrase(PARAPHRASE_TUNE)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fusion") / "index"
    index = Index(Settings(index_dir=root, embedder="hash"))
    assert index.ingest(corpus_files(CORPUS)).ok
    index.close()
    return root


def _index(index_dir: Path, **settings) -> Index:
    return Index(Settings(index_dir=index_dir, embedder="hash", **settings))


def _metrics(index: Index) -> dict[str, float]:
    ranks = [
        first_relevant([(p.chunk.source, p.chunk.text) for p in hybrid_search(index, c.question, k=10)], c)
        for c in CASES
    ]
    n = len(ranks)
    return {
        "recall_at_3": sum(0 < r <= 3 for r in ranks) / n,
        "mrr_at_10": sum(1 / r for r in ranks if r) / n,
    }


def test_packaged_weights_are_read_and_overridable(tmp_path: Path) -> None:
    data = yaml.safe_load(FUSION_FILE.read_text(encoding="utf-8"))
    fusion = load_fusion(Settings())
    assert fusion.method == "learned" and fusion.source == str(FUSION_FILE)
    assert fusion.weights == {f: float(data["weights"].get(f, 0.0)) for f in FEATURES}
    assert fusion.rank_k == {k: float(v) for k, v in data["rank_k"].items()}
    assert load_fusion(Settings(fusion_weights={"place": 0.25})).weights["place"] == 0.25
    own = tmp_path / "fusion.yaml"
    own.write_text("weights: {dense: 2.0, role_exact: 9.0}\nrank_k: {dense: 3}\n", encoding="utf-8")
    mine = load_fusion(Settings(fusion_file=own))
    assert mine.weights["dense"] == 2.0 and mine.weights["keyword"] == 0.0 and mine.rank_k["dense"] == 3.0
    with pytest.raises(FusionError, match="colour"):
        load_fusion(Settings(fusion_weights={"colour": 1.0}))
    own.write_text("weights: {colour: 1.0}\n", encoding="utf-8")
    with pytest.raises(FusionError, match="colour"):
        load_fusion(Settings(fusion_file=own))
    with pytest.raises(FusionError, match="rrf"):
        load_fusion(Settings(fusion="max"))


def test_weights_are_applied_to_the_features(index_dir: Path) -> None:
    index = _index(index_dir)
    query = "组织部长今年发展了几名党员"
    found = candidates(index, query, 40)
    w = np.array([found.fusion.weights[f] for f in FEATURES])
    hits = hybrid_search(index, query, k=5, dedupe_threshold=1.01)
    by_id = {c.chunk.chunk_id: float(x @ w) for c, x in zip(found.items, found.features, strict=True)}
    assert all(a.score >= b.score - 1e-9 for a, b in itertools.pairwise(hits))
    assert all(abs(p.score - by_id[p.chunk.chunk_id]) < 1e-9 for p in hits)
    assert hits[0].score == pytest.approx(max(by_id.values()))
    # a file that weighs only the role boost ranks every passage of that role first
    only_role = _index(index_dir, fusion_weights={f: (1.0 if f == "role_exact" else 0.0) for f in FEATURES})
    roles = [p.chunk.role for p in hybrid_search(only_role, query, k=40)]
    first_other = next(i for i, r in enumerate(roles) if r != "组织部长")
    assert first_other > 0 and "组织部长" not in roles[first_other:]


def test_plain_rrf_is_still_there(index_dir: Path) -> None:
    index = _index(index_dir, fusion="rrf", query_understanding=False)
    for p in hybrid_search(index, "化眉村的茶叶加工厂有多大", k=5):
        expected = sum(1 / (60 + r) for r in (p.dense_rank, p.keyword_rank) if r is not None)
        assert p.score == pytest.approx(expected)


def test_boosts_are_soft_other_reports_still_come_back(index_dir: Path) -> None:
    index = _index(index_dir)
    hits = hybrid_search(index, "组织部长今年发展了几名党员", k=25)
    assert hits[0].chunk.role == "组织部长"  # the role named is preferred …
    assert len({p.chunk.role for p in hits}) > 3  # … but nothing is filtered out
    # a question naming the wrong role still gets the passage that answers it (another report's)
    wrong = hybrid_search(index, "宣传委员说化眉村的茶叶加工厂有多大", k=5)
    assert any("800平米" in p.chunk.text and p.chunk.role == "镇党委书记" for p in wrong)
    # a question with no entity ranks across reports as before
    free = hybrid_search(index, "如何发展党员", k=10)
    assert len({(p.chunk.source, p.chunk.report_index) for p in free}) >= 3
    # a hard filter is still a filter
    only = hybrid_search(index, "组织部长今年发展了几名党员", k=10, where={"role": "宣传委员"})
    assert {p.chunk.role for p in only} == {"宣传委员"}


def test_colloquial_question_finds_the_report_wording(index_dir: Path) -> None:
    index = _index(index_dir)
    hits = hybrid_search(index, "镇党委书记说借着赶集的机会搞了几回学党史的活动？", k=3)
    assert any("实践活动20次" in p.chunk.text for p in hits)  # 赶集 → 集日/赶场 (synonyms.yaml)


def test_paraphrase_tune_recall_with_hashed_embedder(index_dir: Path) -> None:
    """Reached 63/66 recall@3 and MRR@10 0.832 (plain RRF without query understanding: 33/66, 0.41).
    Was 64/66 and 0.855 while the dense leg embedded the expanded keyword text: the hashed embedder
    is lexical, so the expansions helped it; the weights are fitted for e5 (rag/data/fusion.yaml)."""
    ours = _metrics(_index(index_dir))
    assert ours["recall_at_3"] >= 63 / 66 and ours["mrr_at_10"] >= 0.82, ours
    plain = _metrics(_index(index_dir, fusion="rrf", query_understanding=False))
    assert ours["recall_at_3"] > plain["recall_at_3"] + 0.3, (ours, plain)


@pytest.mark.model
def test_paraphrase_tune_recall_with_e5(tmp_path: Path) -> None:
    """Reached recall@3 0.97 and MRR@10 0.932 with e5 (plain RRF: 0.788 / 0.733); the weights are
    fitted on these questions (and the retired parts), so this guards against regressions only."""
    index = Index(Settings(index_dir=tmp_path / "e5", embedder="e5"))
    assert index.ingest(corpus_files(CORPUS)).ok
    ours = _metrics(index)
    assert ours["recall_at_3"] >= 0.95 and ours["mrr_at_10"] >= 0.92, ours


def _chunk(text: str, section: str = "履职") -> Chunk:
    return Chunk("c", text, "r.txt", 0, "t", 2023, "乡长", "乡镇", section, (), 0, len(text))


def _row(question: str, text: str, section: str = "履职") -> dict[str, float]:
    intent = understand(question)
    x = feature_matrix(
        [Candidate(_chunk(text, section), 1, 1)], intent, EMPTY_VOCABULARY, load_fusion(Settings()).rank_k
    )
    return dict(zip(FEATURES, x[0], strict=True))


def test_figure_total_body_and_length_features() -> None:
    figure = "共改造农村户厕1260户，劝返辍学学生7名。"
    intro = "根据要求，现将2023年以来的工作报告如下："  # a year is no figure
    assert _row("乡里做过几轮排查？", figure)["figure"] == 1.0
    assert _row("乡里做过几轮排查？", intro)["figure"] == 0.0
    assert _row("排查工作怎么样", figure)["figure"] == 0.0  # no figure asked for
    # a total asked for: a passage stating one (共 … figure), in 简体 or 繁體
    assert _row("各村加起来改了多少户厕", figure)["total"] == 1.0
    assert _row("各村加起来改了多少户厕", "共計改造戶廁1260戶")["total"] == 1.0
    assert _row("各村加起来改了多少户厕", "改造农村户厕1260户")["total"] == 0.0
    assert _row("改了多少户厕", figure)["total"] == 0.0
    # body: a question naming no section prefers 履职; a 问题 question does not
    assert _row("改了多少户厕", figure)["body"] == 1.0
    assert _row("改了多少户厕", figure, section="问题")["body"] == 0.0
    assert _row("改厕有什么不足", figure)["body"] == 0.0
    assert (
        0 < _row("改了多少户厕", intro)["length"] < _row("改了多少户厕", "很长的段落" * 100)["length"] == 1.0
    )
    # softened: a quarter of FULL_LENGTH counts half (a short line may state the figure asked for)
    assert _row("改了多少户厕", "改" * (FULL_LENGTH // 4))["length"] == pytest.approx(0.5)
    # a rounding word between a figure and its unit still makes it a figure in that unit
    assert _row("村里整理沟渠和河道共多少米？", "整理7、8号沟和**河共2000余米。")["unit"] == 1.0
    assert _row("走访了多少人次？", "走访党员群众1100多人次。")["unit"] == 1.0
