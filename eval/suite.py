"""Eval suites: typed, validated YAML (``eval/suites/*.yaml``).

A suite picks its LLM (``scripted``: replies written in each case, deterministic, for CI;
``default``: ``create_llm(settings)``), its embedder, the corpus it indexes, whether the
support judge runs, the prompt variants per task, default assertions for every case, and
suite-level thresholds on per-variant metrics. Unknown keys are errors: a typo must not
silently turn an assertion off.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

TASKS = ("ask", "draft", "summarize")
# Aggregate metrics a threshold can name (see eval.metrics.aggregate).
METRICS = (
    "pass_rate",
    "recall_at_k",
    "mrr",
    "figure_precision",
    "support_rate",
    "citation_validity",
    "key_figure_coverage",
    "structure_ok",
    "unsupported_figures",
    "latency_mean_s",
    "latency_max_s",
    "prompt_tokens",
    "completion_tokens",
    # drafts (issue 17)
    "facts_used_rate",
    "invented_incidents",
    "longest_copy_max",
    "length_in_range_rate",
    "topic_ok_rate",
)

Text = str | list[str]  # a list means "any of these"


class SuiteError(ValueError):
    """A suite file is missing or malformed; the message names the file and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Assertions(_Strict):
    contains: list[Text] = []
    not_contains: list[str] = []
    regex: list[str] = []
    contains_figures: list[str] = []  # figure-aware: 179.25万 matches 179.25万元
    retrieved: bool | None = None  # the expected source is within the top k (ask)
    max_unsupported: int | None = None  # figures found in no source
    min_support_rate: float | None = None
    min_figure_precision: float | None = None
    citations_valid: bool | None = None
    min_citations: int | None = None
    max_latency_s: float | None = None
    structure: Literal["enum", "numbered", "any"] | None = None  # drafts: 一是… / （一）…
    no_redaction: bool | None = None
    placeholders_listed: bool | None = None
    min_key_figure_coverage: float | None = None
    # drafts: every user fact used as given; no invented incident/outcome; no run longer than
    # this copied from a single past report; length within the corpus' range; points on topic
    facts_used: bool | None = None
    max_invented_incidents: int | None = None
    max_longest_copy: int | None = None
    length_in_range: bool | None = None
    on_topic: bool | None = None

    def merged(self, defaults: Assertions) -> Assertions:
        """Case values win; unset case values fall back to the suite defaults."""
        mine = self.model_dump(exclude_unset=True)
        return Assertions(**{**defaults.model_dump(exclude_unset=True), **mine})


class Case(_Strict):
    id: str
    task: Literal["ask", "draft", "summarize"]
    # ask
    question: str | None = None
    where: dict[str, Any] | None = None
    expect_source: str | None = None  # substring of the relevant passage's source
    expect_passage: list[str] = []  # substrings the relevant passage contains
    # draft
    role: str | None = None
    section: str | None = None
    year: int | None = None
    topic: str = ""
    facts: list[str] = []
    length: int = 300
    # summarize
    file: str | None = None  # relative to the suite file
    key_figures: list[str] = []
    # scripted LLM (llm: scripted): the reply, {cite:TEXT} → [n] of the passage holding TEXT
    reply: str | None = None
    judge_yes: dict[str, float] = {}  # substring of the judge prompt → P(是)
    checks: Assertions = Field(default_factory=Assertions, alias="assert")

    @model_validator(mode="after")
    def _needs(self) -> Case:
        need = {"ask": ("question",), "draft": ("role", "section"), "summarize": ("file",)}[self.task]
        missing = [k for k in need if not getattr(self, k)]
        if missing:
            raise ValueError(f"case {self.id!r} ({self.task}) needs {', '.join(missing)}")
        return self

    def inputs(self) -> dict:
        """What the output depends on (the cache key part); assertions are not inputs."""
        return self.model_dump(exclude={"checks"}, exclude_defaults=True)


class Thresholds(_Strict):
    min: dict[str, float] = {}
    max: dict[str, float] = {}

    @model_validator(mode="after")
    def _known(self) -> Thresholds:
        unknown = sorted((set(self.min) | set(self.max)) - set(METRICS))
        if unknown:
            raise ValueError(f"unknown threshold metric(s) {unknown}: use {', '.join(METRICS)}")
        return self


class Suite(_Strict):
    name: str
    description: str = ""
    llm: Literal["default", "scripted"] = "default"
    embedder: str | None = None  # None: the settings' (RAG_EMBEDDER, default e5)
    corpus: list[str] = ["../../seeds"]  # relative to the suite file
    judge: bool = False  # run the LLM support judge on every output sentence (slow)
    k: int = 4
    variants: dict[str, list[str]] = {}  # task → prompt variants; default: all files
    settings: dict[str, Any] = {}  # Settings overrides (max_tokens, n_ctx, …)
    defaults: Assertions = Field(default_factory=Assertions)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    cases: list[Case]
    path: Path = Path(".")
    sha256: str = ""

    @model_validator(mode="after")
    def _unique_ids(self) -> Suite:
        ids = [c.id for c in self.cases]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate case ids: {dupes}")
        unknown = sorted(set(self.variants) - set(TASKS))
        if unknown:
            raise ValueError(f"variants for unknown task(s) {unknown}: use {', '.join(TASKS)}")
        return self

    def resolve(self, relative: str) -> Path:
        return (self.path.parent / relative).resolve()

    def corpus_paths(self) -> list[Path]:
        return [self.resolve(p) for p in self.corpus]


def load_suite(path: str | Path) -> Suite:
    path = Path(path)
    if not path.is_file():
        known = sorted(p.name for p in Path("eval/suites").glob("*.yaml"))
        raise SuiteError(f"找不到评测套件 {path}" + (f"：已有 {', '.join(known)}" if known else ""))
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SuiteError(f"{path}: 不是有效的 UTF-8 YAML：{exc}") from exc
    if not isinstance(data, dict):
        raise SuiteError(f"{path}: 顶层必须是映射（name, cases, …）")
    try:
        return Suite(**data, path=path.resolve(), sha256=hashlib.sha256(raw).hexdigest())
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SuiteError(f"{path}: {problems}") from exc
