"""The UI's HTML fragments: hostile text renders as text, every cited sentence has a marker."""

from __future__ import annotations

from markdown_it import MarkdownIt

from rag.grounding.citations import Citation
from ui.render import answer_html, citations_html, escape, placeholders_html, with_markers

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> [点我](http://evil.example.com)'


def _cite(n: int, sentence: int, quote: str = "完成800平米茶叶加工厂建设", auto: bool = True) -> Citation:
    title = "镇党委书记2022年述职报告"
    return Citation(n, f"c{n}", title, "seeds/002.txt", 0, quote, 10, 10 + len(quote), sentence, auto)


def _rendered(fragment: str) -> str:
    """What a chat message becomes: Markdown (GFM, with autolinks) rendered, HTML passed through."""
    return MarkdownIt("gfm-like").render(fragment)


def test_model_output_with_html_and_markdown_renders_as_text() -> None:
    out = _rendered(answer_html(f"回答。{HOSTILE} 另见 http://evil.example.com/x **粗体**"))
    assert "<script" not in out and "<img" not in out and "<strong>" not in out
    assert "<a " not in out  # neither the Markdown link nor the bare URL became a link
    assert "&lt;script&gt;" in out or "&#60;script&#62;" in out


def test_escape_neutralises_markdown_links_for_markdown_components() -> None:
    out = escape(HOSTILE)
    assert "<script" not in out and "\\[点我\\]\\(http://evil.example.com\\)" in out


def test_document_quotes_and_titles_in_citations_are_escaped() -> None:
    c = Citation(1, "c1", "<b>标题</b>", "a<script>.txt", 0, HOSTILE, 0, len(HOSTILE), 0)
    out = citations_html([c])
    assert "<script" not in out and "<b>标题" not in out and "&lt;b&gt;标题" in out


def test_placeholders_are_highlighted_and_their_originals_escaped() -> None:
    ph = {"text": "【待补充：检查次数】", "original": "<i>26次</i>", "kind": "figure", "label": "检查次数"}
    out = placeholders_html([ph])
    assert "<mark>【待补充：检查次数】</mark>" in out and "&lt;i&gt;26次" in out
    highlighted = answer_html("全年检查【待补充：检查次数】。")
    assert '<mark class="placeholder">【待补充：检查次数】</mark>' in highlighted


def test_cited_sentences_without_a_marker_get_one_linked_to_the_quote() -> None:
    text = "化眉村建成茶叶加工厂。面积800平米。\n党员教育方式单一。"
    assert with_markers(text, [_cite(2, 1)]) == "化眉村建成茶叶加工厂。面积800平米。[2]\n党员教育方式单一。"
    assert with_markers("面积800平米。[2]", [_cite(2, 0)]) == "面积800平米。[2]"  # already marked
    out = answer_html(text, [_cite(2, 1), _cite(3, 1)])
    assert (
        '<a class="cite" href="#cite-2">&#91;2&#93;</a><a class="cite" href="#cite-3">&#91;3&#93;</a>' in out
    )
    links = _rendered(out)
    assert links.count('<a class="cite"') == 2 and "[2]" in links  # the marker shows as [2]
    assert 'id="cite-2"' in citations_html([_cite(2, 1)])


def test_unsupported_sentences_are_flagged() -> None:
    out = answer_html("面积900平米。其余正常。", unsupported=["面积900平米。"])
    assert '<span class="unsupported"' in out and "⚠面积900平米。" in out


def test_a_brief_of_a_hostile_compilation_renders_as_text(tmp_path) -> None:
    """Report text reaches the 汇编摘要 tab's Markdown verbatim (quotes are the shipped items):
    links, HTML and bare URLs planted in a report must show as text."""
    from rag.brief.markdown import to_markdown
    from rag.brief.summarize import summarize
    from rag.llm.fake import ScriptedLLM
    from rag.settings import Settings
    from tests.conftest import SEEDS

    text = (SEEDS / "003_a42557382749c262.txt").read_text(encoding="utf-8")
    hostile = "贝贝瓜120亩[详见](http://evil.example.com)<script>alert(1)</script>http://evil.example.com/x"
    path = tmp_path / "汇编.txt"
    path.write_text(text.replace("贝贝瓜120亩", hostile), encoding="utf-8")
    brief = summarize(path, ScriptedLLM(default="（无）"), Settings())  # every item stays its source quote
    markdown = to_markdown(brief)
    assert "evil.example.com" in markdown  # the text is there …
    out = _rendered(markdown)
    assert "<script" not in out and 'href="http://evil' not in out  # … but not as markup
