"""How well Tesseract's confidence tells a misread figure from a right one: the measurement
behind the default of ``Settings.ocr_min_confidence`` (RAG_OCR_MIN_CONFIDENCE).

Report texts (tests/fixtures/reports) are rendered as degraded pages (grainy 200 dpi scans,
150 dpi small type, blurred JPEG photos), read by the pipeline's OCR, and every figure of the
OCR text (years and dates aside) is given its figure confidence. A figure is misread when its
text stands nowhere in the source text (an OCR misreading, not a figure the renderer split).
For each floor: how many misreads it flags, and how many right figures it flags with them.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from rag.settings import Settings

FLOORS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9)


def _degraded(text: str, variant: int):
    from PIL import Image, ImageFilter

    from rag.bench.scans import render_pages

    if variant == 0:
        return render_pages(text, dpi=200, scanned=True)[0]
    if variant == 1:  # smaller type, lower resolution, grain
        return render_pages(text, dpi=150, size_pt=10.5, chars_per_line=40, scanned=True)[0]
    page = render_pages(text, dpi=150, size_pt=11, chars_per_line=38, scanned=True)[0]  # a phone photo
    buffer = io.BytesIO()
    page.filter(ImageFilter.GaussianBlur(1.2)).save(buffer, "JPEG", quality=35)
    return Image.open(io.BytesIO(buffer.getvalue()))


def bench_ocr_floor(settings: Settings, folder: Path, *, reports: int = 15, chars: int = 700) -> dict:
    from rag.documents import ocr as engine
    from rag.documents.ocr_text import confidence_spans, figure_confidence
    from rag.grounding.figures import extract_figures

    problem = engine.missing()
    if problem:
        return {"ocr": f"skipped: {problem} — 请安装 Debian 包 {engine.PACKAGES}"}
    options = dataclasses.replace(engine.OcrOptions.from_settings(settings), lang="chi_sim")  # cached
    right: list[float] = []
    misread: list[tuple[str, float]] = []
    files = sorted(Path(folder).glob("*.txt"))[:reports]
    for n, file in enumerate(files):
        text = file.read_text(encoding="utf-8")[:chars]
        digest = f"floor-{file.name}-{n % 3}"
        [page] = engine.ocr_pages([_degraded(text, n % 3)], 1, file.name, options, digest=digest)
        spans = confidence_spans(page.conf)
        source_figures = {f.raw for f in extract_figures(text)}
        flat = text.replace("\n", "")
        for fig in extract_figures(page.text):
            conf = figure_confidence(spans, fig.start, fig.end)
            if fig.kind in ("year", "date") or conf is None:
                continue
            if fig.raw in source_figures:
                right.append(conf)
            elif fig.raw not in flat:
                misread.append((fig.raw, conf))
    return {
        "pages": len(files),
        "figures_right": len(right),
        "figures_misread": len(misread),
        "floors": {
            f"{floor:.2f}": {
                "misread_flagged": sum(c < floor for _, c in misread),
                "right_flagged": sum(c < floor for c in right),
            }
            for floor in FLOORS
        },
        "misread": [f"{raw} {conf:.2f}" for raw, conf in sorted(misread, key=lambda m: m[1])],
    }
