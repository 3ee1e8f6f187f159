"""OpenAICompatLLM against a REAL OpenAI-compatible server: llama-cpp-python's own
``python -m llama_cpp.server`` on 127.0.0.1 serving the 0.5B GGUF."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from rag.llm.base import LLMError
from rag.llm.factory import create_llm
from rag.settings import Settings
from tests.llm_support import gguf_path, require

CJK = re.compile(r"[\u4e00-\u9fff]")
ALIAS = "qwen2.5-coder-0.5b"
KEY = "test-key-123"
ASK = [
    {"role": "system", "content": "用简洁的中文回答。"},
    {"role": "user", "content": "用一句话介绍述职报告的作用。"},
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require("llama_cpp")
    require("uvicorn")
    require("sse_starlette")
    model = gguf_path("0.5b")
    port = _free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model), "--model_alias", ALIAS,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--api_key", KEY,
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        req = urllib.request.Request(f"{base}/models", headers={"Authorization": f"Bearer {KEY}"})
        while True:
            try:
                with urllib.request.urlopen(req, timeout=5) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                pytest.fail(f"llama_cpp.server did not come up on {base} (exit {proc.poll()}):\n{tail}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()  # uvicorn waits for a still-running generation: give it 5 s
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _settings(base: str, **kw) -> Settings:
    return Settings(**{"llm_base_url": base, "llm_api_key": KEY, "llm_retries": 0, "max_tokens": 48, **kw})


@pytest.mark.server
@pytest.mark.model
def test_complete_non_streaming(server):
    llm = create_llm(_settings(server))  # model unset: the first one the server lists
    assert type(llm).__name__ == "OpenAICompatLLM"
    assert llm.model_id == ALIAS
    out = llm.complete(ASK, temperature=0.0)
    assert CJK.search(out.text), out.text
    assert out.model == ALIAS
    assert out.prompt_tokens and out.prompt_tokens > 10
    assert out.completion_tokens and 0 < out.completion_tokens <= 48
    assert out.finish_reason in ("stop", "length")
    assert llm.last_completion is out


@pytest.mark.server
@pytest.mark.model
def test_stream(server):
    llm = create_llm(_settings(server, llm_model=ALIAS))
    pieces = list(llm.stream(ASK, temperature=0.0, max_tokens=32))
    c = llm.last_completion
    assert len(pieces) > 1 and "".join(pieces) == c.text
    assert CJK.search(c.text)
    assert c.first_token_seconds is not None and 0 < c.first_token_seconds <= c.seconds
    # llama.cpp's server ignores stream_options: usage is None there, never made up.
    assert c.completion_tokens is None or c.completion_tokens > 0
    assert c.finish_reason in ("stop", "length")


@pytest.mark.server
@pytest.mark.model
def test_yes_probability_via_logprobs(server):
    llm = create_llm(_settings(server))
    passage = "2023年全乡投入资金179.25万元，新建村级文化广场800平米，组织文艺演出26场次。"

    def judge(claim):
        return [
            {"role": "system", "content": "你是核查员。根据资料判断陈述是否被资料支持，只回答“是”或“否”。"},
            {"role": "user", "content": f"资料：{passage}\n陈述：{claim}\n资料是否支持该陈述？"},
        ]

    yes = llm.yes_probability(judge("新建村级文化广场800平米。"))
    no = llm.yes_probability(judge("全年引进外资5亿元，建成三座跨江大桥。"))
    assert 0.0 <= no < yes <= 1.0, (yes, no)
    assert llm._logprobs, "the llama.cpp server offers top_logprobs: the answer parse fallback was not needed"


@pytest.mark.server
@pytest.mark.model
def test_unknown_model_lists_available(server):
    llm = create_llm(_settings(server, llm_model="no-such-model"))
    with pytest.raises(LLMError) as err:
        llm.complete(ASK)
    msg = str(err.value)
    assert "no-such-model" in msg and ALIAS in msg and "RAG_LLM_MODEL" in msg


@pytest.mark.server
@pytest.mark.model
def test_bad_key(server):
    llm = create_llm(_settings(server, llm_api_key="wrong"))
    with pytest.raises(LLMError, match="RAG_LLM_API_KEY"):
        list(llm.stream(ASK))


@pytest.mark.server
@pytest.mark.model
def test_timeout(server):
    llm = create_llm(_settings(server, llm_model=ALIAS, llm_timeout=0.05))
    with pytest.raises(LLMError, match="RAG_LLM_TIMEOUT"):
        llm.complete(ASK, max_tokens=16)


def test_unreachable_port_names_the_setting():
    require("openai")
    port = _free_port()  # nothing listens there
    llm = create_llm(Settings(llm_base_url=f"http://127.0.0.1:{port}/v1", llm_retries=0, llm_model="m"))
    start = time.monotonic()
    with pytest.raises(LLMError) as err:
        llm.complete(ASK)
    msg = str(err.value)
    assert "RAG_LLM_BASE_URL" in msg and str(port) in msg and "检查服务是否启动" in msg
    with pytest.raises(LLMError, match="RAG_LLM_BASE_URL"):
        list(llm.stream(ASK))
    assert time.monotonic() - start < 30
