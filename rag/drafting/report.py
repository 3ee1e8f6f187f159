"""Whole reports: every section of an outline drafted in order, each with its own facts, then
put together under the report's title with numbered headings and the closing line.

Each section is one ``draft_stream`` call of rag/drafting/section.py (same exemplar search,
guard and citations as a single section); this module only orders the sections, streams
their progress and assembles the text and a combined result: per section its facts, the
facts it did not use, its placeholders and citations; across sections each cited exemplar
span once.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.drafting.section import SECTION_KINDS, DraftError, DraftRequest, DraftResult, draft_stream
from rag.index.index import Index
from rag.llm.base import LLM

CANONICAL_SECTIONS = ("履职情况", "存在问题", "原因分析", "下步打算")
# The closing most reports of the corpus end with (seeds and tests/fixtures/reports).
DEFAULT_CLOSING = "以上述职，不妥之处，敬请批评指正。"
NAME_PLACEHOLDER = "【待补充：述职人姓名】"
_NUMERALS = "一二三四五六七八九十"
_LINE_H1 = re.compile(r"^([一二三四五六七八九十]+)、", re.M)
_FACT_LINE = re.compile(r"^([^:：]{1,12})[:：](.*)$")  # 部分：事实 (a fact may hold colons itself)
_LEAD_NUMBER = re.compile(r"^[一二三四五六七八九十\d]+[、.．]\s*|^[（(][一二三四五六七八九十]+[）)]\s*")
FACTS_FORMAT_HINT = (
    "每行写成“部分：事实”（如 存在问题：整改隐患37处），或用 .yaml/.json 写成 {部分: [事实, …]}"
)


@dataclass(frozen=True)
class SectionPlan:
    """One section of the outline: its name as the user writes it, its facts and 侧重点."""

    section: str
    facts: tuple[str, ...] = ()
    topic: str = ""

    @property
    def kind(self) -> str:
        kind = SECTION_KINDS.get(self.section.strip())
        if kind is None:
            raise DraftError(f"不认识的部分 {self.section!r}：可用 {'、'.join(CANONICAL_SECTIONS)} 等")
        return kind


def default_outline() -> tuple[SectionPlan, ...]:
    return tuple(SectionPlan(s) for s in CANONICAL_SECTIONS)


@dataclass(frozen=True)
class ReportRequest:
    role: str
    year: int | None = None
    sections: tuple[SectionPlan, ...] = field(default_factory=default_outline)
    topic: str = ""  # for every section that has no 侧重点 of its own
    length: int = 400  # per section
    level: str | None = None
    name: str = ""  # 述职人; empty → a placeholder the signer fills
    closing: str = DEFAULT_CLOSING

    def validate(self) -> None:
        """Known sections, each kind once: a clear error before any model call."""
        if not self.role.strip():
            raise DraftError("请填写职务（如 副乡长）：整篇报告按同职务的范文起草")
        if not self.sections:
            raise DraftError(f"提纲为空：请至少选一个部分（{'、'.join(CANONICAL_SECTIONS)}）")
        seen: dict[str, str] = {}
        for plan in self.sections:
            if plan.kind in seen:
                raise DraftError(f"提纲里 {seen[plan.kind]!r} 和 {plan.section!r} 是同一部分：每部分只写一次")
            seen[plan.kind] = plan.section

    def section_request(self, plan: SectionPlan) -> DraftRequest:
        return DraftRequest(
            role=self.role,
            section=plan.section,
            year=self.year,
            topic=plan.topic or self.topic,
            facts=plan.facts,
            length=self.length,
            level=self.level,
        )

    def to_json(self) -> dict:
        return {
            "role": self.role,
            "year": self.year,
            "topic": self.topic,
            "length": self.length,
            "name": self.name,
            "sections": [
                {"section": p.section, "facts": list(p.facts), "topic": p.topic} for p in self.sections
            ],
        }


@dataclass(frozen=True)
class SectionStarted:
    """Streamed before a section's text: which section, of how many."""

    n: int  # 1-based
    total: int
    section: str
    heading: str

    def to_json(self) -> dict:
        return {"n": self.n, "total": self.total, "section": self.section, "heading": self.heading}


def report_title(role: str, year: int | None) -> str:
    """As the corpus titles them: 镇党委书记2022年述职报告."""
    return f"{role}{f'{year}年' if year else ''}述职报告"


def heading(n: int, section: str) -> str:
    return f"{_NUMERALS[n - 1] if n <= len(_NUMERALS) else n}、{section}"


def section_body(text: str, section: str) -> str:
    """A section's text under the report's own heading: a first line that only repeats the
    section's name goes, and 一、 lines become （一） (一、 is the report's level)."""
    lines = text.strip().splitlines()
    if lines:
        first = _LEAD_NUMBER.sub("", lines[0].strip()).rstrip("：:")
        if first == section or SECTION_KINDS.get(first, "?") == SECTION_KINDS.get(section):
            lines = lines[1:]
    return _LINE_H1.sub(r"（\1）", "\n".join(lines).strip())


def closing_lines(req: ReportRequest) -> tuple[str, ...]:
    return (req.closing.strip() or DEFAULT_CLOSING, f"述职人：{req.name.strip() or NAME_PLACEHOLDER}")


@dataclass(frozen=True)
class ReportResult:
    request: ReportRequest
    title: str
    headings: tuple[str, ...]
    sections: tuple[DraftResult, ...]
    closing: tuple[str, ...]
    timing: dict[str, float] = field(default_factory=dict)

    def bodies(self) -> list[str]:
        return [
            section_body(r.text, p.section) for r, p in zip(self.sections, self.request.sections, strict=True)
        ]

    @property
    def text(self) -> str:
        parts = [f"{h}\n{b}" for h, b in zip(self.headings, self.bodies(), strict=True)]
        return "\n".join([*parts, *self.closing])

    def to_json(self) -> dict:
        sections = []
        for h, body, r in zip(self.headings, self.bodies(), self.sections, strict=True):
            data = r.to_json()
            sections.append(
                {
                    **data,
                    "heading": h,
                    "section": r.request.section,
                    "body": body,
                    # Present once the section engine reports them; [] / None before.
                    "facts_unused": list(data.get("facts_unused") or []),
                    "longest_copy": data.get("longest_copy"),
                }
            )
        return {
            "title": self.title,
            "text": self.text,
            "closing": list(self.closing),
            "sections": sections,
            "facts_unused": [
                {"section": s["section"], "fact": f} for s in sections for f in s["facts_unused"]
            ],
            "placeholders": [{**p, "section": s["section"]} for s in sections for p in s["placeholders"]]
            + self._closing_placeholders(),
            "citations": unique_citations(sections),
            "request": self.request.to_json(),
            "model": self.sections[0].model if self.sections else "",
            "timing": self.timing,
        }

    def _closing_placeholders(self) -> list[dict]:
        if not any(NAME_PLACEHOLDER in line for line in self.closing):
            return []
        label = NAME_PLACEHOLDER[len("【待补充：") : -1]
        return [
            {"label": label, "original": "", "kind": "model", "text": NAME_PLACEHOLDER, "section": "结尾"}
        ]


def unique_citations(sections: Sequence[Mapping]) -> list[dict]:
    """Every exemplar span cited anywhere in the report, once, with the sections citing it.
    A section numbers its exemplars [1], [2] on its own; here each exemplar report gets one
    number for the whole report, in order of first citation."""
    numbers: dict[tuple, int] = {}
    out: dict[tuple, dict] = {}
    for s in sections:
        for c in s.get("citations", []):
            report = (c.get("source"), c.get("report_index"))
            n = numbers.setdefault(report, len(numbers) + 1)
            entry = out.setdefault((*report, c.get("start"), c.get("end")), {**c, "n": n, "sections": []})
            if s["section"] not in entry["sections"]:
                entry["sections"].append(s["section"])
    return list(out.values())


def report_stream(
    index: Index, llm: LLM, req: ReportRequest, *, variant: str = "default"
) -> Iterator[SectionStarted | str | DraftResult | ReportResult]:
    """Per section: a SectionStarted, the streamed text, its DraftResult; then the ReportResult."""
    req.validate()
    t0 = time.perf_counter()
    total = len(req.sections)
    headings = tuple(heading(n, p.section) for n, p in enumerate(req.sections, 1))
    results: list[DraftResult] = []
    timing: dict[str, float] = {}
    for n, (plan, head) in enumerate(zip(req.sections, headings, strict=True), 1):
        yield SectionStarted(n, total, plan.section, head)
        started = time.perf_counter()
        result = None
        for event in draft_stream(index, llm, req.section_request(plan), variant=variant):
            if isinstance(event, DraftResult):
                result = event
            else:
                yield event
        if result is None:  # draft_stream always ends with its result; say so if not
            raise DraftError(f"{plan.section}：起草没有返回结果")
        results.append(result)
        timing[f"{plan.section}_s"] = round(time.perf_counter() - started, 3)
        yield result
    timing["total_s"] = round(time.perf_counter() - t0, 3)
    yield ReportResult(
        req, report_title(req.role, req.year), headings, tuple(results), closing_lines(req), timing
    )


def draft_report(index: Index, llm: LLM, req: ReportRequest, **kwargs) -> ReportResult:
    final = None
    for event in report_stream(index, llm, req, **kwargs):
        if isinstance(event, ReportResult):
            final = event
    assert final is not None
    return final


# ------------------------------------------------------------------ outline with facts


def ordered_outline(
    sections: Sequence[str] | None,
    facts: Mapping[str, Sequence[str]],
    topics: Mapping[str, str] | None = None,
) -> tuple[SectionPlan, ...]:
    """The outline (``sections``, default the four standard parts) with each section's facts.
    Facts are matched to sections by kind (问题 → 存在问题); facts for a section the outline
    lacks are an error rather than silently dropped."""
    names = list(sections or CANONICAL_SECTIONS)
    plans = [SectionPlan(s.strip()) for s in names if s.strip()]
    by_kind = {p.kind: p for p in plans}
    given: dict[str, list[str]] = {}
    for name, items in facts.items():
        kind = SectionPlan(name).kind
        if kind not in by_kind:
            raise DraftError(
                f"给了“{name}”的事实，但提纲里没有这一部分（提纲：{'、'.join(p.section for p in plans)}）"
                " — 请把它加入提纲或删去这些事实"
            )
        given.setdefault(kind, []).extend(f.strip() for f in items if f and f.strip())
    topics = topics or {}
    topic_by_kind = {SectionPlan(k).kind: v for k, v in topics.items() if v}
    return tuple(
        SectionPlan(p.section, tuple(given.get(p.kind, ())), topic_by_kind.get(p.kind, "")) for p in plans
    )


def _structured(data: object, where: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    if not isinstance(data, Mapping):
        raise DraftError(f"{where}：应是“部分 → 事实列表”的映射 — {FACTS_FORMAT_HINT}")
    facts: dict[str, list[str]] = {}
    topics: dict[str, str] = {}
    for name, value in data.items():
        name = str(name).strip()
        if name not in SECTION_KINDS:
            raise DraftError(f"{where}：“{name}”不是已知部分（可用 {'、'.join(CANONICAL_SECTIONS)} 等）")
        if isinstance(value, Mapping):  # {facts: [...], topic: ...}
            topics[name] = str(value.get("topic") or value.get("侧重点") or "")
            value = value.get("facts", value.get("事实", []))
        if value is None:
            value = []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
            raise DraftError(f"{where}：“{name}”的事实应是文字列表 — {FACTS_FORMAT_HINT}")
        facts[name] = [str(v) for v in value]
    return facts, topics


def parse_facts_text(text: str, where: str = "事实") -> dict[str, list[str]]:
    """Lines ``部分：事实`` (full- or half-width colon); blank lines and ``#`` comments skipped."""
    facts: dict[str, list[str]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip().lstrip("-•").strip()
        if not line or line.startswith("#"):
            continue
        m = _FACT_LINE.match(line)
        if m is None or m.group(1).strip() not in SECTION_KINDS:
            raise DraftError(f"{where} 第{n}行“{line[:30]}”：开头不是已知部分 — {FACTS_FORMAT_HINT}")
        if m.group(2).strip():
            facts.setdefault(m.group(1).strip(), []).append(m.group(2).strip())
    return facts


def load_facts_file(path: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Facts per section from a file: .yaml/.yml/.json as a mapping, anything else as lines
    ``部分：事实``. Returns (facts, 侧重点 per section)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DraftError(
            f"{path}: 无法读取事实文件（{exc}）— 请提供 UTF-8 文本；{FACTS_FORMAT_HINT}"
        ) from None
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml", ".json"):
        import yaml  # JSON is YAML too

        try:
            data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise DraftError(
                f"{path}: 不是有效的 {suffix[1:].upper()}（{str(exc).splitlines()[0]}）"
            ) from None
        return _structured(data or {}, str(path))
    return parse_facts_text(text, str(path)), {}


__all__ = [
    "CANONICAL_SECTIONS",
    "DEFAULT_CLOSING",
    "ReportRequest",
    "ReportResult",
    "SectionPlan",
    "SectionStarted",
    "draft_report",
    "load_facts_file",
    "ordered_outline",
    "parse_facts_text",
    "report_stream",
    "report_title",
]
