"""Bytes → text: BOMs, UTF-8, GB18030, then charset-normalizer; binary data refused."""

from __future__ import annotations

import os
import unicodedata

import charset_normalizer

from rag.documents.errors import DocumentError

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
