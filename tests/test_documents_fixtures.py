"""Every fixture report (tests/fixtures/reports/) parses as expected.yaml says.

Title (when given), role, year, level and the section kinds in order; every ``problems``
string lies inside a 问题 section and every ``plans`` string inside an 打算 section.

"Kinds in order" reads a run of sections of one kind as one: r05's 一、二、三、 are three 履职
sections (each keeps its own heading for the chunks' heading path), expected.yaml lists 履职 once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rag.documents.load import load_document
from rag.schema import Report

HERE = Path(__file__).resolve().parent / "fixtures" / "reports"
ENTRIES = yaml.safe_load((HERE / "expected.yaml").read_text(encoding="utf-8"))
IDS = [e["file"][:3] for e in ENTRIES]


def _report(entry: dict) -> Report:
    doc = load_document(HERE / entry["file"])
    assert len(doc.reports) == 1, [r.title for r in doc.reports]
    return doc.reports[0]


def _kinds(report: Report) -> list[str]:
    kinds: list[str] = []
    for section in report.sections:
        if not kinds or kinds[-1] != section.kind:
            kinds.append(section.kind)
    return kinds


def _kind_at(report: Report, needle: str) -> str | None:
    pos = report.text.find(needle)
    assert pos >= 0, f"{needle!r} is not in the cleaned text"
    end = pos + len(needle)
    for section in report.sections:
        if section.start <= pos and end <= section.end:
            return section.kind
    return None


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_fixture_metadata_and_sections(entry: dict) -> None:
    report = _report(entry)
    got = {
        "role": report.role,
        "year": report.year,
        "level": report.level,
        "sections": _kinds(report),
    }
    want = {k: entry[k] for k in got}
    if entry["title"] is not None:
        got["title"], want["title"] = report.title, entry["title"]
    assert got == want


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_fixture_problems_and_plans_in_their_sections(entry: dict) -> None:
    report = _report(entry)
    placed = {("问题", p): _kind_at(report, p) for p in entry["problems"]}
    placed |= {("打算", p): _kind_at(report, p) for p in entry["plans"]}
    assert {key: kind for key, kind in placed.items() if kind != key[0]} == {}


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_fixture_sections_are_exact_slices(entry: dict) -> None:
    report = _report(entry)
    last = 0
    for section in report.sections:
        assert last <= section.start < section.end <= len(report.text)
        if section.heading:
            assert report.text.startswith(section.heading, section.start)
        for sub in section.subsections:
            assert section.start <= sub.start < sub.end <= section.end
            assert report.text.startswith(sub.marker, sub.start)
        last = section.end
