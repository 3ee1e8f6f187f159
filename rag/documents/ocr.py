"""OCR of page images with Tesseract (Debian's tesseract-ocr with chi_sim and chi_tra), called
through pytesseract.

Why pytesseract and not OCRmyPDF: we need text and a confidence per word for page images
we already hold (a PDF page rendered by pypdfium2, a photo, a TIFF frame), page by page, and
to keep a PDF's own text layer where a page has one. pytesseract's ``image_to_data`` gives
exactly that. OCRmyPDF produces a new PDF with a text layer (Ghostscript, PDF/A, one more
parse) and no word confidences; it would be slower and still need pytesseract-like parsing.

Threads: Tesseract uses OpenMP. With two OpenMP threads a page took 117 s on the 2-core
machine while another process was busy, against 5.7 s with one (measured here); so each
Tesseract process runs with ``OMP_THREAD_LIMIT=1`` (in its own environment only: the embedded
LLM, also OpenMP, keeps its threads) and ``workers`` pages are read in parallel.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag.documents.errors import DocumentError
from rag.documents.ocr_text import OcrText, lines_from_data, normalise
from rag.documents.page_text import reflow_ocr

if TYPE_CHECKING:
    from PIL import Image

    from rag.settings import Settings

# progress(done, total) per page; the index turns it into its "pages" stage.
PageProgress = Callable[[int, int], None]
PACKAGES = "tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra"
_INSTALL = f"请安装 Debian 包 {PACKAGES}（bash scripts/setup.sh 会安装）"
_MAX_SIDE = 4200  # a 12-megapixel phone photo is shrunk to about A4 at 360 dpi
_MIN_SIDE = 1600  # smaller pictures are enlarged: Tesseract wants ~20 px per character
# "auto" reads the first page with both and keeps the better one for the document; chi_tra
# must win by this margin (chi_sim is faster and most reports are in simplified characters).
_TRADITIONAL_MARGIN = 0.02
_NOISE_LEVEL = 2.0  # median grey-level distance to the 3×3 median: clean 0, grainy scans 3–4
_CACHE_VERSION = "3"  # bump when what a page yields changes (normalisation, line joins)


def _no_progress(done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class OcrOptions:
    """How to read pages without a text layer (``RAG_OCR*`` settings)."""

    mode: str = "auto"  # auto: OCR pages without a text layer and images; off: refuse them
    lang: str = "auto"  # auto (chi_sim or chi_tra, decided on the first page) or Tesseract's -l
    dpi: int = 300
    psm: int = 4  # one column of text of varying sizes (titles, body, signatures)
    workers: int = 2
    page_timeout: float = 300.0
    cache_dir: Path | None = None  # OCR results by file content (None: no cache)

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    @classmethod
    def from_settings(cls, settings: Settings) -> OcrOptions:
        return cls(
            mode=settings.ocr,
            lang=settings.ocr_lang,
            dpi=settings.ocr_dpi,
            workers=max(1, settings.ocr_workers),
            page_timeout=settings.ocr_page_timeout,
            cache_dir=Path(settings.model_cache_dir) / "ocr",
        )


class _OneThreadEnv(Mapping[str, str]):
    """os.environ as it is at each call, with OMP_THREAD_LIMIT=1 unless the user set one."""

    def _merged(self) -> dict[str, str]:
        return {"OMP_THREAD_LIMIT": "1", **os.environ}

    def __getitem__(self, key: str) -> str:
        return self._merged()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._merged())

    def __len__(self) -> int:
        return len(self._merged())


@functools.cache
def _tesseract():
    """pytesseract, with its subprocesses limited to one OpenMP thread each."""
    import pytesseract
    from pytesseract import pytesseract as runner

    if hasattr(runner, "environ"):  # the environment pytesseract hands to its subprocesses
        runner.environ = _OneThreadEnv()
    return pytesseract


@functools.cache
def _languages() -> frozenset[str]:
    return frozenset(_tesseract().get_languages(config=""))


def missing() -> str | None:
    """None when OCR can run, else what is missing (the fix is always: install PACKAGES)."""
    if shutil.which("tesseract") is None:
        return "未找到文字识别程序 tesseract"
    try:
        langs = _languages()
    except Exception as exc:  # a broken install
        return f"tesseract 无法运行（{exc}）"
    if not langs & {"chi_sim", "chi_tra"}:
        return "tesseract 缺少中文识别数据 chi_sim / chi_tra"
    return None


def _require(key: str, what: str) -> None:
    problem = missing()
    if problem:
        raise DocumentError(key, f"{what}需要文字识别（OCR），但{problem}", _INSTALL)


def _languages_for(options: OcrOptions) -> tuple[str, ...]:
    """The candidates: one configured language string, or chi_sim/chi_tra for "auto"."""
    if options.lang != "auto":
        return (options.lang,)
    return tuple(lang for lang in ("chi_sim", "chi_tra") if lang in _languages())


def prepare(image: Image.Image) -> Image.Image:
    """A grey page for Tesseract: EXIF rotation applied, transparency on white, the red
    channel of a colour scan (a red 公章 over the text turns light, black text stays black),
    sized so characters are neither tiny nor huge."""
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image)
    if image.mode in ("RGB", "RGBA", "CMYK", "YCbCr"):
        image = image.convert("RGB").getchannel("R")
    elif image.mode != "L":
        image = image.convert("L")
    side = max(image.size)
    if side > _MAX_SIDE or side < _MIN_SIDE:
        scale = (_MAX_SIDE if side > _MAX_SIDE else min(2 * _MIN_SIDE, 2 * side)) / side
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return _denoised(image)


def _denoised(image: Image.Image) -> Image.Image:
    """A grainy scan smoothed (Gaussian, radius 1.5) before Tesseract: on a grainy page with
    little text it reads nothing at all (it thresholds the grain into specks). Only where the
    typical pixel differs from its 3×3 median (a clean page: 0): smoothing a clean page costs
    characters. Measured on rendered pages with grain: 0.967 → 0.978 of the characters right."""
    import numpy as np
    from PIL import ImageFilter

    # Measured on the central quarter of the page: grain is everywhere, and the 3×3 median of a
    # whole 300 dpi page took 2.6 s, a third of Tesseract's time for it, on the loaded machine.
    w, h = image.size
    sample = image.crop((w // 4, h // 4, w - w // 4, h - h // 4)) if min(w, h) >= 400 else image
    median = np.asarray(sample.filter(ImageFilter.MedianFilter(3)), dtype=np.int16)
    noise = float(np.median(np.abs(np.asarray(sample, dtype=np.int16) - median)))
    return image.filter(ImageFilter.GaussianBlur(1.5)) if noise >= _NOISE_LEVEL else image


def read_image(image: Image.Image, lang: str, options: OcrOptions, key: str) -> OcrText:
    """One page image → its text (wrapped lines rejoined, page numbers dropped) with a
    confidence per character."""
    tess = _tesseract()
    # pytesseract hands Tesseract the image as a file in image.format (PNG when unset): an
    # uncompressed TIFF is written in a fraction of the time (a grainy page compresses badly;
    # 6.1 s against 9.1 s a page on the loaded machine) and, like PNG, carries no resolution,
    # so Tesseract reads exactly the same (BMP's 96 dpi changes what it reads).
    image.format = "TIFF"
    try:
        data = tess.image_to_data(
            image,
            lang=lang,
            config=f"--psm {options.psm}",
            output_type=tess.Output.DICT,
            timeout=options.page_timeout,
        )
    except tess.TesseractError as exc:
        raise DocumentError(key, f"文字识别失败（{exc.message or exc.status}）", _INSTALL) from exc
    except RuntimeError as exc:  # pytesseract's timeout
        raise DocumentError(
            key,
            f"文字识别超时（一页超过 {options.page_timeout:g} 秒）",
            "请确认扫描件清晰、方向正确，或调高 RAG_OCR_PAGE_TIMEOUT",
        ) from exc
    # Normalised again once lines are joined: a 。 Tesseract put on a line of its own as O.
    return normalise(reflow_ocr(lines_from_data(data)))


def _read(image: Image.Image, lang: str, options: OcrOptions, key: str) -> OcrText:
    return read_image(prepare(image), lang, options, key)


def ocr_pages(
    images: Iterable[Image.Image],
    total: int,
    key: str,
    options: OcrOptions,
    progress: PageProgress = _no_progress,
    *,
    what: str = "扫描页",
    digest: str | None = None,
) -> list[OcrText]:
    """OCR ``total`` page images (a lazy iterable: at most a few pages are held at once),
    ``options.workers`` at a time. The first page decides the language under "auto".

    ``digest`` (what the pages are, e.g. the file's sha256 and the page numbers) keys a cache
    under ``options.cache_dir``: an unchanged scan is not read again on the next ingest."""
    _require(key, what)
    cache = _cache_path(options, digest)
    if cache is not None and (cached := _load(cache, total)) is not None:
        progress(total, total)
        return cached
    candidates = _languages_for(options)
    pages = iter(images)
    out: list[OcrText] = []
    progress(0, total)
    with ThreadPoolExecutor(max_workers=options.workers) as pool:
        first = next(pages, None)
        if first is None:
            return out
        first = prepare(first)
        trials = {lang: pool.submit(read_image, first, lang, options, key) for lang in candidates}
        results = {lang: f.result() for lang, f in trials.items()}
        lang = _better(results)
        out.append(results[lang])
        progress(1, total)
        pending: list[Future[OcrText]] = []
        for image in pages:
            pending.append(pool.submit(_read, image, lang, options, key))
            if len(pending) > options.workers:  # bound the pages held in memory
                out.append(pending.pop(0).result())
                progress(len(out), total)
        for future in pending:
            out.append(future.result())
            progress(len(out), total)
    if cache is not None:
        _save(cache, out)
    return out


@functools.cache
def _engine_version() -> str:
    return str(_tesseract().get_tesseract_version())


def version() -> str:
    """Tesseract's version (the benchmark prints it beside its figures)."""
    return _engine_version()


def _cache_path(options: OcrOptions, digest: str | None) -> Path | None:
    if options.cache_dir is None or digest is None:
        return None
    what = f"{digest}|{options.lang}|{options.dpi}|{options.psm}|{_engine_version()}|{_CACHE_VERSION}"
    return Path(options.cache_dir) / f"{hashlib.sha256(what.encode()).hexdigest()}.json"


def _load(path: Path, total: int) -> list[OcrText] | None:
    try:
        pages = json.loads(path.read_text(encoding="utf-8"))
        out = [OcrText(p["text"], p["conf"]) for p in pages]
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        return None  # absent or damaged: read the pages again
    return out if len(out) == total else None


def _save(path: Path, pages: list[OcrText]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        tmp.write_text(json.dumps([{"text": p.text, "conf": p.conf} for p in pages]), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs time


def _better(results: Mapping[str, OcrText]) -> str:
    langs = list(results)
    if len(langs) == 1:
        return langs[0]
    sim, tra = results["chi_sim"], results["chi_tra"]
    sim_mean, tra_mean = sim.mean() or 0.0, tra.mean() or 0.0
    return "chi_tra" if tra_mean > sim_mean + _TRADITIONAL_MARGIN else "chi_sim"
