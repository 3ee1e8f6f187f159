"""HTML fragments for the UI. Every document or model text is escaped first: a report
containing ``<script>`` or a Markdown link shows as text."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from rag.grounding.citations import CITATION, Citation, split_sentences
from rag.grounding.draft_guard import PLACEHOLDER

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|>~])")


def escape(text: str) -> str:
    """HTML-escape and neutralise Markdown so text renders literally in a Markdown component."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=True))


def with_markers(text: str, citations: Sequence[Citation]) -> str:
    """Add a [n] marker after each sentence that a citation supports but the text does not
    mark (citations the checker attached, exemplar spans a draft reused), so every cited
    sentence has a marker to click."""
    spans = split_sentences(text)
    inserts: dict[int, list[int]] = {}
    for c in citations:
        if 0 <= c.sentence < len(spans):
            s, e = spans[c.sentence]
            marked = {int(next(g for g in m.groups() if g)) for m in CITATION.finditer(text, s, e)}
            if c.n not in marked and c.n not in inserts.get(e, []):
                inserts.setdefault(e, []).append(c.n)
    for end in sorted(inserts, reverse=True):
        stripped = text[:end].rstrip()
        markers = "".join(f"[{n}]" for n in inserts[end])
        text = stripped + markers + text[len(stripped) :]
    return text


# HTML specials and the characters Markdown gives meaning to, as HTML entities: a chat
# message is rendered as Markdown + HTML, and an entity shows as its character but is
# never parsed as syntax. One pass, so no entity is escaped twice.
_ENTITIES = {ch: f"&#{ord(ch)};" for ch in "&<>\"'\\`*_{}[]()#+!|>~:"}


def literal(text: str) -> str:
    """Text for a Markdown+HTML component that shows exactly as written: no tags, links,
    autolinks (``http:``), emphasis or headings."""
    return "".join(_ENTITIES.get(ch, ch) for ch in text)


def answer_html(text: str, citations: Sequence[Citation] = (), unsupported: Sequence[str] = ()) -> str:
    """An answer or draft as literal text, with [n] markers linked to their quotes,
    【待补充】 highlighted and unsupported sentences flagged."""
    text = with_markers(text, citations)
    parts, pos = [], 0
    for m in CITATION.finditer(text):
        n = next(g for g in m.groups() if g)
        marker = f'<a class="cite" href="#cite-{n}">{literal(m.group(0))}</a>'
        parts += [literal(text[pos : m.start()]), marker]
        pos = m.end()
    body = "".join([*parts, literal(text[pos:])])
    for sentence in unsupported:
        s = literal(sentence)
        body = body.replace(s, f'<span class="unsupported" title="数字未能在资料中核实">⚠{s}</span>', 1)
    body = PLACEHOLDER.sub(lambda m: f'<mark class="placeholder">{m.group(0)}</mark>', body)
    return body.replace("\n", "<br>")


def _field(c, name: str):
    return c.get(name) if isinstance(c, dict) else getattr(c, name, None)


def citations_html(citations: Sequence, title: str = "出处") -> str:
    """Each cited passage once (one anchor per [n]), its distinct quotes under it; citations
    are Citation objects or their JSON (a whole report's carry the sections citing them)."""
    if not citations:
        return f"<div class='citations'><b>{title}</b>：无</div>"
    groups: dict[tuple, list] = {}
    for c in citations:
        groups.setdefault((_field(c, "n"), _field(c, "source"), _field(c, "report_index")), []).append(c)
    items = []
    anchors: set[int] = set()
    for (n, source, _), group in groups.items():
        first = group[0]
        auto = "（自动匹配）" if all(_field(c, "auto") for c in group) else ""
        ocr = _field(first, "ocr_confidence")
        note = f"（OCR识别，置信度 {ocr:.2f}）" if ocr is not None else ""
        spans = dict.fromkeys((_field(c, "start"), _field(c, "end"), _field(c, "quote")) for c in group)
        where = "、".join(f"{s}–{e}" for s, e, _ in spans)
        sections = list(dict.fromkeys(x for c in group for x in (_field(c, "sections") or ())))
        used_in = f" <small>用于：{html.escape('、'.join(sections))}</small>" if sections else ""
        anchor = f' id="cite-{n}"' if n not in anchors else ""  # an id is unique in the page
        anchors.add(n)
        quotes = "".join(f"<blockquote>{html.escape(q)}</blockquote>" for _, _, q in spans)
        items.append(
            f"<details{anchor} open><summary>[{n}]{auto} {html.escape(_field(first, 'report_title'))}"
            f" <small>{html.escape(source)} · {where}{note}</small>{used_in}</summary>{quotes}</details>"
        )
    return f"<div class='citations'><b>{title}</b>{''.join(items)}</div>"


def placeholders_html(placeholders: Sequence[dict]) -> str:
    """Each placeholder once (with how often it stands in the text), what the model had written."""
    if not placeholders:
        return "<div class='placeholders'>无需补充的内容</div>"
    groups: dict[str, list[dict]] = {}
    for p in placeholders:
        groups.setdefault(p["text"], []).append(p)
    rows = []
    for text, group in groups.items():
        originals = list(dict.fromkeys(p["original"] for p in group if p.get("original")))
        sections = list(dict.fromkeys(p["section"] for p in group if p.get("section")))
        notes = list(dict.fromkeys(p["note"] for p in group if p.get("note")))
        details = []
        if sections:
            details.append("、".join(sections))
        if len(group) > 1:
            details.append(f"{len(group)}处")
        if originals:
            borrowed = "，来自范文" if any(p.get("kind") == "exemplar_figure" for p in group) else ""
            details.append(f"模型原写“{'”“'.join(originals)}”{borrowed}")
        details += notes
        small = f" <small>{html.escape('；'.join(details))}</small>" if details else ""
        rows.append(f"<li><mark>{html.escape(text)}</mark>{small}</li>")
    return f"<div class='placeholders'><b>待补充（请填写后再使用）</b><ul>{''.join(rows)}</ul></div>"


def facts_unused_html(facts: Sequence) -> str:
    """The user's facts the draft does not use: a warning, never silently dropped. Items are
    fact strings or, for a whole report, {section, fact}."""
    if not facts:
        return ""
    items = []
    for f in dict.fromkeys(json_key(f) for f in facts):
        section, fact = f
        where = f"{html.escape(section)}：" if section else ""
        items.append(f"<li>{where}{html.escape(fact)}</li>")
    return (
        "<div class='facts-unused'><b>⚠ 以下事实没有写进草稿</b>（可在对话里要求“加上……”，或导出后自行补入）"
        f"<ul>{''.join(items)}</ul></div>"
    )


def copy_note_html(runs: Sequence[dict | None]) -> str:
    """The longest run copied from one past report (the section engine's ``longest_copy``; the
    longest of a whole report's sections), so a signer sees how much is a colleague's wording."""
    longest = max((r for r in runs if r and r.get("chars")), key=lambda r: r["chars"], default=None)
    if longest is None:
        return ""
    title = f"（{html.escape(longest.get('report_title') or longest.get('source') or '')}）"
    return f"<small>与单篇往年报告相同的最长一段：{int(longest['chars'])} 字{title}</small>"


def json_key(fact) -> tuple[str, str]:
    if isinstance(fact, dict):
        return str(fact.get("section", "")), str(fact.get("fact", ""))
    return "", str(fact)


CSS = """
mark.placeholder, .placeholders mark { background: #ffe58f; padding: 0 2px; }
.unsupported { background: #ffd6d6; }
.citations blockquote { margin: 4px 0 8px 8px; padding-left: 8px; border-left: 3px solid #91caff; }
.badge-ok { background: #f6ffed; border: 1px solid #b7eb8f; padding: 8px; border-radius: 4px; }
.facts-unused { background: #fffbe6; border: 1px solid #ffe58f; padding: 8px; border-radius: 4px; }
/* Gradio writes "Uploading 1 file..." in English whatever the page language: Chinese instead */
span.uploading { font-size: 0; visibility: hidden; }
span.uploading::after { content: "正在上传…"; font-size: var(--text-md, 14px); visibility: visible; }
.report-body h4 { margin: 12px 0 4px; }
.banner-error { background: #fff1f0; border: 1px solid #ffa39e; padding: 8px; border-radius: 4px; }
"""
