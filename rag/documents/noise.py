"""Site noise of reports copied from web pages: dropped before parsing, sentences untouched.

What goes (all seen on 范文/文秘 sites):

* whole lines of page furniture: ``资源描述：…``, ``时间:2021-08-31  来源：xx网  阅读次数：123``,
  ``【下载】 【打印】 【关闭窗口】``, ``上一篇：… 下一篇：…``, ``- 2 -`` page-number lines;
* a page suffix after a title: ``…述职报告(4)``, ``…述职报告_述职报告``, ``…述职报告-xx范文网``;
* pagination spliced into a sentence: ``完成了1、2、3、全年…``, ``免疫接种 第2页 4312剂次``, and a
  ``（接上页）`` at a line start;
* conversion artifacts: ``〞`` / ``〟`` for ``”`` and ``〝`` for ``“`` (one character for one).

A line is dropped only when *everything* on it is noise, so a report sentence that happens to
mention 来源 or 时间 stays; the filter never rewrites the characters of a sentence except the
quote artifacts above.
"""

from __future__ import annotations

import re

from rag.documents.simplify import to_simplified

_QUOTES = str.maketrans({"〝": "“", "〞": "”", "〟": "”"})
_SEP = r"[\s|｜/／·•]"

# Page furniture that is noise wherever it stands on a line of its own.
_DESCRIPTION_RE = re.compile(r"^(?:资源描述|资源简介|文档描述|文档简介|内容简介)\s*[:：]")
_NEIGHBOUR_RE = re.compile(r"^(?:上一篇|下一篇|上一页|下一页|上一条|下一条)\s*[:：]?")
_BUTTON_RE = re.compile(
    r"[【\[](?:下载|免费下载|全文下载|下载文档|下载本文|word下载|WORD下载|打印|打印本页|关闭|关闭窗口|"
    r"收藏|收藏本页|加入收藏|分享|分享到|返回|返回顶部|返回列表|复制|复制链接|纠错|推荐|字体|大|中|小|"
    r"我要投稿|投稿|评论|举报)[】\]]"
)
# key:value fields of a page header. A line of fields goes only when one of them is a site field
# (a view counter, an ISO date, a 来源 that is a web site …), never for "时间：2023年3月".
_FIELD_RE = re.compile(
    r"(?P<key>资源描述|发布时间|发布日期|更新时间|时间|日期|来源|文章来源|信息来源|作者|发布者|编辑|责任编辑|"
    r"阅读次数|阅读量|阅读|浏览次数|浏览量|浏览|点击次数|点击量|点击数|点击|人气|字数|栏目|所属栏目|分类|"
    r"关键词|标签)\s*[:：]\s*(?P<value>[^\s:：]*(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?)"
)
_SITE_KEYS = frozenset((
    "资源描述", "发布时间", "发布日期", "更新时间", "阅读次数", "阅读量", "阅读", "浏览次数",
    "浏览量", "浏览", "点击次数", "点击量", "点击数", "点击", "人气", "字数", "栏目", "所属栏目",
    "文章来源", "发布者", "责任编辑",
))  # fmt: skip
_ISO_DATE_RE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_SITE_NAME_RE = re.compile(r"(?:网|网站|站|频道|平台|号|文库|范文|[A-Za-z]\.(?:com|cn|net))$|[xX]{2}")
_PAGE_LINE_RE = re.compile(r"^(?:[-—–]\s*\d{1,3}\s*[-—–]|第\s*\d{1,3}\s*页(?:\s*[/／共]\s*\d{1,3}\s*页?)?)$")

# Inside a line.
_SPLICED_PAGE_RE = re.compile(r"(?:^|\s+)第\s*\d{1,3}\s*页(?:\s*[/／共]\s*\d{1,3}\s*页?)?(?:\s+|$)")
_SPLICED_COUNT_RE = re.compile(r"(?<=[\u4e00-\u9fff])(?<!第)1、2、3、(?:4、(?:5、(?:6、(?:7、)?)?)?)?")
_CONTINUED_RE = re.compile(r"^[（(](?:接上页|续上页|接上文|续前页|续)[）)]\s*")
_HAN_AFTER_RE = re.compile(r"[\u4e00-\u9fff“‘「]")

# A title line: short, no sentence punctuation, ends in 报告 before the suffix.
_TITLE_SUFFIX_RE = re.compile(
    r"(?<=报告)\s*(?:[（(]\s*\d{1,2}\s*[）)]|[_＿|｜]+\s*[^\s，。；：！？,;:!?]{1,20}|[-—–]+\s*\S{0,15}(?:网|站|范文))$"
)
_SENTENCE_PUNCT_RE = re.compile(r"[，。；！？,;!?]")
_TITLE_MAX = 60


def _is_field_line(line: str) -> bool:
    fields = list(_FIELD_RE.finditer(line))
    if not fields:
        return False
    rest = _FIELD_RE.sub("", _BUTTON_RE.sub("", line))
    if re.sub(_SEP, "", rest):
        return False  # something besides the fields: a sentence, keep it
    for m in fields:
        key, value = m["key"], m["value"]
        if key in _SITE_KEYS or _ISO_DATE_RE.match(value) or _SITE_NAME_RE.search(value):
            return True
    return len(fields) >= 2


def is_noise_line(line: str) -> bool:
    """True for a line that is page furniture through and through (繁體 pages too)."""
    s = to_simplified(line.strip())
    if not s:
        return False
    if _DESCRIPTION_RE.match(s) or _NEIGHBOUR_RE.match(s) or _PAGE_LINE_RE.match(s):
        return True
    if _BUTTON_RE.search(s) and not re.sub(_SEP, "", _FIELD_RE.sub("", _BUTTON_RE.sub("", s))):
        return True
    return _is_field_line(s)


def strip_title_suffix(line: str) -> str:
    """``…述职报告(4)`` → ``…述职报告``; other lines unchanged."""
    if len(line) > _TITLE_MAX:
        return line
    simple = to_simplified(line)
    m = _TITLE_SUFFIX_RE.search(simple)
    if not m or _SENTENCE_PUNCT_RE.search(simple[: m.start()]):
        return line
    return line[: m.start()].rstrip()


def _splice(line: str) -> str:
    """Cut pagination spliced into the line; spans are found on the simplified copy (same
    length), so 第2頁 and （接上頁） go too."""
    simple = to_simplified(line)
    cuts = [m.span() for m in _CONTINUED_RE.finditer(simple)]
    cuts += [m.span() for m in _SPLICED_PAGE_RE.finditer(simple)]
    # "1、2、3、" followed by text (not by a number or a unit): a page list pasted in.
    cuts += [m.span() for m in _SPLICED_COUNT_RE.finditer(simple) if _HAN_AFTER_RE.match(simple, m.end())]
    kept, last = [], 0
    for start, end in sorted(cuts):  # overlapping cuts (（接上页） 第2页) merge
        if start > last:
            kept.append(line[last:start])
        last = max(last, end)
    return "".join(kept) + line[last:]


def strip_site_noise(text: str) -> str:
    """Drop page furniture lines and title suffixes, unsplice pagination, fix 〞-style quotes.

    Expects cleaned text (``\\n`` breaks, lines stripped); keeps blank lines as they were, except
    that the lines it drops leave no blank line behind.
    """
    text = text.translate(_QUOTES)
    out: list[str] = []
    for line in text.split("\n"):
        if is_noise_line(line):
            continue
        out.append(strip_title_suffix(_splice(line)).strip() if line else line)
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")
