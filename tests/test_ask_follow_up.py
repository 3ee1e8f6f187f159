"""A short follow-up in ``ask`` inherits the previous question's entities (scripted LLM, hashed
embedder over the seeds: no model)."""

from __future__ import annotations

import pytest

from rag.ask import ask, retrieval_query
from rag.index.index import Index
from rag.llm.fake import ScriptedLLM
from rag.settings import Settings
from tests.conftest import SEEDS

HISTORY = [
    {"role": "user", "content": "乡长2023年抓党建存在哪些问题？"},
    {"role": "assistant", "content": "主要是抓党建思路不宽。[1]"},
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    idx = Index(Settings(index_dir=tmp_path_factory.mktemp("follow") / "index", embedder="hash"))
    idx.ingest([SEEDS])
    return idx


def test_follow_up_replaces_the_role_and_keeps_year_and_section(index: Index) -> None:
    text, intent = retrieval_query(index, "那副乡长呢？", HISTORY)
    assert intent is not None
    assert intent.roles == ("副乡长",)  # named by the follow-up
    assert intent.years == (2023,) and "问题" in intent.sections  # inherited
    assert set(intent.inherited) == {"years", "sections"}
    assert "抓党建" in text and "副乡长" in text and "乡长2023" not in text


def test_follow_up_naming_nothing_inherits_everything(index: Index) -> None:
    _, intent = retrieval_query(index, "具体有几条？", HISTORY)
    assert intent is not None and intent.roles == ("乡长",) and intent.years == (2023,)
    assert set(intent.inherited) >= {"roles", "years", "sections"}


def test_a_full_question_or_no_history_inherits_nothing(index: Index) -> None:
    assert retrieval_query(index, "那副乡长呢？", None) == ("那副乡长呢？", None)
    long_q = "宣传部长2023年撰写了多少篇外宣信息稿件？"
    assert retrieval_query(index, long_q, HISTORY) == (long_q, None)


def test_ask_retrieves_the_follow_up_with_inherited_entities(index: Index) -> None:
    llm = ScriptedLLM(default="副乡长抓党建的问题是……[1]")
    result = ask(index, llm, "那副乡长呢？", k=4, history=HISTORY)
    top = result.passages[0].chunk
    assert top.role == "副乡长" and top.year == 2023 and top.section in ("问题", "原因")
    assert "此前对话" in llm.calls[-1][-1]["content"]  # the history still reaches the prompt
