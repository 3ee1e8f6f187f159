"""Old Word (.doc) and WPS (.wps) files, read by converting them to .docx with LibreOffice
headless (Debian's libreoffice-writer-nogui), then read like any .docx.

Why LibreOffice and not antiword/catdoc: the .docx it writes keeps paragraphs, tables and
Word's automatic list numbers (一、/（一）/1.), which rag.documents.docx_reader rebuilds, so a
report's skeleton survives; antiword and catdoc give plain text without the numbering, and
antiword reads no .wps. The cost is a process start (~2 s; ~4 s the first time a profile is
made). Conversions take turns on one LibreOffice profile (a lock file beside it): two
instances on one profile would hand their work to each other or fail.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.documents.docx_reader import docx_text
from rag.documents.errors import DocumentError

PACKAGE = "libreoffice-writer-nogui"
TIMEOUT = 120.0  # seconds for one conversion
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Word 97–2003 and WPS files are OLE compound files
_ZIP_MAGIC = b"PK\x03\x04"  # a .docx saved under the old name


def converter() -> str | None:
    """The LibreOffice binary, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def _kind(data: bytes) -> str | None:
    """What the bytes are: Word binary, RTF, a .docx, Word's HTML/XML "web page" (.doc files
    exported by many office systems), or None (not a word-processor file)."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data.startswith(_OLE_MAGIC):
        return "ole"
    if data.startswith(_ZIP_MAGIC):
        return "docx"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head[:1] == b"<" or head.lower().startswith(b"mime-version"):
        return "html"
    return None


def _profile_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag-reports"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        return cache / "libreoffice-profile"
    except OSError:
        return Path(tempfile.gettempdir()) / f"rag-reports-libreoffice-{os.getuid()}"


@contextmanager
def _profile() -> Iterator[Path]:
    profile = _profile_dir()
    with open(f"{profile}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one conversion at a time on this profile
        try:
            yield profile
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def to_docx(data: bytes, key: str, suffix: str) -> bytes:
    """The .docx LibreOffice makes of a .doc/.wps file's bytes."""
    kind = _kind(data)
    if kind is None:
        raise DocumentError(
            key, f"文件内容不是 Word/WPS 文档（{suffix}）", "请用 Word 或 WPS 打开确认后另存为 .docx 再导入"
        )
    if kind == "docx":
        return data
    binary = converter()
    if binary is None:
        raise DocumentError(
            key,
            f"读取 {suffix} 需要 LibreOffice，但本机没有安装",
            f"请安装 Debian 包 {PACKAGE}（bash scripts/setup.sh 会安装），或用 Word/WPS 另存为 .docx 再导入",
        )
    with tempfile.TemporaryDirectory(prefix="rag-doc-") as tmp, _profile() as profile:
        source = Path(tmp) / f"in{suffix}"
        source.write_bytes(data)
        out = Path(tmp) / "out"
        cmd = [
            binary,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(out),
            str(source),
        ]
        _run(cmd, key, suffix)
        converted = out / "in.docx"
        if not converted.is_file() or converted.stat().st_size == 0:
            raise DocumentError(
                key,
                f"文件损坏或有密码，LibreOffice 无法打开这个 {suffix}",
                "请用 Word 或 WPS 打开（输入密码）后另存为 .docx 再导入",
            )
        return converted.read_bytes()


def _run(cmd: list[str], key: str, suffix: str) -> None:
    # Its own session: on a timeout the whole process group (oosplash and soffice.bin) goes.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise DocumentError(
            key, f"LibreOffice 转换 {suffix} 超时（{TIMEOUT:g} 秒）", "请用 Word 或 WPS 另存为 .docx 再导入"
        ) from None


def doc_text(data: bytes, key: str) -> tuple[str, str | None]:
    """The text of a .doc or .wps file, read through the .docx LibreOffice makes of it."""
    suffix = Path(key).suffix.lower() or ".doc"
    return docx_text(to_docx(data, key, suffix), key)
