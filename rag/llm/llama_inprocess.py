"""InProcessLlamaLLM: llama.cpp (llama-cpp-python) in this process, on the verified local GGUF.

The server never runs this directly: ``LocalLlamaLLM`` (rag/llm/local.py) runs it in a
supervised worker process (rag/llm/worker.py), so a native crash cannot take the server down.
``rag bench llm`` runs it in-process to measure the worker's overhead.

- Loads lazily on first use (``.llama``), with the GGUF's own chat template.
- One call at a time per instance (a lock): llama.cpp contexts are not thread-safe and
  the machine has 2 cores anyway. A ``stream()`` holds the lock until it is exhausted or closed.
- KV reuse: llama.cpp keeps the tokens of the previous call and only evaluates the part of
  the next prompt after the longest common prefix, so consecutive calls that share a prefix
  (same system prompt and passages, another question or claim) start sooner.
  ``yes_probability`` uses the same prefix matching.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rag.llm.base import LLM, NO, YES, Completion, LLMError, Usage, answer_kind
from rag.llm.call_lock import CallLock
from rag.llm.cpu import RepackChoice, choose_repack, read_cpu_info
from rag.llm.model_files import MODELS, ModelFileError, ensure_local_model
from rag.settings import Settings

_INSTALL_HINT = (
    "llama-cpp-python 未安装：运行 bash scripts/setup.sh（安装 .[all]），"
    "或 pip install 'llama-cpp-python>=0.3'；"
    "也可以设置 RAG_LLM_BASE_URL 改用 OpenAI 兼容服务。"
)


def _llama_class(llama_cpp: Any, use_extra_bufts: bool) -> type:
    """A Llama whose model parameters carry ``use_extra_bufts`` (weight repacking).

    llama-cpp-python 0.3.36 takes no such argument: ``Llama.__init__`` builds
    ``self.model_params`` from llama.cpp's defaults, fills it in and loads the model with it.
    Setting the field as that attribute is assigned reaches the load without touching the
    installed package.
    """

    class RepackAwareLlama(llama_cpp.Llama):
        def __setattr__(self, name: str, value: Any) -> None:
            if name == "model_params":
                value.use_extra_bufts = use_extra_bufts
            super().__setattr__(name, value)

    return RepackAwareLlama


_WARM_BATCH = 32  # tokens per step of the idle prefix warm-up: a waiting request waits ≤ ~1 s


class InProcessLlamaLLM(LLM):
    def __init__(self, settings: Settings, *, model_path: str | Path | None = None) -> None:
        self.settings = settings
        self.model_path = Path(model_path) if model_path else None
        spec = MODELS.get(str(settings.local_model).lower())
        stem = (
            self.model_path.stem
            if self.model_path
            else (spec.filename.removesuffix(".gguf") if spec else Path(settings.local_model).stem)
        )
        self.model_id = f"local:{stem}"
        self.default_max_tokens = settings.max_tokens
        self.default_temperature = settings.temperature
        self.n_ctx = settings.n_ctx
        self.n_threads = settings.n_threads
        self.last_completion = None
        self._llama: Any = None
        self._formatter: Any = None
        self._yes_no_ids: tuple[np.ndarray, np.ndarray] | None = None
        self._calls = CallLock(settings.llm_timeout)
        self._load_lock = threading.Lock()
        self._prefix_tokens: list[int] | None = None
        self.repack: RepackChoice | None = None  # decided at load time
        self.system_info = ""

    # -- loading ------------------------------------------------------------
    @property
    def llama(self) -> Any:
        """The loaded ``llama_cpp.Llama`` (loads on first access)."""
        if self._llama is None:
            with self._load_lock:
                if self._llama is None:
                    self._llama = self._load()
        return self._llama

    def _load(self) -> Any:
        try:
            import llama_cpp
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as exc:
            raise LLMError(_INSTALL_HINT) from exc
        try:
            path = self.model_path or ensure_local_model(self.settings)
        except ModelFileError as exc:
            raise LLMError(str(exc)) from exc
        self.system_info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
        self.repack = choose_repack(read_cpu_info(), self.system_info, self.settings.llm_repack)
        extra: dict[str, Any] = {}
        if self.settings.llm_prompt_lookup > 0:
            from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

            extra["draft_model"] = LlamaPromptLookupDecoding(num_pred_tokens=self.settings.llm_prompt_lookup)
            # Drafts need the logits of every token. llama-cpp-python 0.3.36 sizes its scores
            # buffer from the logits_all argument (n_batch rows when False) even with a draft
            # model, and then fails once a call passes n_batch tokens: ask for it explicitly.
            extra["logits_all"] = True
        try:
            llama = _llama_class(llama_cpp, self.repack.enabled)(
                model_path=str(path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                chat_format="chat_template.default",  # the GGUF's own template
                verbose=False,
                **extra,
            )
        except (ValueError, RuntimeError) as exc:
            raise LLMError(
                f"llama.cpp 无法加载 {path}（{exc}）：删除该文件及其 .verified 后重试以重新拼接，"
                "或检查 RAG_N_CTX 是否过大。"
            ) from exc
        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise LLMError(f"{path} 没有内置 chat template：换用带模板的 GGUF（如 1.5b / 0.5b）。")
        eos = llama.token_eos()
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=llama.detokenize([eos], special=True).decode("utf-8", "replace") if eos != -1 else "",
            bos_token="",
            stop_token_ids=[eos],
        )
        return llama

    def _busy(self) -> contextlib.AbstractContextManager[None]:
        """Hold the model for one call; fail clearly instead of deadlocking."""
        return self._calls.hold()

    # -- the worker's entry points (rag/llm/worker.py) ---------------------------
    def describe(self) -> dict:
        """Load the model and say how it runs (reported by /api/health and rag doctor)."""
        _ = self.llama
        assert self.repack is not None
        return {
            "model": self.model_id,
            "pid": os.getpid(),
            "repack": self.repack.enabled,
            "repack_reason": self.repack.reason,
            "system_info": self.system_info,
            "n_threads": self.n_threads,
        }

    def close_model(self) -> None:
        """Free the model (benchmarks load several in turn)."""
        with self._load_lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None

    def warm_prefix(self, should_stop: Callable[[], bool]) -> int:
        """Evaluate the ask prompt's fixed prefix (chat template + system prompt) into the KV cache.

        The worker calls this while idle, so a question asked after a judge or draft call still
        finds its fixed ~180 tokens evaluated (llama.cpp reuses the longest common prefix).
        Evaluated in small batches; stops as soon as ``should_stop()`` (a request is waiting).
        Returns the tokens evaluated now.
        """
        prefix = self._warm_tokens()
        llama = self.llama
        with self._busy():
            common = llama.longest_token_prefix(llama.input_ids[: llama.n_tokens].tolist(), prefix)
            if common >= len(prefix):
                return 0
            llama.n_tokens = common  # eval() drops the KV after n_tokens first
            done = 0
            for start in range(common, len(prefix), _WARM_BATCH):
                if should_stop():
                    break
                llama.eval(prefix[start : start + _WARM_BATCH])
                done += len(prefix[start : start + _WARM_BATCH])
            return done

    def _warm_tokens(self) -> list[int]:
        if self._prefix_tokens is None:
            from rag.prompts import load_prompt

            ask = load_prompt(self.settings, "ask")
            one = self.prompt_tokens(ask.render(question="甲", passages="甲", history=""))
            two = self.prompt_tokens(ask.render(question="乙", passages="乙", history=""))
            self._prefix_tokens = one[: self.llama.longest_token_prefix(one, two)]
        return self._prefix_tokens

    def reset_cache(self) -> None:
        """Forget the KV cache: the next call evaluates its whole prompt (benchmarks, tests)."""
        self.llama.reset()

    def raw_complete(self, messages: list[dict], params: dict) -> Completion:
        return self._complete(messages, **params)

    def raw_stream(self, messages: list[dict], params: dict) -> Iterator[str | Usage]:
        return self._stream(messages, **params)

    # -- calls ----------------------------------------------------------------
    def _kwargs(self, messages, max_tokens, temperature, stop) -> dict:
        return {
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stop": stop or [],
        }

    def _complete(self, messages, *, max_tokens, temperature, stop) -> Completion:
        llama = self.llama
        with self._busy():
            start = time.perf_counter()
            try:
                resp = llama.create_chat_completion(**self._kwargs(messages, max_tokens, temperature, stop))
            except ValueError as exc:
                raise self._error(exc) from exc
            seconds = time.perf_counter() - start
        choice, usage = resp["choices"][0], resp.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            model=self.model_id,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            seconds=seconds,
            finish_reason=choice.get("finish_reason"),
        )

    def _stream(self, messages, *, max_tokens, temperature, stop) -> Iterator[str | Usage]:
        llama = self.llama
        kwargs = self._kwargs(messages, max_tokens, temperature, stop)
        with self._busy():
            pieces: list[str] = []
            reason = None
            try:
                chunks = llama.create_chat_completion(**kwargs, stream=True)
                try:
                    for chunk in chunks:
                        choice = chunk["choices"][0]
                        content = choice["delta"].get("content")
                        if content:
                            pieces.append(content)
                            yield content
                        reason = choice.get("finish_reason") or reason
                finally:
                    close = getattr(chunks, "close", None)
                    if close:
                        close()
            except ValueError as exc:
                raise self._error(exc) from exc
            # llama.cpp does not report usage when streaming: count with its tokenizer.
            text = "".join(pieces)
            n_out = len(llama.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0
            yield Usage(len(self.prompt_tokens(messages)), n_out, self.model_id, reason)

    def prompt_tokens(self, messages: list[dict]) -> list[int]:
        """The prompt tokens llama.cpp evaluates for ``messages`` (GGUF chat template applied)."""
        llama = self.llama
        result = self._formatter(messages=messages)  # as llama-cpp's chat handler does
        return llama.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)

    def _yes_probability(self, messages: list[dict]) -> float:
        import llama_cpp

        llama = self.llama
        with self._busy():
            tokens = self.prompt_tokens(messages)
            if len(tokens) >= self.n_ctx:
                raise self._error(ValueError(f"Requested tokens ({len(tokens)}) exceed context window"))
            # Reuse the KV cache for the common prefix with the previous call, then evaluate
            # the rest (at least one token, so the logits are fresh).
            common = llama.longest_token_prefix(llama.input_ids[: llama.n_tokens].tolist(), tokens)
            llama.n_tokens = min(common, len(tokens) - 1)
            llama.eval(tokens[llama.n_tokens :])
            ptr = llama_cpp.llama_get_logits_ith(llama.ctx, -1)
            logits = np.ctypeslib.as_array(ptr, shape=(llama.n_vocab(),)).astype(np.float64)
        yes_ids, no_ids = self._answer_ids()
        probs = np.exp(logits - logits.max())
        yes, no = float(probs[yes_ids].sum()), float(probs[no_ids].sum())
        return 0.5 if yes + no <= 0.0 else yes / (yes + no)

    def _answer_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """Ids of the single tokens 是 / 否 (with or without a leading space)."""
        if self._yes_no_ids is None:
            llama = self.llama
            found: dict[str, set[int]] = {"yes": set(), "no": set()}
            for word in (YES, NO, "是的"):
                for text in (word, " " + word):
                    ids = llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)
                    if len(ids) == 1:
                        kind = answer_kind(llama.detokenize(ids).decode("utf-8", "replace"))
                        if kind:
                            found[kind].add(ids[0])
            if not found["yes"] or not found["no"]:
                raise LLMError(f"{self.model_id} 的词表里“是/否”不是单个 token：换用中文模型做判断。")
            self._yes_no_ids = (np.array(sorted(found["yes"])), np.array(sorted(found["no"])))
        return self._yes_no_ids

    def _error(self, exc: ValueError) -> LLMError:
        msg = str(exc)
        if "exceed context window" in msg:
            return LLMError(
                f"提示过长：{msg}（RAG_N_CTX={self.n_ctx}）。"
                "减少资料条数（RAG_TOP_K）、缩短资料，或调大 RAG_N_CTX。"
            )
        return LLMError(f"llama.cpp 生成失败：{msg}")
