"""``rag draft --whole``: a whole report section by section (rag/drafting/report.py), printed
with what is still open per section, and exported as .docx with the evidence of every section."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import typer

from rag.cli.common import print_json, write_draft_files
from rag.settings import Settings


def outline_request(
    *,
    role: str,
    year: int | None,
    topic: str,
    sections: str | None,
    facts: Sequence[str],
    facts_file: Path | None,
    length: int,
    name: str,
):
    """The ReportRequest of the command line: ``--sections`` (comma-separated, default the four
    parts), facts per section from ``--facts-file`` and ``--fact 部分：事实``."""
    from rag.drafting.report import ReportRequest, load_facts_file, ordered_outline, parse_facts_text

    by_section: dict[str, list[str]] = {}
    topics: dict[str, str] = {}
    if facts_file is not None:
        by_section, topics = load_facts_file(facts_file)
    for section, items in parse_facts_text("\n".join(facts), "--fact").items():
        by_section.setdefault(section, []).extend(items)
    outline = [s for s in (sections or "").replace("，", ",").replace("、", ",").split(",") if s.strip()]
    plans = ordered_outline(outline or None, by_section, topics)
    return ReportRequest(role=role, year=year, sections=plans, topic=topic, length=length, name=name)


def run_whole(
    settings: Settings,
    req,
    *,
    variant: str,
    out: Path | None,
    evidence: Path | None,
    as_json: bool,
) -> None:
    from rag.drafting.report import ReportResult, SectionStarted, report_stream
    from rag.index.index import Index
    from rag.llm.factory import create_llm

    live = not as_json and sys.stderr.isatty()
    result: ReportResult | None = None
    for event in report_stream(Index(settings), create_llm(settings), req, variant=variant):
        if isinstance(event, SectionStarted):
            typer.echo(f"\n== {event.heading}（{event.n}/{event.total}）", err=True)
        elif isinstance(event, ReportResult):
            result = event
        elif isinstance(event, str) and live:
            typer.echo(event, nl=False, err=True)  # live preview; the guarded text follows
    assert result is not None
    data = result.to_json()
    if out is not None or evidence is not None:
        _export(data, out, evidence)
    if as_json:
        print_json(data)
        return
    if live:
        typer.echo("", err=True)
    typer.echo(result.title)
    typer.echo(data["text"])
    for item in data["facts_unused"]:
        typer.echo(f"  ⚠ {item['section']}：没有用上的事实：{item['fact']}")
    if data["placeholders"]:
        typer.echo("\n待补充：")
        for p in data["placeholders"]:
            origin = f"（模型原写“{p['original']}”）" if p.get("original") else ""
            typer.echo(f"  - {p['section']}：{p['label']}{origin}")
    for n, c in enumerate(data["citations"], 1):
        where = f"{c['source']} {c['start']}-{c['end']}"
        typer.echo(
            f"  [{n}] {'、'.join(c['sections'])} 参考 {c['report_title']}（{where}）：{c['quote'][:60]}"
        )


def _export(data: dict, out: Path | None, evidence: Path | None) -> None:
    from rag.deliver.draft_evidence import report_evidence

    write_draft_files(data["title"], data["text"], report_evidence(data, data["title"]), out, evidence)
