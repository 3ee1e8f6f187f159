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


def citations_html(citations: Sequence[Citation], title: str = "出处") -> str:
    if not citations:
        return f"<div class='citations'><b>{title}</b>：无</div>"
    seen: set[tuple[int, int, str]] = set()
    items = []
    for c in citations:
        key = (c.n, c.start, c.source)
        if key in seen:
            continue
        seen.add(key)
        auto = "（自动匹配）" if c.auto else ""
        items.append(
            f'<details id="cite-{c.n}" open><summary>[{c.n}]{auto} {html.escape(c.report_title)}'
            f" <small>{html.escape(c.source)} · {c.start}–{c.end}"
            f"{'（' + c.ocr_note() + '）' if c.ocr_confidence is not None else ''}</small></summary>"
            f"<blockquote>{html.escape(c.quote)}</blockquote></details>"
        )
    return f"<div class='citations'><b>{title}</b>{''.join(items)}</div>"


def placeholders_html(placeholders: Sequence[dict]) -> str:
    if not placeholders:
        return "<div class='placeholders'>无需补充的内容</div>"
    rows = "".join(
        f"<li><mark>{html.escape(p['text'])}</mark>"
        + (
            f" <small>模型原写“{html.escape(p['original'])}”"
            + ("，来自范文" if p.get("kind") == "exemplar_figure" else "")
            + (f"；{html.escape(p['note'])}" if p.get("note") else "")
            + "</small>"
            if p["original"]
            else ""
        )
        + "</li>"
        for p in placeholders
    )
    return f"<div class='placeholders'><b>待补充（请填写后再使用）</b><ul>{rows}</ul></div>"


CSS = """
mark.placeholder, .placeholders mark { background: #ffe58f; padding: 0 2px; }
.unsupported { background: #ffd6d6; }
.citations blockquote { margin: 4px 0 8px 8px; padding-left: 8px; border-left: 3px solid #91caff; }
.badge-ok { background: #f6ffed; border: 1px solid #b7eb8f; padding: 8px; border-radius: 4px; }
.banner-error { background: #fff1f0; border: 1px solid #ffa39e; padding: 8px; border-radius: 4px; }
"""
