"""LocalLlamaLLM on the real Qwen2.5-Coder GGUF via llama.cpp (marked model)."""

from __future__ import annotations

import re

import pytest

from rag.llm.base import LLMError
from rag.prompts import format_passages, load_prompt
from tests.llm_support import local_llm

pytestmark = pytest.mark.model

CJK = re.compile(r"[\u4e00-\u9fff]")
PASSAGES = format_passages(
    [
        ("乡长2023年度述职报告", "投入资金179.25万元，新建村级文化广场800平米，组织文艺演出26场次。"),
        ("乡长2023年度述职报告", "开展安全生产大检查三轮次，排查整治隐患142处。"),
    ]
)
ASK = load_prompt(None, "ask").render(question="文化广场有多大？", passages=PASSAGES, history="")

JUDGE_SYSTEM = "你是核查员。根据资料判断陈述是否被资料支持，只回答“是”或“否”。"
JUDGE_PASSAGE = "2023年全乡投入资金179.25万元，新建村级文化广场800平米，组织文艺演出26场次。"


def judge(claim: str, passage: str = JUDGE_PASSAGE) -> list[dict]:
    return [
        {"role": "system", "content": JUDGE_SYSTEM},
        {"role": "user", "content": f"资料：{passage}\n陈述：{claim}\n资料是否支持该陈述？"},
    ]


@pytest.fixture(scope="module")
def llm():
    return local_llm("0.5b")


def test_complete_returns_chinese_with_usage(llm):
    out = llm.complete(ASK, max_tokens=48, temperature=0.0)
    assert CJK.search(out.text), out.text
    assert out.model == llm.model_id == "local:qwen2.5-coder-0.5b-instruct-q4_k_m"
    assert out.prompt_tokens == len(llm.prompt_tokens(ASK)) > 100
    assert 0 < out.completion_tokens <= 48
    assert out.seconds > 0 and out.first_token_seconds is None
    assert out.finish_reason in ("stop", "length")


def test_stream_yields_pieces_and_same_greedy_text(llm):
    expected = llm.complete(ASK, max_tokens=40, temperature=0.0)
    pieces = list(llm.stream(ASK, max_tokens=40, temperature=0.0))
    c = llm.last_completion
    assert len(pieces) > 1 and "".join(pieces) == c.text
    assert CJK.search(c.text)
    assert c.text == expected.text  # greedy: streaming changes nothing
    assert c.prompt_tokens == expected.prompt_tokens
    assert abs(c.completion_tokens - expected.completion_tokens) <= 1
    assert 0 < c.first_token_seconds < c.seconds
    assert c.tokens_per_second and c.tokens_per_second > 0


def test_max_tokens_and_early_close(llm):
    out = llm.complete(ASK, max_tokens=3, temperature=0.0)
    assert out.finish_reason == "length" and out.completion_tokens <= 3
    it = llm.stream(ASK, max_tokens=40)
    next(it)
    with pytest.raises(LLMError, match="close"):  # nested call in the same thread: no deadlock
        llm.complete(ASK, max_tokens=2)
    it.close()  # the caller walks away: the model must be free again
    assert llm.last_completion.text  # the partial text is still recorded
    assert CJK.search(llm.complete(ASK, max_tokens=4, temperature=0.0).text)  # and a new call runs


def test_prompt_over_context_is_a_clear_error(llm):
    huge = [{"role": "user", "content": "述职报告" * 3000}]
    with pytest.raises(LLMError, match="RAG_N_CTX"):
        llm.complete(huge, max_tokens=8)
    with pytest.raises(LLMError, match="RAG_N_CTX"):
        llm.yes_probability(huge)
    assert CJK.search(llm.complete(ASK, max_tokens=8, temperature=0.0).text)  # still usable


def test_yes_probability_orders_supported_above_unsupported(llm):
    supported = llm.yes_probability(judge("新建村级文化广场800平米。"))
    unsupported = llm.yes_probability(judge("全年引进外资5亿元，建成三座跨江大桥。"))
    assert 0.0 <= unsupported < supported <= 1.0, (supported, unsupported)


def test_yes_probability_prefix_reuse_matches_cold_eval(llm):
    msgs = judge("组织文艺演出26场次。")
    llm.yes_probability(judge("新建村级文化广场800平米。"))  # shares the system prompt + passage
    warm = llm.yes_probability(msgs)
    llm.reset_cache()
    cold = llm.yes_probability(msgs)
    assert warm == pytest.approx(cold, abs=0.02)
    # The model state stays consistent: the greedy answer agrees with the probability.
    first = llm.complete(msgs, max_tokens=1, temperature=0.0).text.strip()
    assert first[:1] in ("是", "否")
    assert (first[:1] == "是") == (cold > 0.5)


def test_judge_15b_separates_supported_from_changed_figure():
    """The 1.5B is the support judge (DESIGN.md); the 0.5B orders only obvious cases."""
    big = local_llm("1.5b")
    supported = big.yes_probability(judge("新建村级文化广场800平米。"))
    changed = big.yes_probability(judge("新建村级文化广场2000平米。"))
    unrelated = big.yes_probability(judge("全年引进外资5亿元，建成三座跨江大桥。"))
    assert supported > 0.5 > max(changed, unrelated), (supported, changed, unrelated)


def test_the_worker_warms_the_fixed_ask_prefix_and_answers_stay_the_same(llm):
    cold = llm.complete(ASK, max_tokens=24, temperature=0.0).text
    llm.reset_cache()
    warmed = llm.warm_prefix()
    assert warmed > 100  # template + system prompt of prompts/ask/default.yaml
    assert llm.warm_prefix() == 0  # already in the KV cache
    assert llm.complete(ASK, max_tokens=24, temperature=0.0).text == cold


def test_the_model_runs_in_a_worker_process_with_the_cpu_choice(llm):
    import os

    health = llm.health()
    assert health["state"] == "ready" and health["llm_worker_pid"] not in (None, os.getpid())
    assert isinstance(health["repack"], bool) and health["repack_reason"]


@pytest.mark.parametrize("mode", ["off", "on"])
def test_the_repacking_choice_reaches_llama_cpp_model_parameters(mode):
    """llama-cpp-python takes no use_extra_bufts argument: our Llama subclass must set it."""
    from rag.llm.llama_inprocess import InProcessLlamaLLM
    from tests.llm_support import gguf_path, model_settings

    engine = InProcessLlamaLLM(model_settings("0.5b", llm_repack=mode), model_path=gguf_path("0.5b"))
    try:
        assert engine.llama.model_params.use_extra_bufts is (mode == "on")
        assert engine.describe()["repack"] is (mode == "on")
        assert engine.complete([{"role": "user", "content": "你好"}], max_tokens=2).text
    finally:
        engine.close_model()
