"""The scripted fake and the shared LLM plumbing (fast, no model)."""

from __future__ import annotations

import pytest

from rag.llm.base import LLM, Completion, LLMError, answer_kind, yes_no_from_logprobs, yes_no_from_text
from rag.llm.factory import create_llm
from rag.llm.fake import ScriptedLLM
from rag.settings import Settings

Q = [{"role": "system", "content": "只依据资料回答。"}, {"role": "user", "content": "2023年投入多少资金？"}]


def test_default_reply_and_usage():
    llm = ScriptedLLM()
    out = llm.complete(Q)
    assert isinstance(llm, LLM)
    assert isinstance(out, Completion)
    assert out.text == "未在资料中找到相关内容。"
    assert out.model == llm.model_id == "scripted"
    assert out.prompt_tokens == len("只依据资料回答。") + len("2023年投入多少资金？")
    assert out.completion_tokens == len(out.text)
    assert out.first_token_seconds is None
    assert out.finish_reason == "stop"
    assert llm.last_completion is out
    assert llm.calls == [Q]


def test_rules_then_queue_then_default():
    llm = ScriptedLLM(default="默认").on("资金", "投入179.25万元[1]。").enqueue("第一", "第二")
    assert llm.complete(Q).text == "投入179.25万元[1]。"  # rule wins over the queue
    other = [{"role": "user", "content": "别的问题"}]
    assert [llm.complete(other).text for _ in range(3)] == ["第一", "第二", "默认"]
    assert len(llm.calls) == 4


def test_rule_matches_last_user_message_only():
    llm = ScriptedLLM(default="默认").on("资金", "命中")
    msgs = [
        {"role": "user", "content": "资金"},
        {"role": "assistant", "content": "好"},
        {"role": "user", "content": "别的"},
    ]
    assert llm.complete(msgs).text == "默认"


def test_stream_pieces_and_last_completion():
    llm = ScriptedLLM(chunk_chars=3).enqueue("修建文化广场800平米[2]。")
    pieces = list(llm.stream(Q))
    assert "".join(pieces) == "修建文化广场800平米[2]。"
    assert all(1 <= len(p) <= 3 for p in pieces) and len(pieces) > 1
    c = llm.last_completion
    assert c.text == "".join(pieces)
    assert c.completion_tokens == len(c.text)
    assert c.first_token_seconds is not None and c.first_token_seconds <= c.seconds


def test_stop_and_max_tokens():
    llm = ScriptedLLM().enqueue("一是加强学习。\n\n二是狠抓落实。", "一二三四五六")
    assert llm.complete(Q, stop=["\n\n"]).text == "一是加强学习。"
    out = llm.complete(Q, max_tokens=4)
    assert out.text == "一二三四" and out.finish_reason == "length"


def test_yes_probability_scripted_and_parsed():
    llm = ScriptedLLM(yes_default=0.3).on_yes("179.25万元", 0.9)
    claim = [{"role": "user", "content": "资料是否支持：投入179.25万元？"}]
    assert llm.yes_probability(claim) == 0.9
    llm.enqueue("是的，支持。", "否", "无法判断")
    other = [{"role": "user", "content": "资料是否支持：投入279万元？"}]
    assert [llm.yes_probability(other) for _ in range(3)] == [1.0, 0.0, 0.3]
    assert len(llm.calls) == 4


@pytest.mark.parametrize(
    "messages",
    [
        [],
        "你好",
        [{"role": "robot", "content": "x"}],
        [{"role": "user", "content": None}],
        [{"content": "x"}],
    ],
)
def test_bad_messages_raise_llm_error(messages):
    with pytest.raises(LLMError, match="messages"):
        ScriptedLLM().complete(messages)
    with pytest.raises(LLMError):
        ScriptedLLM().stream(messages)  # validated eagerly, before iteration


def test_bad_params_raise_llm_error():
    llm = ScriptedLLM()
    with pytest.raises(LLMError, match="max_tokens"):
        llm.complete(Q, max_tokens=0)
    with pytest.raises(LLMError, match="temperature"):
        llm.complete(Q, temperature=5)
    with pytest.raises(LLMError, match="stop"):
        llm.complete(Q, stop="\n")


def test_yes_no_helpers():
    import math

    pairs = [("是", math.log(0.6)), ("否", math.log(0.2)), (" 是的", math.log(0.2)), ("是否", math.log(0.5))]
    assert yes_no_from_logprobs(pairs) == pytest.approx(0.8)  # 是否 ("whether") is no answer
    assert answer_kind("否。") == "no" and answer_kind("否则") is None
    assert yes_no_from_logprobs([("好", 0.0)]) is None
    assert yes_no_from_text(" 是。") == 1.0
    assert yes_no_from_text("否，资料未提及") == 0.0
    assert yes_no_from_text("不支持") == 0.0
    assert yes_no_from_text("无法判断") is None


def test_create_llm_picks_backend_without_loading(tmp_path):
    local = create_llm(Settings(model_cache_dir=tmp_path, local_model="0.5b"))
    assert type(local).__name__ == "LocalLlamaLLM"
    assert local.model_id == "local:qwen2.5-coder-0.5b-instruct-q4_k_m"
    pytest.importorskip("openai")
    remote = create_llm(Settings(llm_base_url="http://127.0.0.1:9/v1", llm_model="m"))
    assert type(remote).__name__ == "OpenAICompatLLM"


def test_completion_tokens_per_second():
    c = Completion("x", "m", 10, 11, seconds=2.0, first_token_seconds=1.0)
    assert c.tokens_per_second == pytest.approx(10.0)
    assert Completion("x", "m", None, None, 1.0).tokens_per_second is None
