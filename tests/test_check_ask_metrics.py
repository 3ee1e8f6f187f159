"""The ask (and brief) metrics of ``rag eval`` count figures bound to another subject
(``figure_misbound``) beside the figures found nowhere; hashed embedder, no judge (fast)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from eval.metrics import aggregate
from eval.tasks import _check_metrics
from rag.grounding.check import source_index
from rag.settings import Settings

SOURCE = "今年全镇新建农家书屋14个、村级文化广场6个，组织文艺演出32场次。"


def test_ask_metrics_count_a_misbound_figure(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "unused", embedder="hash")
    cell = SimpleNamespace(judge=None, settings=settings)  # _check_metrics reads only these two
    answer = "全镇新建村级文化广场14个。组织文艺演出32场次。全镇新建农家书屋15个。"
    with source_index([SOURCE], settings) as sources:
        metrics, summary = _check_metrics(cell, answer, sources)
    assert summary["counts"] == {
        "supported": 1,
        "unsupported": 0,
        "figure_misbound": 1,  # 14个 is the 农家书屋's
        "figure_mismatch": 1,  # 15个 occurs nowhere
    }
    assert metrics["figures_checked"] == 3
    assert metrics["unsupported_figures"] == 2 and metrics["figures_misbound"] == 1
    cells = [
        {"metrics": metrics, "passed": False},
        {"metrics": {**metrics, "figures_misbound": 0}, "passed": True},
    ]
    assert aggregate(cells)["figures_misbound"] == 1
