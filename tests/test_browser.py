"""A person's path through the UI in headless Chromium (Debian's, driven by Playwright
without downloading a browser): draft with a streamed reply and a citation and export it,
upload a file in 知识库, and summarize an uploaded 汇编 named by its own file name.
Screenshots land in test-artifacts/."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from rag.drafting.section import DraftRequest, find_exemplars
from rag.llm.fake import ScriptedLLM
from tests.conftest import REPO
from tests.ui_support import running_server, scripted_service

pytestmark = pytest.mark.server
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM}: run `bash scripts/setup.sh` (it installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_draft_then_upload_in_the_browser(browser, tmp_path: Path) -> None:
    service = scripted_service(tmp_path)
    req = DraftRequest(role="副乡长", section="存在问题", topic="安全生产")
    borrowed = find_exemplars(service.index, req)[0].chunk.text.split("。")[0] + "。"
    service._llm = ScriptedLLM(default=f"{borrowed}全年开展安全生产检查26次，排查隐患45处。", chunk_chars=4)
    ARTIFACTS.mkdir(exist_ok=True)
    upload = tmp_path / "新报告.txt"
    upload.write_text("宣传委员2024年述职报告\n一、履职情况\n全年组织理论宣讲18场次。\n", encoding="utf-8")

    with running_server(service) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url, wait_until="load")  # Gradio keeps a connection open: never "networkidle"
        page.get_by_label("侧重点").wait_for()
        page.get_by_label("侧重点").fill("安全生产")
        page.get_by_label("我的事实（每行一条：次数、金额、项目名…）").fill("全年开展安全生产检查26次")
        page.get_by_label("输入要求或修改意见").fill("写存在问题部分")
        page.get_by_role("button", name="发送").click()
        page.wait_for_selector("mark.placeholder", timeout=60_000)
        page.wait_for_selector("#cite-1", timeout=60_000)
        chat_text = page.locator(".placeholders").inner_text()
        assert "45处" in chat_text  # the invented figure is named in the to-fill list
        bot = page.locator("mark.placeholder").first.inner_text()
        assert bot.startswith("【待补充")
        assert "26次" in page.content()
        page.screenshot(path=str(ARTIFACTS / "draft.png"), full_page=True)

        # The draft's downloads: the .docx with its evidence appended, and the evidence table.
        page.get_by_role("button", name="导出 .docx").click()
        page.get_by_text("副乡长2024年述职报告（存在问题）", exact=True).wait_for(timeout=60_000)
        assert (
            page.get_by_text("副乡长2024年述职报告（存在问题）（核对表）", exact=True).count() == 2
        )  # .xlsx, .csv

        page.get_by_role("tab", name="知识库").click()
        page.locator("input[type=file]").first.set_input_files(str(upload))
        page.get_by_role("button", name="导入", exact=True).click()
        deadline = time.monotonic() + 120
        while not any(d["source"].endswith("新报告.txt") for d in service.documents()):
            assert time.monotonic() < deadline, "the upload was not ingested"
            time.sleep(0.5)
        page.get_by_text("宣传委员2024年述职报告").first.wait_for(state="attached")
        page.wait_for_timeout(1000)  # let the tables repaint before the screenshot
        page.screenshot(path=str(ARTIFACTS / "library.png"), full_page=True)


def test_brief_of_an_upload_names_the_file_and_offers_the_evidence(browser, tmp_path: Path) -> None:
    """Gradio keeps the upload under <tmp>/gradio/<hash>/: the brief names the file itself."""
    from tests.conftest import SEEDS

    service = scripted_service(tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    upload = tmp_path / "乡镇述职汇编2023.txt"
    upload.write_bytes((SEEDS / "003_a42557382749c262.txt").read_bytes())
    with running_server(service) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url, wait_until="load")
        page.get_by_role("tab", name="汇编摘要").click()
        page.locator("input[type=file]").first.set_input_files(str(upload))
        page.wait_for_timeout(1000)  # the upload finishes before the button is pressed
        page.get_by_role("button", name="生成综述").click()
        page.get_by_text("来源：乡镇述职汇编2023.txt（5篇）").first.wait_for(timeout=120_000)
        assert "gradio/" not in page.locator("body").inner_text()
        stem = "2023年度抓基层党建工作述职报告汇编综述"
        page.get_by_text(stem, exact=True).first.wait_for()  # the .docx and the .md
        assert page.get_by_text(f"{stem}（核对表）", exact=True).count() == 2  # .xlsx, .csv
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "brief.png"), full_page=True)


# Gradio's own strings as an English browser would get them; none may show in any tab.
GRADIO_ENGLISH = ("Drop File Here", "Click to Upload", "Clear", "Submit", "Upload file", "Loading", "Error")
TABS = ("起草", "汇编摘要", "问答", "检查", "知识库", "评测")


@pytest.fixture
def english_browser():
    """Chromium that asks for English pages: the UI must still speak Chinese."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM}: run `bash scripts/setup.sh` (it installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, "--lang=en-US"])
        yield b
        b.close()


def _english_left(text: str) -> list[str]:
    found = [s for s in GRADIO_ENGLISH if s.lower() in text.lower()]
    return found + (["common.…"] if "common." in text else [])  # an untranslated key shown raw


def _english_tooltips(page) -> list[str]:
    """Tooltips (title) of the visible elements that are English words only, or an i18n key."""
    titles = page.evaluate(
        "() => Array.from(document.querySelectorAll('[title]'))"
        ".filter((e) => e.offsetParent !== null).map((e) => e.getAttribute('title'))"
    )
    return [t for t in titles if re.fullmatch(r"[A-Za-z][A-Za-z ]{3,}|\w+\.\w+", t.strip())]


def test_every_tab_speaks_chinese_in_an_english_browser(english_browser, tmp_path: Path) -> None:
    service = scripted_service(tmp_path)
    upload = tmp_path / "新报告.txt"
    upload.write_text("宣传委员2024年述职报告\n一、履职情况\n全年组织理论宣讲18场次。\n", encoding="utf-8")
    with running_server(service) as url:
        page = english_browser.new_page(locale="en-US", viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(60_000)
        assert page.evaluate("navigator.language") == "en-US"  # before the app's page is loaded
        page.goto(url, wait_until="load")
        page.get_by_label("侧重点").wait_for()
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        page.get_by_text("整篇报告：按提纲依次起草各部分").click()  # its upload-free file outputs too
        for tab in TABS:
            page.get_by_role("tab", name=tab).click()
            page.wait_for_timeout(800)
            text = page.locator("body").inner_text()
            assert not _english_left(text), (tab, _english_left(text))
            assert not _english_tooltips(page), (tab, _english_tooltips(page))
        # Gradio's own upload strings, in Chinese: 知识库 and 检查 offer file uploads.
        page.get_by_role("tab", name="知识库").click()
        panel = page.locator("[role=tabpanel]:visible")
        panel.get_by_text("点击上传").first.wait_for()
        panel.locator("input[type=file]").first.set_input_files(str(upload))
        panel.get_by_text("新报告.txt").first.wait_for()
        text = page.locator("body").inner_text()
        assert not _english_left(text), _english_left(text)
        assert not _english_tooltips(page), _english_tooltips(page)  # the chosen file's buttons too
        page.screenshot(path=str(ARTIFACTS / "chinese_ui.png"), full_page=True)


def test_whole_report_in_the_browser(browser, tmp_path: Path) -> None:
    """Facts per section → every section in order, the closing line, the .docx offered; each
    fact written or warned about, each placeholder listed once."""
    service = scripted_service(tmp_path)
    service._llm = ScriptedLLM(
        default="一是理论学习不够深入。二是工作方法创新不足，全年检查26次。", chunk_chars=4
    )
    ARTIFACTS.mkdir(exist_ok=True)
    with running_server(service) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.set_default_timeout(120_000)
        page.goto(url, wait_until="load")
        page.get_by_label("侧重点").wait_for()
        page.get_by_text("整篇报告：按提纲依次起草各部分").click()
        page.get_by_label("存在问题的事实（每行一条）").fill("整改隐患37处")
        page.get_by_label("下步打算的事实（每行一条）").fill("力争新建蔬菜大棚20个")
        page.get_by_label("述职人（空则留“待补充”）").fill("张三")
        page.get_by_role("button", name="起草整篇").click()
        page.get_by_text("已完成 4 个部分").wait_for()
        body = page.locator(".report-body").inner_text()
        heads = [body.index(h) for h in ("一、履职情况", "二、存在问题", "三、原因分析", "四、下步打算")]
        assert heads == sorted(heads)
        assert body.rstrip().endswith("以上述职，不妥之处，敬请批评指正。\n述职人：张三")
        # Every fact is in its section's text or named in the warning: never silently dropped.
        warning = page.locator(".facts-unused").all_inner_texts()
        for section, fact in (("存在问题", "整改隐患37处"), ("下步打算", "力争新建蔬菜大棚20个")):
            written = fact in body.split(section, 1)[1]
            assert written or any(f"{section}：{fact}" in w for w in warning), fact
        # 26次 is nobody's fact: one placeholder line naming every section, not one line per use.
        items = page.locator(".placeholders li").all_inner_texts()
        assert len(items) == len(set(items))
        (line,) = [i for i in items if "全年检查" in i]
        assert "履职情况、存在问题、原因分析、下步打算" in line
        page.get_by_text("副乡长2024年述职报告", exact=True).first.wait_for()  # the .docx download
        assert page.get_by_text("副乡长2024年述职报告（核对表）", exact=True).count() == 2
        page.screenshot(path=str(ARTIFACTS / "whole_report.png"), full_page=True)
