"""The fusion fit (rag/bench/fusion_fit.py) on synthetic candidates: it learns a feature that
tells the answer apart, and scores every part with weights fitted on the other parts only."""

from __future__ import annotations

import numpy as np

from rag.bench.fusion_fit import Collected, cross_part, evaluate, features, fit, fit_pairwise
from rag.bench.quality import Case
from rag.fusion import FEATURES, Candidate
from rag.query import EMPTY_VOCABULARY, understand
from rag.schema import Chunk


def _question(i: int, source: str) -> Collected:
    """The answer (a figure) is ranked last by both legs; four figureless passages rank above it."""
    items = []
    for r in range(5):
        text = (
            f"发展党员{i + 1}名，培训{r + 3}期"
            if r == 4
            else "根据要求，现将一年来抓党建工作的情况报告如下，请予评议。" * 3
        )
        chunk = Chunk(f"{source}-{i}-{r}", text, source, 0, "t", 2023, "乡长", None, "履职", (), 0, len(text))
        items.append(Candidate(chunk, r + 1, r + 1))
    labels = np.array([r == 4 for r in range(5)])
    case = Case(f"q{i}", "一年发展了几名党员？", source, ("发展党员",))
    return Collected(case, items, understand(case.question), labels)


def test_fit_learns_the_telling_feature_and_cross_part_scores_unseen_parts() -> None:
    parts = {
        "a": [_question(i, f"a{i % 2}.txt") for i in range(6)],
        "b": [_question(i, f"b{i % 2}.txt") for i in range(6)],
    }
    data = parts["a"] + parts["b"]
    plain = np.zeros(len(FEATURES))
    plain[FEATURES.index("dense")] = plain[FEATURES.index("keyword")] = 1.0
    feats = features(data, EMPTY_VOCABULARY, 5.0)
    assert evaluate(data, feats, plain)["recall_at_1"] == 0.0  # the legs alone rank it last
    w = fit_pairwise(data, feats, 0.01)
    # the answer alone holds a figure in the asked unit (名): those features carry it; boosts only
    assert w[FEATURES.index("figure")] + w[FEATURES.index("unit")] > 0 and min(w) >= 0
    assert evaluate(data, feats, w)["recall_at_1"] == 1.0
    result = fit(data, EMPTY_VOCABULARY)
    assert set(result["weights"]) == set(FEATURES) and len(result["cv_folds"]) == 2
    cross = cross_part(parts, EMPTY_VOCABULARY)
    assert set(cross) == {"a", "b"} and all(v["fitted_on"] == 6 for v in cross.values())
    assert all(v["recall_at_1"] == 1.0 for v in cross.values())
