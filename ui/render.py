"""HTML fragments for the UI. Every document or model text is escaped first: a report
containing ``<script>`` or a Markdown link shows as text."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from rag.grounding import CITATION, Citation
from rag.guard import PLACEHOLDER

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|>~])")


def escape(text: str) -> str:
    """HTML-escape and neutralise Markdown so text renders literally in a Markdown component."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=True))


def answer_html(text: str, citations: Sequence[Citation] = (), unsupported: Sequence[str] = ()) -> str:
    """Escaped answer with [n] markers linked to their quotes, 【待补充】 highlighted,
    unsupported sentences flagged."""
    body = html.escape(text)
    for sentence in unsupported:
        s = html.escape(sentence)
        body = body.replace(s, f'<span class="unsupported" title="数字未能在资料中核实">⚠{s}</span>', 1)
    body = PLACEHOLDER.sub(lambda m: f'<mark class="placeholder">{m.group(0)}</mark>', body)
    body = CITATION.sub(
        lambda m: f'<a class="cite" href="#cite-{m.group(1) or m.group(2) or m.group(3)}">{m.group(0)}</a>',
        body,
    )
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
            f" <small>{html.escape(c.source)} · {c.start}–{c.end}</small></summary>"
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
