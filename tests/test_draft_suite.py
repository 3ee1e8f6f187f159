"""The whole draft eval suite (eval/suites/draft.yaml, ≥ 20 cases × 2 variants) on the scripted
model: each case's reply is the model's continuation of every point, some carrying an invented
incident, praise in a 存在问题 section or a colleague's sentence. Every assertion of issue 17 holds
on the drafts that come out: facts used, no invented figure or incident, longest copy ≤ 20,
length within the corpus' range, structure and topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.runner import run_suite
from eval.suite import load_suite
from rag.index.index import Index
from rag.settings import Settings
from tests.conftest import REPO, SEEDS

DRAFT = REPO / "eval" / "suites" / "draft.yaml"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """The suite's own corpus (seeds + fixture reports) under the hashed embedder."""
    idx = Index(Settings(index_dir=tmp_path_factory.mktemp("suite") / "index", embedder="hash"))
    idx.ingest([SEEDS, REPO / "tests" / "fixtures" / "reports"])
    return idx


def test_draft_suite_passes_on_the_scripted_model(tmp_path: Path, corpus: Index) -> None:
    suite = load_suite(DRAFT)
    assert len(suite.cases) >= 20
    sections = {c.section for c in suite.cases}
    assert {"履职情况", "存在问题", "原因分析", "下步打算"} <= sections
    assert len({c.role for c in suite.cases}) >= 8 and len({c.topic for c in suite.cases}) >= 10

    run = run_suite(suite, Settings(), index=corpus, model="scripted", runs_dir=tmp_path, use_cache=False)
    failed = [(c["case"], c["prompt_id"], c["failures"]) for c in run.cells if not c["passed"]]
    assert failed == []
    assert {c["prompt_id"] for c in run.cells} == {"draft/default", "draft/concise"}
    assert len(run.cells) == 2 * len(suite.cases)
    for variant in run.summary["variants"].values():
        assert variant["facts_used_rate"] == 1.0 and variant["invented_incidents"] == 0
        assert variant["longest_copy_max"] <= 20 and variant["length_in_range_rate"] >= 0.9
    assert all(t["passed"] for t in run.summary["thresholds"])
    # the replies' inventions were there to be removed: the drafts report what went
    issue = next(c for c in run.cells if c["case"] == "deputy-safety-problems")
    assert issue["output"]["inventions"] and issue["output"]["copies_removed"]
    plans = next(c for c in run.cells if c["case"] == "deputy-safety-plans")
    assert "严防重大事故发生" in plans["text"]  # a warning is no invented incident
