"""The UI speaks Chinese to every browser, and lists the draft's open items once each: the
page Gradio serves says zh-CN before Gradio's script reads the browser's language; facts not
used, placeholders and citations render without duplicates. (The real browser check in an
English Chromium is tests/test_browser.py.)"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from rag.grounding.citations import Citation
from tests.ui_support import scripted_service
from ui.app import CHINESE_UI, create_app
from ui.render import citations_html, copy_note_html, facts_unused_html, placeholders_html


def test_the_page_says_zh_cn_before_gradios_script_runs(tmp_path: Path) -> None:
    service = scripted_service(tmp_path)
    client = TestClient(create_app(service.settings, service))
    page = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    assert CHINESE_UI in page
    assert page.index(CHINESE_UI) < page.index('<script type="module"')  # Gradio's entry point
    assert 'lang="zh-CN"' in page.split("<head>", 1)[0] and 'lang="en"' not in page.split("<head>", 1)[0]
    assert client.get("/api/health").json()["chunks"] > 0  # JSON passes through untouched


def test_facts_unused_are_a_visible_warning_once_each() -> None:
    assert facts_unused_html([]) == ""
    out = facts_unused_html(["整改隐患37处", "整改隐患37处", "<b>x</b>"])
    assert out.count("整改隐患37处") == 1 and "&lt;b&gt;" in out and "⚠" in out
    whole = facts_unused_html([{"section": "存在问题", "fact": "整改隐患37处"}])
    assert "存在问题：整改隐患37处" in whole


def test_a_placeholder_standing_twice_is_listed_once_with_its_count_and_sections() -> None:
    ph = {"text": "【待补充：检查次数】", "label": "检查次数", "original": "26次", "kind": "figure"}
    out = placeholders_html([{**ph, "section": "履职情况"}, {**ph, "section": "存在问题"}])
    assert out.count("<li>") == 1
    assert "履职情况、存在问题" in out and "2处" in out and out.count("26次") == 1


def test_a_passage_cited_by_two_sentences_is_listed_once() -> None:
    def cite(sentence: int, start: int, quote: str) -> Citation:
        return Citation(
            1, "c1", "副乡长2023年述职报告", "seeds/003.txt", 2, quote, start, start + len(quote), sentence
        )

    out = citations_html([cite(0, 10, "加强学习"), cite(2, 10, "加强学习"), cite(3, 40, "抓好巡查整改工作")])
    assert out.count('id="cite-1"') == 1 and out.count("<details") == 1
    assert out.count("加强学习") == 1 and "抓好巡查整改工作" in out and "10–14、40–48" in out


def test_the_longest_copied_run_is_named_with_its_report() -> None:
    assert copy_note_html([None, {"chars": 0}]) == ""
    runs = [{"chars": 12, "report_title": "甲"}, None, {"chars": 19, "report_title": "<乙>"}]
    assert copy_note_html(runs) == "<small>与单篇往年报告相同的最长一段：19 字（&lt;乙&gt;）</small>"
