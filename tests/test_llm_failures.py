"""Failing OpenAI-compatible endpoints over real HTTP on 127.0.0.1: HTTP 500 then
recovery, persistent 429, a stream that breaks mid-way, a timeout. The server is a
small local app whose failures we choose; the client under test is the real one."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from rag.llm.base import LLMError
from rag.llm.openai_compat import OpenAICompatLLM
from rag.settings import Settings
from tests.ui_support import free_port

pytestmark = pytest.mark.server
MESSAGES = [{"role": "user", "content": "你好"}]


def _completion(text: str) -> dict:
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "flaky",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


def _chunk(text: str) -> str:
    body = {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "flaky",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def flaky_app(state: dict) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": "flaky", "object": "model", "created": 0, "owned_by": "t"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        state["calls"] += 1
        mode = state["mode"]
        if mode == "500-then-ok" and state["calls"] <= 2:
            return JSONResponse({"error": {"message": "boom"}}, status_code=500)
        if mode == "429":
            return JSONResponse({"error": {"message": "slow down"}}, status_code=429)
        if mode == "slow":
            time.sleep(3)
        if body.get("stream"):

            def pieces() -> Iterator[str]:
                yield _chunk("部分")
                yield _chunk("回答")
                if mode == "broken-stream":
                    raise RuntimeError("connection dropped")  # the server dies mid-stream
                yield "data: [DONE]\n\n"

            return StreamingResponse(pieces(), media_type="text/event-stream")
        return _completion("好的")

    return app


@contextmanager
def flaky_server(mode: str) -> Iterator[tuple[str, dict]]:
    state = {"mode": mode, "calls": 0}
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(flaky_app(state), host="127.0.0.1", port=port, log_level="critical")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/v1", state
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _llm(url: str, **kw) -> OpenAICompatLLM:
    return OpenAICompatLLM(Settings(llm_base_url=url, llm_api_key="k", llm_retries=2, llm_timeout=10, **kw))


def test_http_500_is_retried_then_succeeds() -> None:
    with flaky_server("500-then-ok") as (url, state):
        assert _llm(url).complete(MESSAGES).text == "好的"
        assert state["calls"] == 3  # two failures, bounded retries, then success


def test_persistent_429_gives_a_clear_error_after_bounded_retries() -> None:
    with flaky_server("429") as (url, state), pytest.raises(LLMError) as err:
        _llm(url).complete(MESSAGES)
    assert state["calls"] == 3  # 1 try + 2 retries, then stop
    assert "429" in str(err.value) or "限流" in str(err.value) or "频率" in str(err.value)


def test_broken_stream_keeps_the_partial_text_and_raises_llm_error() -> None:
    received: list[str] = []
    with flaky_server("broken-stream") as (url, _state):
        llm = _llm(url)
        with pytest.raises(LLMError):
            for piece in llm.stream(MESSAGES):
                received.append(piece)
    assert "".join(received) == "部分回答"  # what the user already saw is not lost


def test_timeout_is_reported_with_the_setting_to_change() -> None:
    with flaky_server("slow") as (url, _state), pytest.raises(LLMError) as err:
        OpenAICompatLLM(Settings(llm_base_url=url, llm_api_key="k", llm_retries=0, llm_timeout=1)).complete(
            MESSAGES
        )
    assert "RAG_LLM_TIMEOUT" in str(err.value) or "超时" in str(err.value)


def test_secret_key_never_appears_in_errors() -> None:
    with flaky_server("429") as (url, _state), pytest.raises(LLMError) as err:
        OpenAICompatLLM(Settings(llm_base_url=url, llm_api_key="sk-very-secret", llm_retries=0)).complete(
            MESSAGES
        )
    assert "sk-very-secret" not in str(err.value)
