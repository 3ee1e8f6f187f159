"""The evidence of a drafted report (起草依据核对表): where each sentence's content comes from.

A draft may hold only three kinds of specifics: the user's own facts, phrasing patterns
reused from exemplars (colleagues' reports, cited to their span), and visible placeholders
【待补充：…】 for whatever is still missing. Per sentence this lists which of them it uses,
each figure and the fact it was found in, and the placeholders still open; the open
placeholders are listed again on their own, with what the model had written there.

Built from a DraftResult or its JSON (``rag draft --json``, ``POST /api/draft``), so the API
can export a draft the client sends back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from rag.grounding.citations import overlap, split_sentences, strip_citations
from rag.grounding.draft_guard import PLACEHOLDER
from rag.grounding.figures import extract_figures, find_figure

COLUMNS = ("序号", "草稿句子", "来源类型", "依据", "数据核对", "待补充", "核对")
SECTION_COLUMN = "部分"  # a whole report's rows name their section
REPORT_COLUMNS = (COLUMNS[0], SECTION_COLUMN, *COLUMNS[1:])
PLACEHOLDER_COLUMNS = ("序号", "待补充项", "所在句", "模型原写", "类型", "填写")
USER_FACT, EXEMPLAR, PLACEHOLDER_KIND, PROSE = "用户事实", "范文句式", "待补充", "行文"
_KINDS = {
    "figure": "数字（无依据）",
    "exemplar_figure": "数字（借自范文）",
    "name": "人名",
    "place": "地名",
    "redaction": "原文隐去的内容",
    "model": "模型留空",
}
_FACT_REUSE = 0.6  # share of a fact's character bigrams found in a sentence: the sentence uses it


@dataclass(frozen=True)
class OpenPlaceholder:
    label: str
    sentence: int  # 1-based number of the sentence it stands in
    original: str  # what the model had written there ("" when it left the gap itself)
    kind: str
    exemplar: int | None
    section: str = ""  # in a whole report: the section it stands in ("结尾" for the signature)

    def cells(self, n: int) -> dict[str, str]:
        kind = _KINDS.get(self.kind, self.kind)
        if self.exemplar:
            kind += f"[{self.exemplar}]"
        where = f"第{self.sentence}句" if self.sentence else ""
        if self.section:
            where = f"{self.section}·{where}" if where else self.section
        values = (str(n), self.label, where, self.original or "—", kind, "")
        return dict(zip(PLACEHOLDER_COLUMNS, values, strict=True))


@dataclass(frozen=True)
class SentenceRow:
    text: str
    kinds: tuple[str, ...]  # USER_FACT / EXEMPLAR / PLACEHOLDER_KIND / PROSE
    grounds: tuple[str, ...]  # the facts and exemplar spans it rests on
    figures: tuple[str, ...]  # each figure and where it was found
    placeholders: tuple[str, ...]  # labels still open in this sentence
    unsupported: tuple[str, ...]  # figures found nowhere (the guard should have replaced them)
    section: str = ""  # in a whole report: the section it belongs to

    def cells(self, n: int) -> dict[str, str]:
        values = (
            str(n),
            self.text,
            "、".join(self.kinds),
            "\n".join(self.grounds) or "—",
            "；".join(self.figures) or "—",
            "；".join(self.placeholders) or "—",
            "",
        )
        cells = dict(zip(COLUMNS, values, strict=True))
        return {**cells, SECTION_COLUMN: self.section} if self.section else cells


@dataclass(frozen=True)
class DraftEvidence:
    title: str
    rows: tuple[SentenceRow, ...]
    open_placeholders: tuple[OpenPlaceholder, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return REPORT_COLUMNS if any(r.section for r in self.rows) else COLUMNS


def _get(obj, name: str, default=None):
    return obj.get(name, default) if isinstance(obj, Mapping) else getattr(obj, name, default)


def _facts_for(figure, facts: Sequence[str], year: int | None) -> str | None:
    for i, fact in enumerate(facts, 1):
        if find_figure(figure, fact):
            return f"事实{i}"
    if year and find_figure(figure, f"{year}年"):
        return "所填年度"
    return None


def _sentence_row(
    sentence: str,
    idx: int,
    facts: Sequence[str],
    year: int | None,
    citations: Sequence,
    records: dict[str, list],
) -> tuple[SentenceRow, list[tuple[str, Mapping]]]:
    kinds: list[str] = []
    grounds: list[str] = []
    figures, unsupported = [], []
    bare = PLACEHOLDER.sub("", sentence)
    used_facts: set[int] = set()
    for fig in extract_figures(bare):
        where = _facts_for(fig, facts, year)
        if where is None:
            unsupported.append(fig.raw)
            figures.append(f"{fig.raw}（未找到依据，请核实）")
        else:
            figures.append(f"{fig.raw} = {where}")
            if where.startswith("事实"):
                used_facts.add(int(where[2:]))
    used_facts |= {i for i, f in enumerate(facts, 1) if f.strip() and overlap(f, bare) >= _FACT_REUSE}
    if used_facts:
        kinds.append(USER_FACT)
        grounds += [f"事实{i}：{facts[i - 1]}" for i in sorted(used_facts)]
    cited = [c for c in citations if _get(c, "sentence") == idx]
    if cited:
        kinds.append(EXEMPLAR)
        for c in cited:
            where = f"{_get(c, 'source')} {_get(c, 'start')}-{_get(c, 'end')}"
            grounds.append(
                f"范文[{_get(c, 'n')}]《{_get(c, 'report_title')}》（{where}）：{_get(c, 'quote')}"
            )
    opened = []
    labels = []
    for m in PLACEHOLDER.finditer(sentence):
        label = m.group(1).strip()
        queue = records.get(label) or []
        record = queue.pop(0) if queue else {"label": label, "original": "", "kind": "model"}
        opened.append((label, record))
        origin = f"（模型原写“{_get(record, 'original')}”）" if _get(record, "original") else ""
        labels.append(label + origin)
    if opened:
        kinds.append(PLACEHOLDER_KIND)
    if not kinds:
        kinds.append(PROSE)
    row = SentenceRow(
        sentence, tuple(kinds), tuple(grounds), tuple(figures), tuple(labels), tuple(unsupported)
    )
    return row, opened


def draft_evidence(
    text: str,
    *,
    title: str = "",
    facts: Sequence[str] = (),
    year: int | None = None,
    citations: Sequence = (),
    placeholders: Sequence = (),
) -> DraftEvidence:
    """Rows for each sentence of ``text`` (as guarded, placeholders in place); ``citations``
    and ``placeholders`` are the DraftResult's (objects or their JSON)."""
    records: dict[str, list] = {}
    for p in placeholders:
        records.setdefault(str(_get(p, "label", "")).strip(), []).append(p)
    rows, open_ = [], []
    for idx, (s, e) in enumerate(split_sentences(text)):
        sentence = strip_citations(text[s:e]).strip()
        if not sentence:
            continue
        row, opened = _sentence_row(sentence, idx, list(facts), year, citations, records)
        rows.append(row)
        for label, record in opened:
            open_.append(
                OpenPlaceholder(
                    label,
                    len(rows),
                    str(_get(record, "original", "") or ""),
                    str(_get(record, "kind", "model")),
                    _get(record, "exemplar"),
                )
            )
    return DraftEvidence(title, tuple(rows), tuple(open_))


def from_result(result, title: str = "") -> DraftEvidence:
    """The evidence of a DraftResult, or of its JSON (``rag draft --json``)."""
    request = _get(result, "request")
    return draft_evidence(
        _get(result, "text", ""),
        title=title,
        facts=list(_get(request, "facts", ()) or ()),
        year=_get(request, "year"),
        citations=list(_get(result, "citations", ()) or ()),
        placeholders=list(_get(result, "placeholders", ()) or ()),
    )


def report_evidence(report, title: str = "") -> DraftEvidence:
    """The evidence of a whole report (rag/drafting/report.py ReportResult or its JSON): each
    section's rows in order, named by section, sentences numbered through; an unfilled
    signature (述职人) is listed among the open placeholders."""
    rows: list[SentenceRow] = []
    open_: list[OpenPlaceholder] = []
    for part in _get(report, "sections", ()) or ():
        name = str(_get(part, "section", "") or _get(_get(part, "request", {}), "section", ""))
        evidence = from_result(part, title)
        open_ += [
            replace(p, sentence=p.sentence + len(rows), section=name) for p in evidence.open_placeholders
        ]
        rows += [replace(r, section=name) for r in evidence.rows]
    for line in _get(report, "closing", ()) or ():
        open_ += [
            OpenPlaceholder(m.group(1).strip(), 0, "", "model", None, "结尾")
            for m in PLACEHOLDER.finditer(line)
        ]
    return DraftEvidence(title, tuple(rows), tuple(open_))


__all__ = [
    "COLUMNS",
    "PLACEHOLDER_COLUMNS",
    "REPORT_COLUMNS",
    "DraftEvidence",
    "OpenPlaceholder",
    "SentenceRow",
    "draft_evidence",
    "from_result",
    "report_evidence",
]
