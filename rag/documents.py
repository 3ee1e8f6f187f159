"""Load 述职报告 files, clean them, split 汇编 and parse the report skeleton.

Every offset in a :class:`~rag.schema.Report` points into ``Report.text`` (the
cleaned text of that one report, title line first), so a citation can name the
exact span. Errors are :class:`DocumentError`: one line naming the file, what
is wrong and what the user can do about it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

import charset_normalizer
import docx
import pypdf
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf.errors import DependencyError

from rag.schema import Document, Report, Section, Subsection

__all__ = [
    "SUPPORTED_SUFFIXES",
    "DocumentError",
    "clean_text",
    "count_redactions",
    "decode_text",
    "iter_files",
    "load_document",
    "parse_report",
    "parse_text",
    "source_key",
    "split_reports",
    "unsupported_type_hint",
]

SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".pdf")


class DocumentError(Exception):
    """A file that cannot be ingested: which file, what is wrong, what to do."""

    def __init__(self, path: str | os.PathLike[str], problem: str, hint: str) -> None:
        self.path = str(path)
        self.problem = problem
        self.hint = hint
        super().__init__(f"{self.path}: {problem} — {hint}")

    def __reduce__(self):  # keep it picklable across worker processes
        return (type(self), (self.path, self.problem, self.hint))


# --------------------------------------------------------------------------- files


def source_key(path: Path) -> str:
    """The document key: cwd-relative posix path when under cwd, else absolute."""
    absolute = Path(os.path.abspath(path))  # abspath, not resolve: keep the user's view of symlinks
    try:
        return absolute.relative_to(os.getcwd()).as_posix()
    except ValueError:
        return absolute.as_posix()


def _skipped_name(name: str) -> bool:
    # "~$x.docx" are Word's lock files: tiny, never a document.
    return name.startswith((".", "~$"))


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not _skipped_name(name) and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                yield Path(root) / name


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named directly (any suffix, so the caller can report it) and supported files in folders."""
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise DocumentError(source_key(path), "路径不存在", "请检查路径拼写，或确认文件已复制到该位置")
        for file in _walk(path) if path.is_dir() else [path]:
            key = os.path.abspath(file)
            if key not in seen:  # the same file named twice is ingested once
                seen.add(key)
                yield file


# ------------------------------------------------------------------------ decoding

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_CONTROL_BYTES = frozenset(range(32)) - frozenset(b"\t\n\r\x0b\x0c\x1b")


def _looks_binary(data: bytes) -> bool:
    sample = data[:65536]
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if byte in _CONTROL_BYTES)
    return controls > len(sample) * 0.05


def _plausible(text: str) -> bool:
    # A wrong legacy decoding shows up as control, private-use and unassigned characters.
    bad = sum(1 for ch in text if unicodedata.category(ch) in ("Cc", "Co", "Cn") and ch not in "\t\n\r")
    return bad <= max(2, len(text) // 100)


def _decode_utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A file cut off mid-character (copied partially) is still UTF-8.
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8", errors="strict")
        return None


def decode_text(data: bytes, path: str | os.PathLike[str] = "<text>") -> tuple[str, str]:
    """(text, encoding): BOM, UTF-8, GB18030 (a superset of GBK), then charset-normalizer.

    Binary data (NUL bytes, many control bytes) is rejected before any guessing: GB18030
    and charset-normalizer would otherwise happily "decode" an image.
    """
    undecodable = DocumentError(
        path, "无法识别文本编码", "请用记事本或 WPS 打开后另存为 UTF-8 编码的 .txt 再导入"
    )
    bom = next((encoding for mark, encoding in _BOMS if data.startswith(mark)), None)
    if bom:
        try:
            return data.decode(bom), bom
        except UnicodeDecodeError:
            raise undecodable from None
    if _looks_binary(data):
        raise DocumentError(path, "这是二进制文件，不是文本", "请确认文件类型；Word/PDF 文件请保留原扩展名")
    text = _decode_utf8(data)
    if text is not None:
        return text, "utf-8"
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and _plausible(text):
        return text, "gb18030"
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and _plausible(str(best)):
        return str(best), best.encoding
    raise undecodable


# ------------------------------------------------------------------------ cleaning

_MARKER_RE = re.compile(r"##[A-Za-z][A-Za-z0-9_]{0,30}##")  # ##paidbegin## / ##paidend## and kin
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\x00-\x08\x0e-\x1f\x7f]")
_LINE_BREAKS_RE = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_REDACTION_RE = re.compile(r"[*＊]+|(?<![A-Za-z])[XxＸｘ]+(?![A-Za-z])|(?<!\d)×+(?!\d)")


def clean_text(text: str) -> str:
    """Normalize breaks, drop paywall markers and invisible chars; keep redaction marks."""
    text = _LINE_BREAKS_RE.sub("\n", text)
    text = _MARKER_RE.sub("", text)
    text = _INVISIBLE_RE.sub("", text)
    # str.strip() also removes NBSP and the full-width space used for indents.
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")


def count_redactions(text: str) -> int:
    """Runs of * and X/x (not inside a Latin word): each stands for a removed name or figure."""
    return len(_REDACTION_RE.findall(text))


# ----------------------------------------------------------------------- splitting

_CN = "一二三四五六七八九十"
_TITLE_PREFIX_RE = re.compile(rf"^(?:篇\s*[0-9{_CN}]+|第\s*[0-9{_CN}]+\s*篇|范文\s*[0-9{_CN}]+)\s*[：:]\s*")
_TITLE_END_RE = re.compile(r"报告(?:[（(][^（）()]{1,20}[）)])?$")
_TOP_RE = re.compile(rf"^([{_CN}]{{1,3}})[、．.]")
_SUB_LINE_RE = re.compile(rf"^(?:[（(][{_CN}]{{1,3}}[）)]|[（(]\d{{1,2}}[）)]|\d{{1,2}}[.、．](?!\d))", re.M)
_INLINE_RE = re.compile(rf"(?:^|(?<=[。：；，！？:;,）)\s]))([{_CN}])是", re.M)
_SENTENCE_PUNCT_RE = re.compile(r"[，。；：！？,;]")
_SENTENCE_OPENERS = ("现将", "现就", "现把", "根据", "按照", "以上", "特此", "下面")
_TITLE_MAX = 50


def _lines(text: str) -> Iterator[tuple[int, str]]:
    start = 0
    for line in text.split("\n"):
        yield start, line
        start += len(line) + 1


def _title_in(line: str) -> tuple[str, int] | None:
    """(title, prefix length) when the line is a report title line."""
    prefix = _TITLE_PREFIX_RE.match(line)
    skip = prefix.end() if prefix else 0
    title = line[skip:].strip()
    if not 4 <= len(title) <= _TITLE_MAX or "汇编" in title or not _TITLE_END_RE.search(title):
        return None
    # Sentences ("现将…情况报告如下：") and numbered headings are body text, not titles.
    if _SENTENCE_PUNCT_RE.search(title) or _TOP_RE.match(title) or _SUB_LINE_RE.match(title):
        return None
    if title.startswith(_SENTENCE_OPENERS):  # "现将本人2022年工作情况报告"
        return None
    return title, skip


def _fallback_title(text: str, fallback: str) -> str:
    first = next((line for _, line in _lines(text) if line.strip()), "").strip()
    if not first or _TOP_RE.match(first):
        return fallback or first[:30]
    if len(first) <= _TITLE_MAX and not first.endswith("。"):
        return first
    return first[:30].rstrip("，。；：,") + "…"


def split_reports(text: str, *, fallback_title: str = "") -> list[tuple[str, int, int]]:
    """(title, start, end) of each report in cleaned text; start is at the title itself."""
    heads = []  # (title, title start, line start)
    for start, line in _lines(text):
        found = _title_in(line)
        if found:
            heads.append((found[0], start + found[1], start))
    if not heads:
        body = len(text) - len(text.lstrip())
        return [(_fallback_title(text, fallback_title), body, len(text.rstrip()))]
    reports: list[tuple[str, int, int]] = []
    for i, (title, start, _) in enumerate(heads):
        end = heads[i + 1][2] if i + 1 < len(heads) else len(text)
        if reports and "\n" not in text[reports[-1][1] : reports[-1][2]]:
            # Two title lines in a row ("述职述廉报告" over "乡长…述职报告"): one report under
            # the first; the second stays in its body, where role and year are still found.
            title, start = reports.pop()[:2]
        reports.append((title, start, _trim(text, start, end)))
    return reports


# ------------------------------------------------------------------------ metadata

# Role → the level it implies (None: the unit must come from elsewhere). 社区 counts as 村 and
# 街道 as 镇: the same tier in the 县-乡镇-村 hierarchy.
_ROLE_LEVELS: dict[str, str | None] = {
    "村党总支书记": "村",
    "村党支部书记": "村",
    "村党委书记": "村",
    "村党组织书记": "村",
    "社区党委书记": "村",
    "社区党总支书记": "村",
    "社区党支部书记": "村",
    "镇党委书记": "镇",
    "乡党委书记": "乡",
    "街道党工委书记": "镇",
    "党工委书记": None,
    "党委书记": None,
    "党委副书记": None,
    "党总支书记": None,
    "党支部书记": None,
    "支部书记": None,
    "党组书记": None,
    "驻村第一书记": "村",
    "第一书记": None,
    "纪委书记": None,
    "纪工委书记": None,
    "乡长": "乡",
    "副乡长": "乡",
    "镇长": "镇",
    "副镇长": "镇",
    "街道办主任": "镇",
    "村主任": "村",
    "村委会主任": "村",
    "社区主任": "村",
    "组织委员": None,
    "宣传委员": None,
    "纪检委员": None,
    "统战委员": None,
    "武装部长": None,
    "组织部长": None,
    "宣传部长": None,
    "统战部长": None,
    "人大主席": None,
    "局长": "局",
    "副局长": "局",
}
_ROLE_RE = re.compile("|".join(sorted(_ROLE_LEVELS, key=len, reverse=True)))  # longest wins
_SELF_ROLE_RE = re.compile(rf"(?:作为|身为|担任)(?:[^，。；\n]{{0,6}}?)({_ROLE_RE.pattern})")
_LEVEL_BEFORE = (("社区", "村"), ("街道", "镇"), ("村", "村"), ("镇", "镇"), ("乡", "乡"), ("局", "局"))
_LEVEL_CUES = (
    (re.compile("全村"), "村"),
    (re.compile("全镇"), "镇"),
    (re.compile("全乡"), "乡"),
    # "全局" also means "the overall situation" (全局观念, 顾全局): count only the bureau sense.
    (re.compile("(?<![顾从观统])全局(?!观|性|意识|高度|角度)"), "局"),
    (re.compile("机关"), "机关"),
)
_YEAR_RE = re.compile(r"(?<!\d)(20\d{2})(?!\d)")
_BODY_YEAR_RE = re.compile(r"(?<!\d)(20\d{2})\s*年")
_HEAD_WINDOW = 300


def _find_year(title: str, body: str) -> int | None:
    match = _YEAR_RE.search(title) or _BODY_YEAR_RE.search(body[:_HEAD_WINDOW])
    return int(match.group(1)) if match else None


def _find_role(title: str, body: str) -> tuple[str | None, str]:
    """(role, text just before it): the title wins, then "作为X" in the body, then the first role."""
    head = body[:_HEAD_WINDOW]
    for match in (_ROLE_RE.search(title), _SELF_ROLE_RE.search(head), _ROLE_RE.search(head)):
        if match:
            group = match.lastindex or 0
            return match.group(group), match.string[: match.start(group)]
    return None, ""


def _find_level(title: str, body: str, role: str | None, before_role: str) -> str | None:
    if role and (level := _ROLE_LEVELS[role]):
        return level
    for cue, level in _LEVEL_BEFORE:  # "乡组织部长": the unit is written just before the role
        if before_role.endswith(cue):
            return level
    if "机关" in title:
        return "机关"
    counts = [(len(pattern.findall(body)), -i, level) for i, (pattern, level) in enumerate(_LEVEL_CUES)]
    best = max(counts)
    return best[2] if best[0] else None


# ------------------------------------------------------------------------ skeleton

_KIND_RULES = (
    ("问题", ("问题", "不足", "差距", "短板")),
    ("原因", ("原因",)),
    ("打算", ("下步", "下一步", "打算", "今后", "明年")),
    ("履职", ("履职", "工作情况", "基本情况", "特色", "亮点", "成效", "做法", "主要工作", "成绩", "述职")),
    ("打算", ("思路", "措施", "计划", "方向", "努力")),
)
_CLOSING_RE = re.compile(r"^以上.{0,20}(?:述职|报告|汇报)|批评指正|请予评议")
_PHRASE_END_RE = re.compile(r"[。；！？\n]")
_HEADING_MAX = 60


def _cn_int(numeral: str) -> int:
    tens, sep, units = numeral.partition("十")
    if not sep:
        return _CN.index(numeral) + 1 if len(numeral) == 1 else 0
    return (_CN.index(tens) + 1 if tens else 1) * 10 + (_CN.index(units) + 1 if units else 0)


def _kind_of(heading: str) -> str:
    for kind, words in _KIND_RULES:
        if any(word in heading for word in words):
            return kind
    return "其他"


def _phrase(text: str, start: int) -> str:
    """From start up to the first 。；！？ or line end, trimmed to the heading limit."""
    match = _PHRASE_END_RE.search(text, start)
    return text[start : match.start() if match else len(text)].strip()[:_HEADING_MAX]


def _trim(text: str, start: int, end: int) -> int:
    """End offset with trailing whitespace dropped, never before start."""
    return max(start, start + len(text[start:end].rstrip()))


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _subsections(text: str, start: int, end: int) -> tuple[Subsection, ...]:
    """（一）/1. blocks at line start; failing those, 一是/二是 enumerations."""
    body = _line_end(text, start) + 1  # below the heading line
    marks = [(m.start(), m.group(), True) for m in _SUB_LINE_RE.finditer(text, body, end)]
    if not marks:
        expected = 1
        for m in _INLINE_RE.finditer(text, start, end):  # "二、存在问题：一是…" counts too
            number = _CN.index(m.group(1)) + 1
            if number in (1, expected):  # "统一是"/"之一是" break the run and are skipped
                at_line_start = m.start() == 0 or text[m.start() - 1] == "\n"
                marks.append((m.start(), m.group(), at_line_start))
                expected = number + 1
    subs = []
    for i, (pos, marker, block) in enumerate(marks):
        stop = marks[i + 1][0] if i + 1 < len(marks) else end
        if not block:  # an inline item ends with its paragraph
            stop = min(stop, _line_end(text, pos))
        subs.append(Subsection(marker, _phrase(text, pos + len(marker)), pos, _trim(text, pos, stop)))
    return tuple(subs)


def _closing_start(text: str, after: int) -> int | None:
    """Start of the closing line (以上述职…敬请批评指正), followed at most by a signature or date."""
    lines = [(s, line) for s, line in _lines(text) if s >= after and line.strip()]
    for i in range(len(lines) - 1, max(len(lines) - 4, -1), -1):
        start, line = lines[i]
        if len(line) <= 100 and _CLOSING_RE.search(line) and not _TOP_RE.match(line):
            return start
        if len(line) > 30:  # a paragraph, not a signature: the report has no closing line
            return None
    return None


def _sections(text: str, body: int) -> tuple[Section, ...]:
    heads, expected = [], 1
    for start, line in _lines(text):
        match = _TOP_RE.match(line) if start >= body else None
        if match and _cn_int(match.group(1)) == expected:  # out-of-order numerals are body text
            heads.append(start)
            expected += 1
    closing = _closing_start(text, heads[-1] + 1 if heads else body)
    stop = closing if closing is not None else len(text)
    sections = []
    first = heads[0] if heads else stop
    lead = body + len(text[body:first]) - len(text[body:first].lstrip())
    if lead < first:  # text between the title and the first heading
        sections.append(Section("前言" if heads else "其他", "", lead, _trim(text, lead, first)))
    for i, start in enumerate(heads):
        end = _trim(text, start, heads[i + 1] if i + 1 < len(heads) else stop)
        heading = _phrase(text, start)
        kind = _kind_of(heading[len(_TOP_RE.match(heading).group()) :])
        sections.append(Section(kind, heading, start, end, _subsections(text, start, end)))
    if closing is not None:  # no heading: the closing line is content, like the 前言
        sections.append(Section("结语", "", closing, _trim(text, closing, len(text))))
    return tuple(sections)


def parse_report(text: str, *, source: str, index: int, title: str) -> Report:
    """One report from its cleaned text (title line first); all offsets index ``text``."""
    first_line = text[: _line_end(text, 0)]
    body = len(first_line) + 1 if first_line.strip() == title.strip() else 0
    body_text = text[body:]
    role, before_role = _find_role(title, body_text)
    return Report(
        title=title,
        text=text,
        source=source,
        index=index,
        year=_find_year(title, body_text),
        role=role,
        level=_find_level(title, body_text, role, before_role),
        sections=_sections(text, min(body, len(text))),
        redaction_count=count_redactions(text),
    )


def parse_text(
    text: str,
    *,
    source: str,
    path: str = "",
    sha256: str = "",
    fmt: str = "txt",
    encoding: str | None = None,
) -> Document:
    """Clean, split and parse an in-memory text (also what uploads go through)."""
    cleaned = clean_text(text)
    if not cleaned.strip():
        raise DocumentError(
            source, "清理后没有可用的报告正文", "请确认文件是述职报告正文，而不只是标记或空行"
        )
    stem = Path(path or source).stem
    reports = tuple(
        parse_report(cleaned[start:end], source=source, index=i, title=title)
        for i, (title, start, end) in enumerate(split_reports(cleaned, fallback_title=stem))
    )
    return Document(source, path, sha256, fmt, encoding, reports)


# ------------------------------------------------------------------------- loaders

_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # old .doc, and Office files saved with a password
_SUFFIX_HINTS = {
    ".doc": "请用 Word 或 WPS 打开后另存为 .docx 再导入",
    ".wps": "请用 WPS 打开后另存为 .docx 再导入",
    ".rtf": "请用 Word 打开后另存为 .docx 再导入",
}


def unsupported_type_hint(suffix: str, default: str = "") -> str:
    """What to do with a file of a type we cannot read (.doc: save it as .docx, …)."""
    fallback = default or "请另存为 " + " / ".join(SUPPORTED_SUFFIXES) + " 之一再导入"
    return _SUFFIX_HINTS.get(suffix.lower(), fallback)


def _size(n: float) -> str:
    if n >= 1048576:
        return f"{n / 1048576:.1f} MB"
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n:.0f} 字节"


def _text_file(data: bytes, key: str) -> tuple[str, str | None]:
    text, encoding = decode_text(data, key)
    if not text.strip():
        raise DocumentError(key, "文件只有空白字符，没有正文", "请确认保存了正确的文件")
    return text, encoding


_NUM_FORMATS = {"chineseCounting", "chineseCountingThousand", "chineseLegalSimplified", "japaneseCounting"}


def _cn_numeral(n: int) -> str:
    if n <= 10:
        return "十" if n == 10 else _CN[n - 1] if n > 0 else "〇"
    tens, units = divmod(n, 10)
    return ("" if tens == 1 else _CN[tens - 1]) + "十" + (_CN[units - 1] if units else "")


class _Numbering:
    """Rebuilds Word's automatic list numbers ("一、", "（一）", "1.") that python-docx leaves out.

    Without them the 一、二、三、 skeleton of an auto-numbered report is invisible.
    Covers decimal and Chinese counting formats; lvlOverride restarts are ignored.
    """

    def __init__(self, document) -> None:
        self.levels: dict[tuple[str, str], tuple[str, str, int]] = {}
        self.counters: dict[str, list[int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            return
        abstract = {a.get(qn("w:abstractNumId")): a for a in root.findall(qn("w:abstractNum"))}
        for num in root.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            for lvl in abstract.get(ref.get(qn("w:val")) if ref is not None else None, []):
                if lvl.tag == qn("w:lvl"):
                    fmt, text, start = (lvl.find(qn(f"w:{t}")) for t in ("numFmt", "lvlText", "start"))
                    self.levels[(num.get(qn("w:numId")), lvl.get(qn("w:ilvl")))] = (
                        fmt.get(qn("w:val")) if fmt is not None else "decimal",
                        text.get(qn("w:val")) if text is not None else "",
                        int(start.get(qn("w:val"))) if start is not None else 1,
                    )

    @staticmethod
    def _num_pr(paragraph: Paragraph):
        ppr = paragraph._p.pPr
        if ppr is not None and ppr.numPr is not None:
            return ppr.numPr
        style = paragraph.style
        ppr = style.element.pPr if style is not None else None
        return ppr.numPr if ppr is not None else None

    def prefix(self, paragraph: Paragraph) -> str:
        num_pr = self._num_pr(paragraph) if self.levels else None
        if num_pr is None or num_pr.numId is None:
            return ""
        num_id = str(num_pr.numId.val)
        ilvl = int(num_pr.ilvl.val) if num_pr.ilvl is not None else 0
        if (num_id, str(ilvl)) not in self.levels:
            return ""
        counts = self.counters.setdefault(num_id, [0] * 9)
        counts[ilvl] += 1
        counts[ilvl + 1 :] = [0] * (8 - ilvl)
        _, pattern, _ = self.levels[(num_id, str(ilvl))]
        return re.sub(r"%([1-9])", lambda m: self._render(num_id, int(m.group(1)) - 1, counts), pattern)

    def _render(self, num_id: str, level: int, counts: list[int]) -> str:
        fmt, _, start = self.levels.get((num_id, str(level)), ("decimal", "", 1))
        n = start + max(counts[level], 1) - 1
        if fmt in _NUM_FORMATS:
            return _cn_numeral(n)
        return "" if fmt in ("bullet", "none") else str(n)


def _docx_rows(table: Table) -> Iterator[str]:
    for row in table.rows:
        cells, last = [], None
        for cell in row.cells:
            if cell._tc is last:  # a merged cell is repeated once per grid column it spans
                continue
            last = cell._tc
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            yield " | ".join(cells)


def _docx_blocks(parent, document, numbering: _Numbering) -> Iterator[str]:
    # Body children in order, so a table lands between the paragraphs around it.
    for child in parent.iterchildren():
        if child.tag == qn("w:p"):
            paragraph = Paragraph(child, document)
            yield numbering.prefix(paragraph) + paragraph.text
        elif child.tag == qn("w:tbl"):
            yield from _docx_rows(Table(child, document))
        elif child.tag == qn("w:sdt"):  # content controls wrap ordinary paragraphs
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _docx_blocks(content, document, numbering)


def _docx_file(data: bytes, key: str) -> tuple[str, str | None]:
    if data.startswith(_OLE_MAGIC):
        raise DocumentError(
            key, "文件是旧版 .doc 格式或设置了打开密码", "请用 Word 打开，去掉密码后另存为 .docx 再导入"
        )
    try:
        document = docx.Document(io.BytesIO(data))
        text = "\n".join(_docx_blocks(document.element.body, document, _Numbering(document)))
    except Exception as exc:  # a damaged package fails in zipfile, lxml or python-docx alike
        raise DocumentError(
            key, "文件损坏，无法作为 .docx 打开", "请用 Word 重新另存为 .docx 后再导入"
        ) from exc
    if not text.strip():
        raise DocumentError(key, "文档里没有文字（可能只有图片）", "如是扫描件，请先做文字识别（OCR）再导入")
    return text, None


_PAGE_NUMBER_RE = re.compile(r"^(?:[-—–\s]*\d+[-—–\s]*|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?)$")
_PDF_STOPS = "。！？：；:;"


def _reflow(page: str) -> str:
    """Rejoin lines the PDF wrapped at the page edge; keep short lines (titles, headings)."""
    lines = [line.strip() for line in page.splitlines()]
    lines = [line for line in lines if line and not _PAGE_NUMBER_RE.match(line)]
    width = max((len(line) for line in lines), default=0)
    out: list[str] = []
    for line in lines:
        prev = out[-1] if out else ""
        wrapped = width >= 20 and len(prev) >= width * 0.85 and prev[-1] not in _PDF_STOPS
        if wrapped and not (_TOP_RE.match(line) or _SUB_LINE_RE.match(line)):
            out[-1] = prev + (" " if prev[-1].isascii() and line[0].isascii() else "") + line
        else:
            out.append(line)
    return "\n".join(out)


def _pdf_file(data: bytes, key: str) -> tuple[str, str | None]:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        # Many PDFs are encrypted with an empty user password (only editing is locked).
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(
                key,
                "PDF 已加密，需要密码才能打开",
                "请用 PDF 阅读器输入密码后另存为不加密的 PDF，或导出为 .docx",
            )
        pages = [_reflow(page.extract_text() or "") for page in reader.pages]
    except DocumentError:
        raise
    except DependencyError as exc:
        raise DocumentError(
            key, "PDF 已加密，解密需要 cryptography 库", "请安装 cryptography 后重试"
        ) from exc
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise DocumentError(
            key, "文件损坏，无法作为 .pdf 打开", "请重新导出 PDF，或另存为 .docx 后再导入"
        ) from exc
    text = "\n".join(page for page in pages if page)
    if not text.strip():
        raise DocumentError(
            key, "PDF 没有文字层，可能是扫描件", "请先做文字识别（OCR），或找到原始的 .docx 文件再导入"
        )
    return text, None


_EXTRACTORS = {"txt": _text_file, "md": _text_file, "docx": _docx_file, "pdf": _pdf_file}


def _read_checked(path: Path, key: str, max_bytes: int | None) -> bytes:
    if not path.exists():
        raise DocumentError(key, "文件不存在", "请检查路径拼写，或确认文件已复制到该位置")
    if path.is_dir():
        raise DocumentError(key, "这是文件夹，不是文件", "请指定其中的文件，或导入整个文件夹")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        problem = f"不支持的文件类型 {suffix or '（无扩展名）'}"
        raise DocumentError(key, problem, unsupported_type_hint(suffix))
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise DocumentError(
                key,
                f"文件过大（{_size(size)}，上限 {_size(max_bytes)}）",
                "请拆分文件，或调高 RAG_MAX_FILE_MB",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(
            key, f"无法读取文件（{exc.strerror}）", "请检查文件权限，或确认文件未被占用"
        ) from exc
    if not data:
        raise DocumentError(key, "文件是空的（0 字节）", "请确认保存了正确的文件")
    return data


def load_document(path: Path, *, max_bytes: int | None = None) -> Document:
    """Load one file into a Document, dispatching on its suffix."""
    path = Path(path)
    key = source_key(path)
    data = _read_checked(path, key, max_bytes)
    fmt = path.suffix.lower().lstrip(".")
    text, encoding = _EXTRACTORS[fmt](data, key)
    return parse_text(
        text,
        source=key,
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
        fmt=fmt,
        encoding=encoding,
    )
