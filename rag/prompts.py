"""Prompts are files: ``prompts/<task>/<variant>.yaml`` with keys

    description: one line
    inputs: [name, ...]        # every input render() accepts, and requires
    system: Jinja2 template
    user: Jinja2 template

Rendering is strict (StrictUndefined): a missing or undeclared input is a ``PromptError``
naming the file and the input. A template that uses a name not declared in ``inputs`` fails
at load time. Each template carries ``hash``: the first 16 hex chars of the sha256 of its
canonical content (the parsed mapping as sorted, compact JSON), so YAML layout and comments
do not change it, while any change of a value does. Store ``id`` and ``hash`` with every output.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

DEFAULT_PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
KEYS = ("description", "inputs", "system", "user")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

_env = ImmutableSandboxedEnvironment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


class PromptError(ValueError):
    """A prompt file is missing or malformed, or was rendered with wrong inputs."""


@dataclass(frozen=True)
class PromptTemplate:
    id: str  # "task/variant"
    hash: str  # 16 hex chars
    path: Path
    description: str
    inputs: tuple[str, ...]
    system: str
    user: str

    def render(self, **inputs: Any) -> list[dict[str, str]]:
        """Chat messages: a system message (when non-empty) and the user message."""
        missing = [n for n in self.inputs if n not in inputs]
        if missing:
            raise PromptError(
                f"{self.path}: 缺少输入 {', '.join(missing)}（{self.id} 需要：{', '.join(self.inputs)}）"
            )
        extra = sorted(set(inputs) - set(self.inputs))
        if extra:
            raise PromptError(
                f"{self.path}: 未声明的输入 {', '.join(extra)}（{self.id} 只接受：{', '.join(self.inputs)}）"
            )
        messages = []
        for role, source in (("system", self.system), ("user", self.user)):
            try:
                text = _env.from_string(source).render(**inputs).strip()
            except jinja2.TemplateError as exc:
                raise PromptError(f"{self.path}: 渲染 {role} 失败：{exc}") from exc
            if text or role == "user":
                messages.append({"role": role, "content": text})
        return messages


def prompts_dir(settings_or_dir: Any) -> Path:
    if settings_or_dir is None:
        return DEFAULT_PROMPTS_DIR
    if isinstance(settings_or_dir, str | Path):
        return Path(settings_or_dir)
    return Path(settings_or_dir.prompts_dir)


def load_prompt(settings_or_dir: Any, task: str, variant: str = "default") -> PromptTemplate:
    """Load and validate ``<prompts_dir>/<task>/<variant>.yaml``."""
    for kind, name in (("task", task), ("variant", variant)):
        if not _NAME.match(name or ""):
            raise PromptError(f"非法的 {kind} 名 {name!r}：只能用小写字母、数字、- 和 _")
    root = prompts_dir(settings_or_dir)
    path = root / task / f"{variant}.yaml"
    if not path.is_file():
        known = list_variants(root, task)
        hint = f"已有变体：{', '.join(known)}" if known else f"{root} 下没有任务 {task!r}（RAG_PROMPTS_DIR）"
        raise PromptError(f"找不到提示文件 {path}：{hint}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PromptError(f"{path}: 不是有效的 UTF-8 YAML：{exc}") from exc
    if not isinstance(data, dict):
        raise PromptError(f"{path}: 顶层必须是映射，包含键 {', '.join(KEYS)}")
    missing = [k for k in KEYS if k not in data]
    unknown = sorted(set(data) - set(KEYS))
    if missing or unknown:
        raise PromptError(f"{path}: 缺少键 {missing} / 未知键 {unknown}；需要且只能有 {', '.join(KEYS)}")
    inputs = data["inputs"] or []
    if not isinstance(inputs, list) or not all(isinstance(n, str) and n.isidentifier() for n in inputs):
        raise PromptError(f"{path}: inputs 必须是标识符列表，如 [question, passages]")
    if len(set(inputs)) != len(inputs):
        raise PromptError(f"{path}: inputs 有重复项：{inputs}")
    for key in ("description", "system", "user"):
        if not isinstance(data[key], str):
            raise PromptError(f"{path}: {key} 必须是字符串")
        if key == "description":
            continue
        try:
            used = jinja2.meta.find_undeclared_variables(_env.parse(data[key]))
        except jinja2.TemplateSyntaxError as exc:
            raise PromptError(f"{path}: {key} 模板语法错误（第 {exc.lineno} 行）：{exc.message}") from exc
        undeclared = sorted(used - set(inputs))
        if undeclared:
            raise PromptError(f"{path}: {key} 用到了未在 inputs 声明的 {', '.join(undeclared)}")
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return PromptTemplate(
        id=f"{task}/{variant}",
        hash=hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16],
        path=path,
        description=data["description"].strip(),
        inputs=tuple(inputs),
        system=data["system"],
        user=data["user"],
    )


def list_variants(settings_or_dir: Any, task: str) -> list[str]:
    """Variant names of ``task``, sorted, "default" first."""
    folder = prompts_dir(settings_or_dir) / task
    names = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    return sorted(names, key=lambda n: (n != "default", n))


def list_tasks(settings_or_dir: Any) -> list[str]:
    root = prompts_dir(settings_or_dir)
    return (
        sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.yaml")))
        if root.is_dir()
        else []
    )


FENCE_OPEN = "<<<资料 {n} 开始>>>"
FENCE_CLOSE = "<<<资料 {n} 结束>>>"


def format_passages(passages: Sequence[str | tuple[str, str]]) -> str:
    """Number and fence passages for a prompt's ``passages`` input.

    Each item is the text, or ``(source, text)`` where ``source`` (e.g. the report title and
    section) is shown on the first line inside the fence. Fence-like markers inside the text
    are neutralised so a passage cannot close its fence and smuggle in instructions.
    """
    blocks = []
    for n, item in enumerate(passages, start=1):
        source, text = item if isinstance(item, tuple) else ("", item)
        body = _defuse(f"来源：{source}\n{text}" if source else text).strip()
        blocks.append(f"{FENCE_OPEN.format(n=n)}\n{body}\n{FENCE_CLOSE.format(n=n)}")
    return "\n".join(blocks)


def _defuse(text: str) -> str:
    return text.replace("<<<", "‹‹‹").replace(">>>", "›››")
