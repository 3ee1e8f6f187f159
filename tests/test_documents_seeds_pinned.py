"""The seeds parse exactly as they did before the real-report styles were added.

tests/fixtures/seed_parse/seeds.json was written from the parser as it stood before any
style work (title, role, year, level, every section and subsection with its offsets, the
chunk spans and a hash of each cleaned report text). New styles must not move any of it.
Regenerate only on purpose: ``.venv/bin/python tests/test_documents_seeds_pinned.py``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PINNED = ROOT / "tests" / "fixtures" / "seed_parse" / "seeds.json"
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))


def snapshot(path: Path) -> list[dict]:
    from rag.documents.chunking import chunk_report
    from rag.documents.load import load_document

    reports = []
    for r in load_document(path).reports:
        reports.append(
            {
                "title": r.title,
                "role": r.role,
                "year": r.year,
                "level": r.level,
                "text_sha256": hashlib.sha256(r.text.encode()).hexdigest(),
                "text_len": len(r.text),
                "redaction_count": r.redaction_count,
                "sections": [
                    {
                        "kind": s.kind,
                        "heading": s.heading,
                        "start": s.start,
                        "end": s.end,
                        "subsections": [[u.marker, u.heading, u.start, u.end] for u in s.subsections],
                    }
                    for s in r.sections
                ],
                "chunks": [[c.start, c.end, c.section, list(c.heading_path)] for c in chunk_report(r)],
            }
        )
    return reports


def test_nine_seed_reports_are_pinned() -> None:
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    assert sorted(pinned) == [p.name for p in SEEDS]
    assert sum(len(v) for v in pinned.values()) == 9


@pytest.mark.parametrize("path", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_seed_parse_unchanged(path: Path) -> None:
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))[path.name]
    got = snapshot(path)
    assert len(got) == len(pinned)
    for old, new in zip(pinned, got, strict=True):
        brief = ("title", "role", "year", "level")
        assert {k: new[k] for k in brief} == {k: old[k] for k in brief}
        assert [s["kind"] for s in new["sections"]] == [s["kind"] for s in old["sections"]]
        assert new == old


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    data = {p.name: snapshot(p) for p in SEEDS}
    PINNED.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {PINNED}")
