"""rag.documents on the real seeds, every supported format and every bad input."""

from __future__ import annotations

import dataclasses
import os
import random
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from rag.documents.clean import clean_text, count_redactions
from rag.documents.decode import decode_text
from rag.documents.errors import DocumentError
from rag.documents.files import SUPPORTED_SUFFIXES, iter_files, source_key
from rag.documents.load import load_document
from rag.documents.ocr import OcrOptions
from rag.documents.parse import parse_text
from rag.documents.skeleton import parse_report
from rag.documents.split import split_reports
from rag.schema import SECTION_KINDS, Document, Report

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
MAIN_KINDS = ["履职", "问题", "打算"]


def seed(prefix: str) -> Path:
    return next(p for p in SEEDS if p.name.startswith(prefix))


@pytest.fixture
def in_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    return ROOT


@pytest.fixture(scope="module")
def seed_docs() -> dict[str, Document]:
    return {p.name[:3]: load_document(p) for p in SEEDS}


def without_source(doc: Document) -> list[Report]:
    return [dataclasses.replace(r, source="") for r in doc.reports]


# ----------------------------------------------------------------- seed reports


def test_seeds_yield_nine_reports(seed_docs: dict[str, Document]) -> None:
    assert sorted(seed_docs) == ["000", "001", "002", "003", "004"]
    assert sum(len(d.reports) for d in seed_docs.values()) == 9
    for doc in seed_docs.values():
        assert doc.format == "txt"
        assert doc.encoding == "utf-8"
        assert len(doc.sha256) == 64
        assert [r.index for r in doc.reports] == list(range(len(doc.reports)))


def test_compilation_splits_into_five_reports(seed_docs: dict[str, Document]) -> None:
    reports = seed_docs["003"].reports
    assert [r.role for r in reports] == ["乡长", "副乡长", "副乡长", "组织部长", "宣传部长"]
    assert [r.year for r in reports] == [2023] * 5
    assert [r.level for r in reports] == ["乡"] * 5
    # The "篇1：" prefix is not part of the title; the 汇编 title and "（5篇）" are no report.
    assert reports[0].title == "乡长2023年度抓基层党建工作述职报告"
    assert all("汇编" not in r.text and "（5篇）" not in r.text for r in reports)
    assert reports[3].title == "乡组织部长2023年抓基层党建工作述职报告"


def test_single_report_metadata(seed_docs: dict[str, Document]) -> None:
    r000, r001, r002, r004 = (seed_docs[k].reports[0] for k in ("000", "001", "002", "004"))
    assert (r000.role, r000.level, r000.year) == ("村党总支书记", "村", 2022)
    assert (r002.role, r002.level, r002.year) == ("镇党委书记", "镇", 2022)
    assert (r004.role, r004.year) == ("支部书记", None)  # "**年度" is a redacted year
    assert r004.level == "局"  # from body cues (全局…), the title names no unit
    # No role in the title: the body says "认真履行党委书记抓基层党建工作职责"; 全镇 gives the level.
    assert (r001.role, r001.level, r001.year) == ("党委书记", "镇", 2022)


def test_every_report_has_the_skeleton_in_order(seed_docs: dict[str, Document]) -> None:
    for doc in seed_docs.values():
        for report in doc.reports:
            kinds = [s.kind for s in report.sections]
            assert [k for k in kinds if k in MAIN_KINDS] == MAIN_KINDS, (report.title, kinds)
            assert set(kinds) <= set(SECTION_KINDS)
            assert kinds[0] in ("前言", "履职")


def test_opening_and_closing_lines(seed_docs: dict[str, Document]) -> None:
    mayor, *_, propaganda = seed_docs["003"].reports
    assert [s.kind for s in mayor.sections] == ["履职", "问题", "打算", "结语"]
    closing = mayor.sections[-1]
    assert closing.heading == ""
    assert mayor.text[closing.start : closing.end] == "以上述职，不妥之处，敬请各位领导和同志批评指正。"
    assert propaganda.sections[-1].kind == "结语"
    intro = seed_docs["004"].reports[0].sections[0]
    assert intro.kind == "前言" and intro.heading == ""
    assert seed_docs["004"].reports[0].text[intro.start : intro.end].startswith("按照会议安排")


def test_paywall_markers_are_gone_and_redactions_kept(seed_docs: dict[str, Document]) -> None:
    for doc in seed_docs.values():
        for report in doc.reports:
            assert "##" not in report.text and "paid" not in report.text
            if "*" in report.text:
                assert report.redaction_count > 0 and report.redacted
    deputy = seed_docs["003"].reports[1]
    assert "（四）贯彻落实新发展理念，不断提高履职能力" in deputy.text  # marker sat mid-line
    assert "联系挂钩X村" in deputy.text
    assert seed_docs["000"].reports[0].redaction_count == 9


def test_offsets_point_at_headings(seed_docs: dict[str, Document]) -> None:
    for doc in seed_docs.values():
        for report in doc.reports:
            text = report.text
            assert text.startswith(report.title)
            assert text == text.strip()
            previous_end = 0
            for sec in report.sections:
                assert previous_end <= sec.start < sec.end <= len(text)
                chunk = text[sec.start : sec.end]
                assert chunk.startswith(sec.heading) and chunk == chunk.strip()
                previous_end = sec.end
                sub_end = sec.start
                for sub in sec.subsections:
                    assert sub_end <= sub.start < sub.end <= sec.end
                    block = text[sub.start : sub.end]
                    assert block.startswith(sub.marker)
                    assert block[len(sub.marker) :].lstrip().startswith(sub.heading)
                    assert 0 < len(sub.heading) <= 60
                    sub_end = sub.end


def test_subsection_styles(seed_docs: dict[str, Document]) -> None:
    deputy = seed_docs["003"].reports[1]
    duty = deputy.sections[1]
    assert duty.heading == "一、履职情况"
    markers = [s.marker for s in duty.subsections]
    assert markers == ["（一）", "（二）", "（三）", "（四）", *(f"{n}." for n in range(1, 6))]
    assert duty.subsections[4].heading == "抓好安全生产工作"
    # A heading on its own line: the block still runs to the next marker.
    second = duty.subsections[1]
    assert second.heading == "严守政治纪律和政治规矩，不断提高政治能力"
    assert "\n一是讲规矩守纪律" in deputy.text[second.start : second.end]
    # 002 has no （一）/1. markers: its inline 一是/二是 enumerations become subsections.
    town = seed_docs["002"].reports[0].sections[1]
    assert [s.marker for s in town.subsections][:3] == ["一是", "二是", "三是"]
    assert town.subsections[0].heading == "抓牢组织建设，争做表率，全面落实党建责任制"
    problems = seed_docs["001"].reports[0].sections[2]
    assert problems.heading == "二、存在的问题及原因分析" and problems.kind == "问题"
    assert [s.marker for s in problems.subsections] == ["一是", "二是", "三是"] * 2


def test_source_keys_are_relative_under_cwd(in_root: Path) -> None:
    doc = load_document(Path("seeds") / seed("003").name)
    assert doc.source == f"seeds/{seed('003').name}"
    assert all(r.source == doc.source for r in doc.reports)
    assert source_key(in_root / "seeds" / "x.txt") == "seeds/x.txt"
    assert source_key(Path("/definitely/elsewhere/x.txt")) == "/definitely/elsewhere/x.txt"


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize(("codec", "expected"), [("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030")])
def test_encodings_parse_identically(tmp_path: Path, codec: str, expected: str) -> None:
    original = load_document(seed("003"))
    target = tmp_path / "copy.txt"
    target.write_bytes(seed("003").read_text(encoding="utf-8").encode(codec))
    doc = load_document(target)
    assert doc.encoding == expected
    assert without_source(doc) == without_source(original)


def test_gbk_bytes_parse_identically(tmp_path: Path) -> None:
    text = seed("000").read_text(encoding="utf-8")
    target = tmp_path / "gbk.txt"
    target.write_bytes(text.encode("gbk"))
    doc = load_document(target)
    assert doc.encoding == "gb18030"  # GB18030 is a superset of GBK
    assert without_source(doc) == without_source(load_document(seed("000")))


def test_mixed_line_endings(tmp_path: Path) -> None:
    lines = seed("003").read_text(encoding="utf-8").split("\n")
    endings = ["\r\n", "\r", "\n"]
    mixed = "".join(line + endings[i % 3] for i, line in enumerate(lines))
    target = tmp_path / "mixed.txt"
    target.write_bytes(mixed.encode("utf-8"))
    assert without_source(load_document(target)) == without_source(load_document(seed("003")))


def test_decode_text_variants() -> None:
    sample = "述职报告：全镇179.25万元"
    assert decode_text(sample.encode("utf-16"), "a.txt") == (sample, "utf-16")
    assert decode_text(b"\xef\xbb\xbf" + sample.encode(), "a.txt") == (sample, "utf-8-sig")
    assert decode_text(sample.encode("gbk"), "a.txt") == (sample, "gb18030")
    # Cut off in the middle of the last character: still UTF-8.
    assert decode_text(sample.encode()[:-1], "a.txt") == (sample[:-1], "utf-8")
    with pytest.raises(DocumentError, match=r"a\.txt: 这是二进制文件"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a.txt")


# ------------------------------------------------------------- cleaning etc.


def test_clean_text() -> None:
    raw = (
        "\ufeff  篇1：乡长述职报告\u3000\r\n\r\n\r\n\u3000\u3000一、履职##paidbegin##情况\u00a0\r"
        "聚焦X发展，**县XX村\u200b投入*万元。  \n\n\n\n##paidend##\n二、存在问题\t\n"
    )
    expected = "篇1：乡长述职报告\n\n一、履职情况\n聚焦X发展，**县XX村投入*万元。\n\n二、存在问题"
    assert clean_text(raw) == expected


def test_count_redactions() -> None:
    assert count_redactions("聚焦X发展，XX村，**县，投入*万元，20XX年") == 5
    assert count_redactions("用好Excel、QQ和Xi'an之外") == 0
    assert count_redactions("××村与3×4") == 1


def test_split_reports_compilation() -> None:
    text = (
        "某乡述职报告汇编\n（2篇）\n\n"
        "篇1：乡长2023年述职报告\n一、履职情况\n正文。\n\n"
        "篇2:副乡长述职报告\n正文二。"
    )
    parts = split_reports(text)
    assert [t for t, _, _ in parts] == ["乡长2023年述职报告", "副乡长述职报告"]
    for title, start, end in parts:
        assert text[start:end].startswith(title) and text[start:end] == text[start:end].strip()
    assert text[parts[0][1] : parts[0][2]].endswith("正文。")


def test_split_reports_ignores_sentences_ending_in_baogao() -> None:
    text = "镇长述职报告\n现将本人2022年工作情况报告\n根据安排，现将工作报告\n一、工作情况\n正文。"
    assert split_reports(text) == [("镇长述职报告", 0, len(text))]


def test_split_reports_folds_stacked_titles() -> None:
    text = "述职述廉报告\n乡长2022年度述职报告\n一、工作情况\n正文。"
    assert split_reports(text) == [("述职述廉报告", 0, len(text))]
    report = parse_report(text, source="s", index=0, title="述职述廉报告")
    assert (report.role, report.year) == ("乡长", 2022)  # found in the second title line


def test_split_reports_without_title() -> None:
    body = "2022年，在镇党委的领导下，我团结带领全村党员群众，立足村情，扎实推进工作。\n一、工作情况\n正文。"
    [(title, start, end)] = split_reports(body, fallback_title="stem")
    assert (start, end) == (0, len(body))
    assert title.endswith("…") and body.startswith(title[:-1])
    assert split_reports("一、工作情况\n正文。", fallback_title="stem")[0][0] == "stem"
    assert split_reports("村委会工作总结\n一、工作情况\n正文。")[0][0] == "村委会工作总结"


def test_parse_report_metadata_rules() -> None:
    text = "副镇长2021年度述职报告\n一、主要工作\n正文。\n二、不足\n正文。\n三、明年计划\n正文。"
    report = parse_report(text, source="s", index=3, title="副镇长2021年度述职报告")
    assert (report.role, report.level, report.year, report.index) == ("副镇长", "镇", 2021, 3)
    assert [s.kind for s in report.sections] == ["履职", "问题", "打算"]
    body_only = parse_report(
        "述职报告\n2020年，我作为村党支部书记，协助镇党委书记做好工作。\n一、工作情况\n正文。",
        source="s",
        index=0,
        title="述职报告",
    )
    assert (body_only.role, body_only.level, body_only.year) == ("村党支部书记", "村", 2020)
    assert [s.kind for s in body_only.sections] == ["前言", "履职"]
    # Headings out of sequence are body text, and a 原因 heading is its own kind.
    odd = parse_report("报告\n一、情况\n三、乱序\n二、原因剖析\n正文。", source="s", index=0, title="报告")
    assert [(s.kind, s.heading) for s in odd.sections] == [("其他", "一、情况"), ("原因", "二、原因剖析")]


def test_parse_text_from_upload() -> None:
    doc = parse_text("篇1：乡长2023年述职报告\r\n一、履职情况\r\n正文。", source="upload:x.txt")
    assert doc.source == "upload:x.txt" and doc.format == "txt" and doc.path == ""
    assert doc.reports[0].title == "乡长2023年述职报告"
    with pytest.raises(DocumentError, match=r"^upload:x\.txt: "):
        parse_text("##paidbegin##\n\u200b\n", source="upload:x.txt")


# -------------------------------------------------------------------- .docx


def _docx_report(path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("镇长2023年述职报告")
    document.add_paragraph("一、履职情况")
    document.add_paragraph("（一）抓党建。全年召开会议26场次。")
    table = document.add_table(rows=2, cols=3)
    rows = [("项目", "数量", "单位"), ("集体经济", "179.25", "万元")]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("（二）抓发展。新建厂房800平米。")
    document.add_paragraph("二、存在问题")
    document.add_paragraph("一是学习不够。二是创新不足。")
    document.add_paragraph("三、下步打算")
    for item in ("强化学习。", "狠抓落实。"):
        document.add_paragraph(item, style="List Number")  # Word's automatic numbering
    document.save(str(path))


def test_docx_paragraphs_and_tables_in_body_order(tmp_path: Path) -> None:
    path = tmp_path / "镇长.docx"
    _docx_report(path)
    doc = load_document(path)
    assert doc.format == "docx" and doc.encoding is None
    [report] = doc.reports
    assert report.title == "镇长2023年述职报告"
    assert (report.role, report.level, report.year) == ("镇长", "镇", 2023)
    text = report.text
    assert "项目 | 数量 | 单位\n集体经济 | 179.25 | 万元" in text
    assert text.index("抓党建") < text.index("集体经济 | 179.25") < text.index("抓发展")
    assert [s.kind for s in report.sections] == MAIN_KINDS
    duty = report.sections[0]
    assert [s.marker for s in duty.subsections] == ["（一）", "（二）"]
    assert "179.25" in text[duty.subsections[0].start : duty.subsections[0].end]
    # The automatic list numbers python-docx leaves out are rebuilt.
    plans = report.sections[2]
    assert [(s.marker, s.heading) for s in plans.subsections] == [("1.", "强化学习"), ("2.", "狠抓落实")]


def test_docx_merged_cells_and_empty_document(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("村主任述职报告")
    table = document.add_table(rows=1, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "合计"
    table.cell(0, 2).text = "5.27万亩"
    path = tmp_path / "merged.docx"
    document.save(str(path))
    report = load_document(path).reports[0]
    assert report.text == "村主任述职报告\n合计 | 5.27万亩"
    assert (report.role, report.level) == ("村主任", "村")
    empty = tmp_path / "图片.docx"
    docx.Document().save(str(empty))
    with pytest.raises(DocumentError, match=r"图片\.docx: 文档里没有文字.*OCR"):
        load_document(empty)


# --------------------------------------------------------------------- .pdf


def _to_unicode_cmap(chars: str) -> bytes:
    codes = sorted({ord(c) for c in chars})
    blocks = [codes[i : i + 100] for i in range(0, len(codes), 100)]
    pairs = ["".join(f"<{c:04X}> <{c:04X}>\n" for c in block) for block in blocks]
    body = "".join(f"{len(b)} beginbfchar\n{p}endbfchar\n" for b, p in zip(blocks, pairs, strict=True))
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{body}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode()


def _cjk_pdf(path: Path, lines: list[str], **encrypt: str) -> None:
    """A one-page PDF whose text layer holds ``lines``: Identity-H codes equal to code points.

    No font is embedded (nothing would render), but the ToUnicode map gives pypdf the text.
    ``_add_object`` is private, but pypdf has no public way to add an indirect object.
    """
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    cmap = DecodedStreamObject()
    cmap.set_data(_to_unicode_cmap("".join(lines)))
    system_info = _pdf_dict(
        Registry=TextStringObject("Adobe"), Ordering=TextStringObject("Identity"), Supplement=NumberObject(0)
    )
    descendant = _pdf_dict(
        Type=NameObject("/Font"),
        Subtype=NameObject("/CIDFontType0"),
        BaseFont=NameObject("/STSong-Light"),
        CIDSystemInfo=system_info,
    )
    font = _pdf_dict(
        Type=NameObject("/Font"),
        Subtype=NameObject("/Type0"),
        BaseFont=NameObject("/STSong-Light"),
        Encoding=NameObject("/Identity-H"),
        DescendantFonts=ArrayObject([writer._add_object(descendant)]),
        ToUnicode=writer._add_object(cmap),
    )
    page[NameObject("/Resources")] = _pdf_dict(Font=_pdf_dict(F1=writer._add_object(font)))
    ops = ["BT", "/F1 12 Tf", "14 TL", "50 800 Td"]
    ops += ["<" + line.encode("utf-16-be").hex().upper() + "> Tj T*" for line in lines]
    content = DecodedStreamObject()
    content.set_data("\n".join([*ops, "ET"]).encode())
    page[NameObject("/Contents")] = writer._add_object(content)
    if encrypt:
        writer.encrypt(**encrypt)
    with path.open("wb") as handle:
        writer.write(handle)


def _pdf_dict(**entries: object) -> DictionaryObject:
    return DictionaryObject({NameObject(f"/{k}"): v for k, v in entries.items()})


PDF_LINES = [
    "乡长2023年度述职报告",
    "一、履职情况",
    "（一）抓党建。全年召开会议26场次，投入179.25万元。",
    "二、存在问题",
    "一是学习不够。二是创新不足。",
    "三、下步打算",
    "（一）强化学习。",
    "- 1 -",
]


def test_pdf_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "乡长.pdf"
    _cjk_pdf(path, PDF_LINES)
    doc = load_document(path)
    assert doc.format == "pdf"
    [report] = doc.reports
    assert report.title == "乡长2023年度述职报告"
    assert (report.role, report.level, report.year) == ("乡长", "乡", 2023)
    assert [s.kind for s in report.sections] == MAIN_KINDS
    assert "179.25万元" in report.text
    assert "- 1 -" not in report.text  # page numbers are layout, not report text


def test_pdf_lines_wrapped_at_the_page_edge_are_rejoined(tmp_path: Path) -> None:
    path = tmp_path / "wrapped.pdf"
    wrapped = [
        "镇长2023年述职报告",
        "一、履职情况",
        "（一）抓党建。在县委的领导下扎实推进党建各项工作",
        # Alone, this wrapped line would look like a report title (short, ends in 报告).
        "全年召开会议26场次并听取各村党组织书记述职报告",
        "投入179.25万元。",
        "二、存在问题",
        "第 1 页 共 1 页",
    ]
    _cjk_pdf(path, wrapped)
    [report] = load_document(path).reports
    assert "各项工作全年召开会议26场次并听取各村党组织书记述职报告投入179.25万元。" in report.text
    assert "第 1 页" not in report.text
    assert [s.heading for s in report.sections] == ["一、履职情况", "二、存在问题"]


def test_pdf_with_empty_user_password_opens(tmp_path: Path) -> None:
    path = tmp_path / "locked-for-editing.pdf"
    _cjk_pdf(path, PDF_LINES, user_password="", owner_password="owner", algorithm="RC4-128")
    assert load_document(path).reports[0].title == "乡长2023年度述职报告"


def test_pdf_errors(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with scan.open("wb") as handle:
        writer.write(handle)
    # With OCR on, a blank scan is read and nothing is found (tests/test_ocr.py); with OCR off
    # the PDF is refused as before, saying how to turn it on.
    with pytest.raises(DocumentError, match=r"scan\.pdf: PDF 没有文字层，可能是扫描件 — .*RAG_OCR=auto"):
        load_document(scan, ocr=OcrOptions(mode="off"))
    secret = tmp_path / "secret.pdf"
    _cjk_pdf(secret, PDF_LINES, user_password="pw", owner_password="pw", algorithm="RC4-128")
    with pytest.raises(DocumentError, match=r"secret\.pdf: PDF 已加密"):
        load_document(secret)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n" + random.Random(1).randbytes(2000))
    with pytest.raises(DocumentError, match=r"broken\.pdf"):
        load_document(broken)


# ------------------------------------------------------------- bad inputs


def _bad(tmp_path: Path, name: str, data: bytes | None) -> Path:
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("missing.txt", None, "文件不存在"),
        ("empty.txt", b"", "文件是空的"),
        ("blank.txt", " \r\n\t\u3000\n".encode(), "只有空白"),
        ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "二进制文件"),
        ("corrupt.docx", random.Random(7).randbytes(3000), "文件损坏，无法作为 .docx 打开"),
        ("old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "旧版 .doc"),
        ("report.doc", b"whatever", "文件内容不是 Word/WPS 文档（.doc）"),
        ("report.rtf", b"whatever", "不支持的文件类型 .rtf"),
        ("notes.xyz", b"whatever", "不支持的文件类型 .xyz"),
        ("paywall.md", b"##paidbegin##\n##paidend##\n", "清理后没有可用的报告正文"),
    ],
)
def test_bad_inputs_name_the_file(tmp_path: Path, name: str, data: bytes | None, problem: str) -> None:
    with pytest.raises(DocumentError) as caught:
        load_document(_bad(tmp_path, name, data))
    err = caught.value
    message = str(err)
    assert name in message and problem in message
    assert "\n" not in message and " — " in message
    assert err.path.endswith(name) and problem in err.problem and err.hint


def test_rtf_hint_says_save_as_docx(tmp_path: Path) -> None:
    # .doc and .wps are read (tests/test_ocr.py); .rtf still gets the "save it as .docx" hint.
    with pytest.raises(DocumentError, match=r"另存为 \.docx"):
        load_document(_bad(tmp_path, "report.rtf", b"whatever"))


def test_size_limit(tmp_path: Path) -> None:
    path = _bad(tmp_path, "big.txt", "镇长述职报告\n正文。".encode() * 100)
    with pytest.raises(DocumentError, match=r"big\.txt: 文件过大.*RAG_MAX_FILE_MB"):
        load_document(path, max_bytes=1000)
    assert load_document(path, max_bytes=10_000).reports


def test_undecodable_text(tmp_path: Path) -> None:
    # Invalid as UTF-8 and as GB18030, and no control bytes: nothing can read it as text.
    data = bytes([0x81, 0x30, 0xFF, 0x41] * 200)
    with pytest.raises(DocumentError, match=r"odd\.txt: 无法识别文本编码"):
        load_document(_bad(tmp_path, "odd.txt", data))


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="文件夹"):
        load_document(tmp_path)


def test_error_pickles() -> None:
    import pickle

    err = pickle.loads(pickle.dumps(DocumentError("a.txt", "坏了", "重做")))
    assert (err.path, err.problem, err.hint, str(err)) == ("a.txt", "坏了", "重做", "a.txt: 坏了 — 重做")


# ------------------------------------------------------------- iter_files


def test_iter_files(tmp_path: Path) -> None:
    for rel in [
        "b.txt",
        "a.DOCX",
        "sub/c.md",
        "sub/d.pdf",
        "sub/e.png",
        "sub/skip.gif",
        ".hidden.txt",
        "~$lock.docx",
        ".git/e.txt",
        "sub/.cache/f.txt",
    ]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x", encoding="utf-8")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_files([tmp_path])]
    assert found == ["a.DOCX", "b.txt", "sub/c.md", "sub/d.pdf", "sub/e.png"]
    png = tmp_path / "sub" / "skip.gif"
    # Named directly, any suffix is yielded (load_document then reports it); repeats are dropped.
    assert list(iter_files([png, tmp_path / "b.txt", png])) == [png, tmp_path / "b.txt"]
    with pytest.raises(DocumentError, match="nope"):
        list(iter_files([tmp_path / "nope"]))
    assert set(SUPPORTED_SUFFIXES) == {
        *(".txt", ".md", ".docx", ".pdf", ".doc", ".wps"),
        *(".png", ".jpg", ".jpeg", ".tif", ".tiff"),
    }


def test_source_key_outside_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inner = tmp_path / "work"
    inner.mkdir()
    monkeypatch.chdir(inner)
    assert source_key(Path("r.txt")) == "r.txt"
    assert source_key(tmp_path / "other" / "r.txt") == (tmp_path / "other" / "r.txt").as_posix()
    assert os.path.isabs(source_key(Path("../x.txt")))
