"""Brief → Markdown, and the content lines the .docx export shares with it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rag.brief.schema import Brief, Group, Ref, ReportSummary

SECTIONS = ("一、总体情况", "二、主要做法和成效", "三、共性问题", "四、下步工作建议", "五、分人情况一览")
ATTENTION = "需要关注的事项"
TABLE_HEADER = ("职务", "主要成效与数据", "主要问题", "下步重点")
_CN = "一二三四五六七八九十"
_TABLE_ITEMS = 3


def subhead(n: int) -> str:
    return f"（{_CN[n]}）" if n < len(_CN) else f"（{n + 1}）"


def _joined(refs: Sequence[Ref], short: bool = False) -> list[tuple[str, str]]:
    """(text, marker) pairs; ``short`` drops the person from the marker (table rows)."""
    out = []
    for ref in refs:
        marker = ref.marker()
        out.append((ref.item.text, marker.replace(f"{ref.report}·", "") if short else marker))
    return out


def measure_lines(group: Group) -> list[tuple[str, str]]:
    """Bullets of a theme: the item, whose it is, and its citation."""
    return [
        (f"{r.item.text}{'（计划/预计数）' if r.item.tentative else ''}（{r.report}）", r.marker())
        for r in group.refs
    ]


def point_line(group: Group) -> tuple[str, list[tuple[str, str]]]:
    """共性问题 / 建议 bullet: its lead (theme and who) and the cited points."""
    lead = f"{group.name}（{'、'.join(group.reports)}）"
    return lead, _joined(group.refs)


def table_row(s: ReportSummary) -> tuple[str, list[tuple[str, str]], list[str], list[str]]:
    # Most figures first; among equals, amounts of money (the hardest results) first.
    data = sorted(s.key_items, key=lambda i: (-len(i.figures), "元" not in i.text))[:_TABLE_ITEMS]
    data = sorted(data, key=lambda i: i.start)  # back in reading order
    return (
        s.label,
        _joined([Ref(s.label, i) for i in data], short=True),
        [i.text for i in s.problems],
        [i.text for i in s.plans],
    )


def check_notes(brief: Brief) -> list[str]:
    calls = brief.timing.get("calls", 0)
    return [
        *(
            f"{s.label}：《{s.title}》（{s.source} 第{s.index + 1}篇，全文{s.chars}字已通读）"
            for s in brief.reports
        ),
        f"数据核对：摘出的各条（含未列入正文的）共有数据{brief.figures_checked}项，逐项与所引原句比对，"
        f"未能核实{brief.figures_unsupported}项。模型改写中改动或编造的数据{brief.rewrite_figures_unsupported}项，"
        f"涉及条目已改用原文（共{brief.items_repaired}条），删除{brief.items_dropped}条。",
        f"生成方式：{brief.model}，提示 {brief.prompt_id}@{brief.prompt_hash}，模型调用{calls}次。",
        "标注说明：[职务·部分 起-止] 指该篇报告（清洗后正文）中的字符位置，从0起算，可据此回查原句；"
        "原文中的 *、X 等隐去标记一律以“某”代替，含隐去数据的句子不予采用。",
    ]


# ------------------------------------------------------------------------ Markdown


# Brackets stay: without the parentheses escaped after them no link can form, and the
# citation markers [乡长·履职 12-40] stay readable in the .md file.
_MD_SPECIAL = re.compile(r"([\\`*_()#<>!~:])")


def _md(text: str) -> str:
    """Report text shown literally in Markdown: a table-safe pipe, one line, and no links,
    autolinks, HTML or emphasis from whatever the source document contained."""
    return _MD_SPECIAL.sub(r"\\\1", text.replace("|", "｜").replace("\n", " "))


def _cited(pairs: Iterable[tuple[str, str]]) -> str:
    return "；".join(f"{_md(t)}{m}" for t, m in pairs)


def to_markdown(brief: Brief) -> str:
    out = [f"# {brief.title}", "", f"来源：{_md(brief.source)}（{len(brief.reports)}篇）", ""]
    out += [f"## {SECTIONS[0]}", "", brief.overview, "", f"## {SECTIONS[1]}", ""]
    for n, group in enumerate(brief.themes):
        out += [f"### {subhead(n)}{group.name}", ""]
        out += [f"- {_md(t)}{m}" for t, m in measure_lines(group)] + [""]
    out += [f"## {SECTIONS[2]}", ""]
    for group in brief.problems:
        lead, pairs = point_line(group)
        out.append(f"- **{lead}**：{_cited(pairs)}")
    out += ["", f"## {SECTIONS[3]}", ""]
    for group in brief.suggestions:
        lead, pairs = point_line(group)
        out.append(f"- **{lead}**：{_cited(pairs)}")
    out += ["", f"### {ATTENTION}", ""]
    out += [f"- {_md(a)}" for a in brief.attention] or ["- 无"]
    out += ["", f"## {SECTIONS[4]}", "", "| " + " | ".join(TABLE_HEADER) + " |", "| --- | --- | --- | --- |"]
    for s in brief.reports:
        label, data, problems, plans = table_row(s)
        cells = [label, _cited(data) or "—", _md("；".join(problems)) or "—", _md("；".join(plans)) or "—"]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "## 附：来源与核对说明", ""] + [f"- {_md(n)}" for n in check_notes(brief)]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------- .docx
