"""OpenAICompatLLM: any OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server, DeepSeek, Qwen …).

Configured by ``RAG_LLM_BASE_URL`` / ``RAG_LLM_API_KEY`` / ``RAG_LLM_MODEL``. Retries with
exponential backoff are the openai client's own (``max_retries=settings.llm_retries``:
connection errors, 408/409/429/5xx). Every failure surfaces as ``LLMError`` saying what to fix.

The model is resolved once, on first use: when ``RAG_LLM_MODEL`` is unset, the first entry of
``/models``; when set and the server lists models, it must be among them (some servers, the
llama.cpp one among them, silently answer with their default model for any unknown name, which
would make the recorded provenance wrong).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import openai

from rag.llm.base import LLM, Completion, LLMError, Usage, yes_no_from_logprobs, yes_no_from_text
from rag.settings import Settings

_DUMMY_KEY = "sk-no-key-required"  # local servers ignore the key; the client insists on one


class OpenAICompatLLM(LLM):
    def __init__(self, settings: Settings, *, client: openai.OpenAI | None = None) -> None:
        if not settings.llm_base_url:
            raise LLMError("未设置 RAG_LLM_BASE_URL（例如 http://127.0.0.1:8000/v1）。")
        self.base_url = settings.llm_base_url
        self.timeout = settings.llm_timeout
        self.retries = settings.llm_retries
        self.default_max_tokens = settings.max_tokens
        self.default_temperature = settings.temperature
        self._wanted = settings.llm_model
        self._model: str | None = None
        self._lock = threading.Lock()
        self._stream_usage = True  # dropped if the server rejects stream_options
        self._logprobs = True  # dropped if the server rejects logprobs
        self.last_completion = None
        self.client = client or openai.OpenAI(
            base_url=self.base_url,
            api_key=settings.llm_api_key or _DUMMY_KEY,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_retries,
        )

    # -- model resolution ---------------------------------------------------
    @property
    def model_id(self) -> str:
        """The model name sent to the server (resolved on first access; may raise LLMError)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._resolve_model()
        return self._model

    def available_models(self) -> list[str] | None:
        """Model ids from ``/models``; None when the server does not offer the list."""
        try:
            return [m.id for m in self.client.models.list()]
        except (openai.NotFoundError, openai.UnprocessableEntityError, openai.PermissionDeniedError):
            return None
        except openai.OpenAIError as exc:
            raise self._error(exc) from exc

    def _resolve_model(self) -> str:
        models = self.available_models()
        if self._wanted:
            if models is not None and self._wanted not in models:
                raise LLMError(self._unknown_model_msg(self._wanted, models))
            return self._wanted
        if not models:
            raise LLMError(
                f"RAG_LLM_BASE_URL={self.base_url} 没有列出任何模型（/models 为空或不可用）："
                "设置 RAG_LLM_MODEL。"
            )
        return models[0]

    def _unknown_model_msg(self, model: str, models: list[str] | None) -> str:
        listed = "、".join(models[:20]) if models else "（服务未列出模型）"
        return f"模型 RAG_LLM_MODEL={model!r} 在 {self.base_url} 上不存在。可用模型：{listed}。"

    # -- calls ----------------------------------------------------------------
    def _request(self, messages, *, max_tokens, temperature, stop) -> dict:
        req = {"model": self.model_id, "messages": messages, "max_tokens": max_tokens}
        req["temperature"] = temperature
        return {**req, "stop": stop} if stop else req

    def _complete(self, messages, *, max_tokens, temperature, stop) -> Completion:
        req = self._request(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)
        start = time.perf_counter()
        try:
            resp = self.client.chat.completions.create(**req)
        except openai.OpenAIError as exc:
            raise self._error(exc) from exc
        seconds = time.perf_counter() - start
        if not resp.choices:
            raise LLMError(f"{self.base_url} 返回了空的 choices：检查服务日志。")
        choice = resp.choices[0]
        usage = resp.usage
        return Completion(
            text=choice.message.content or "",
            model=resp.model or req["model"],
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            seconds=seconds,
            finish_reason=choice.finish_reason,
        )

    def _stream(self, messages, *, max_tokens, temperature, stop) -> Iterator[str | Usage]:
        req = self._request(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)
        usage, model, reason = None, None, None
        try:
            chunks = self._open_stream(req)
            try:
                for chunk in chunks:
                    model = model or chunk.model
                    if chunk.usage is not None:
                        usage = chunk.usage
                    for choice in chunk.choices:
                        reason = choice.finish_reason or reason
                        if choice.delta and choice.delta.content:
                            yield choice.delta.content
            finally:
                chunks.close()  # also when the caller stops early: free the connection
        except openai.OpenAIError as exc:
            raise self._error(exc) from exc
        yield Usage(
            usage.prompt_tokens if usage else None,
            usage.completion_tokens if usage else None,
            model or req["model"],
            reason,
        )

    def _open_stream(self, req: dict):
        if self._stream_usage:
            try:
                return self.client.chat.completions.create(
                    **req, stream=True, stream_options={"include_usage": True}
                )
            except openai.BadRequestError as exc:
                if "stream_options" not in str(exc):
                    raise
                self._stream_usage = False
        return self.client.chat.completions.create(**req, stream=True)

    def _yes_probability(self, messages: list[dict]) -> float:
        if self._logprobs:
            req = self._request(messages, max_tokens=1, temperature=0.0, stop=None)
            try:
                resp = self.client.chat.completions.create(**req, logprobs=True, top_logprobs=20)
            except openai.BadRequestError as exc:
                if "logprob" not in str(exc).lower():
                    raise self._error(exc) from exc
                self._logprobs = False  # server has no logprobs: parse answers from now on
            except openai.OpenAIError as exc:
                raise self._error(exc) from exc
            else:
                p = _yes_from_response(resp)
                if p is not None:
                    return p
        parsed = yes_no_from_text(self._complete(messages, max_tokens=4, temperature=0.0, stop=None).text)
        return 0.5 if parsed is None else parsed

    # -- errors -------------------------------------------------------------
    def _error(self, exc: Exception) -> LLMError:
        url = self.base_url
        if isinstance(exc, openai.APITimeoutError):
            return LLMError(
                f"请求 RAG_LLM_BASE_URL={url} 超时"
                f"（RAG_LLM_TIMEOUT={self.timeout}s，重试 {self.retries} 次）："
                "检查服务负载，或调大 RAG_LLM_TIMEOUT、调小 RAG_MAX_TOKENS。"
            )
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            return LLMError(
                f"无法连接 RAG_LLM_BASE_URL={url} — 检查服务是否启动、地址与端口是否正确"
                f"（OpenAI 兼容接口一般以 /v1 结尾）。原因：{cause}"
            )
        if isinstance(exc, openai.AuthenticationError):
            return LLMError(f"{url} 拒绝了 API key（HTTP 401）：检查 RAG_LLM_API_KEY。")
        if isinstance(exc, openai.PermissionDeniedError):
            return LLMError(f"{url} 拒绝访问（HTTP 403）：该 RAG_LLM_API_KEY 无权使用此模型或接口。")
        if isinstance(exc, openai.NotFoundError):
            return LLMError(self._not_found_msg())
        if isinstance(exc, openai.RateLimitError):
            return LLMError(
                f"{url} 限流或额度不足（HTTP 429，已重试 {self.retries} 次）：稍后再试或检查账户额度。"
            )
        if isinstance(exc, openai.BadRequestError):
            return LLMError(
                f"{url} 拒绝了请求（HTTP 400）：{_detail(exc)}。"
                "若是上下文过长，减少资料条数（RAG_TOP_K）或 RAG_MAX_TOKENS。"
            )
        if isinstance(exc, openai.APIStatusError):
            return LLMError(f"{url} 返回 HTTP {exc.status_code}：{_detail(exc)}。检查服务日志。")
        return LLMError(f"调用 {url} 失败：{exc}")

    def _not_found_msg(self) -> str:
        model = self._model or self._wanted or "?"
        try:
            models = self.available_models()
        except LLMError:
            models = None
        if models is not None and model not in models:
            return self._unknown_model_msg(model, models)
        return (
            f"{self.base_url} 返回 HTTP 404（模型 {model!r}）："
            "检查 RAG_LLM_BASE_URL 的路径（通常以 /v1 结尾）"
            " 和 RAG_LLM_MODEL。"
        )


def _yes_from_response(resp) -> float | None:
    if not resp.choices:
        return None
    choice = resp.choices[0]
    lp = choice.logprobs
    if lp and lp.content and lp.content[0].top_logprobs:
        p = yes_no_from_logprobs((t.token, t.logprob) for t in lp.content[0].top_logprobs)
        if p is not None:
            return p
    return yes_no_from_text(choice.message.content or "")


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error")
        msg = body.get("message") or (err.get("message") if isinstance(err, dict) else err)
        if msg:
            return str(msg)[:300]
    return str(exc.message)[:300]
