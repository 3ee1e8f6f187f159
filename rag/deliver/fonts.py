"""The 公文 fonts every .docx declares, their fallbacks, and which of them this machine lacks.

GB/T 9704 names 小标宋 (title), 黑体 / 楷体 / 仿宋 (headings, body) and 宋体 (page numbers).
The usual files (方正小标宋简体, 仿宋_GB2312, 楷体_GB2312 from 方正/中易; 黑体 and 宋体 ship
with Windows) are licensed: they are never bundled here. A .docx names them anyway, and its
font table names a fallback (w:altName) so Word/WPS substitute a Chinese font, never a Latin
one. ``font_report()`` says which declared fonts this machine has (``fc-list``) and what it
would show instead (``fc-match`` for Simplified Chinese), for the person who prints.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass

# role → (font named in the document, fallback named in the font table, other names of it)
FONTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "title": ("方正小标宋简体", "宋体", ("FZXiaoBiaoSong-B05S", "方正小标宋_GBK")),
    "h1": ("黑体", "SimHei", ("SimHei",)),
    "h2": ("楷体_GB2312", "楷体", ("KaiTi_GB2312",)),
    "body": ("仿宋_GB2312", "仿宋", ("FangSong_GB2312",)),
    "page": ("宋体", "SimSun", ("SimSun",)),
}

LICENSE_NOTE = (
    "公文字体（方正小标宋简体、仿宋_GB2312、楷体_GB2312 等）需向字库厂商取得授权，本软件不附带；"
    "文件中已按名称声明这些字体并注明替代字体，在装有这些字体的电脑上打开即按标准显示和打印"
)


@dataclass(frozen=True)
class FontReport:
    checked: bool  # False when fc-list is not available (e.g. Windows): nothing is known
    missing: tuple[str, ...]  # declared fonts this machine lacks
    shown_as: dict[str, str]  # missing font → what this machine shows instead ("" if unknown)

    def note(self) -> str:
        """One line for the CLI, the UI and the API; empty when every font is installed."""
        if not self.checked:
            return "未能检查本机字体（没有 fc-list）。" + LICENSE_NOTE
        if not self.missing:
            return ""
        shown = "、".join(f"{m}（以 {s} 显示）" if s else m for m, s in self.shown_as.items())
        return f"本机缺少字体：{shown}。{LICENSE_NOTE}"

    def to_json(self) -> dict:
        return {"checked": self.checked, "missing": list(self.missing), "shown_as": dict(self.shown_as)}


def _run(args: list[str]) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout


@functools.lru_cache(maxsize=1)
def installed_families() -> frozenset[str] | None:
    """Every family name fontconfig knows (each language's name of a font), or None."""
    if shutil.which("fc-list") is None:
        return None
    names: set[str] = set()
    for line in _run(["fc-list", "--format", "%{family}\n"]).splitlines():
        names.update(n.strip() for n in line.split(",") if n.strip())
    return frozenset(names)


@functools.lru_cache(maxsize=16)
def shown_as(name: str) -> str:
    """The family fontconfig substitutes for ``name`` in Simplified Chinese text."""
    if shutil.which("fc-match") is None:
        return ""
    return _run(["fc-match", "--format", "%{family[0]}", f"{name}:lang=zh-cn"]).strip()


def font_report(families: frozenset[str] | None = None) -> FontReport:
    """Which declared fonts are missing here (``families``: for tests, else ``fc-list``)."""
    families = installed_families() if families is None else families
    if families is None:
        return FontReport(False, (), {})
    missing = tuple(name for name, _, aliases in FONTS.values() if not ({name, *aliases} & families))
    return FontReport(True, missing, {m: shown_as(m) for m in missing})


__all__ = ["FONTS", "LICENSE_NOTE", "FontReport", "font_report", "installed_families"]
