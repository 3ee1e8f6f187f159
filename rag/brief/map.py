"""Map step: each report's key items condensed by the model in small batches, then verified.

Code has already picked the items (rag.brief.extract). Items longer than ``condense_over``
characters go to the model, batched per report so a call fits the context (a long report
takes several calls), serially for the embedded llama.cpp model, through a thread pool for
an endpoint when ``concurrency > 1``. Each rewrite is verified against its own quote
(rag.brief.verify) and the report's extraction is validated against its text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from rag.brief.extract import Candidate, heading_spans, substantive, unredact
from rag.brief.schema import Item, ReportSummary
from rag.brief.verify import build_item, parse_numbered, source_text
from rag.grounding.citations import overlap
from rag.grounding.figures import extract_figures
from rag.llm.base import LLM
from rag.prompts import PromptTemplate
from rag.schema import Report
from rag.settings import Settings

Progress = Callable[[str, int, int], None]
CONDENSE_OVER = 40  # characters: shorter source clauses already read like a bullet, no call needed
_TOKENS_PER_ITEM = 48  # one condensed line (≤40 字) plus its number
_MAX_BATCH_ITEMS = 8


@dataclass
class Plan:
    """One report on its way through the map step."""

    report: Report
    label: str
    cands: list[Candidate]
    key: set[int]
    rewrites: dict[int, str] = dataclasses.field(default_factory=dict)
    batches_left: int = 0
    calls: int = 0


def batches(
    plans: Sequence[Plan], settings: Settings, condense_over: int, prompt_reserve: int = 700
) -> list[tuple[int, list[int]]]:
    """Key items longer than ``condense_over`` characters, per report, cut into calls that fit
    the context (a long report → several calls). Sets each plan's ``batches_left``."""
    budget = max(300, settings.n_ctx - prompt_reserve - _TOKENS_PER_ITEM * _MAX_BATCH_ITEMS)
    out = []
    for p_i, plan in enumerate(plans):
        batch: list[int] = []
        used = 0
        for c_i in sorted(plan.key):
            cost = len(source_text(plan.cands[c_i]))  # ≥ 1 token per CJK character: conservative
            if cost <= condense_over:
                continue
            if batch and (used + cost > budget or len(batch) >= _MAX_BATCH_ITEMS):
                out.append((p_i, batch))
                batch, used = [], 0
            batch.append(c_i)
            used += cost
        if batch:
            out.append((p_i, batch))
        plan.batches_left = sum(1 for p, _ in out if p == p_i)
    return out


def _prompt_inputs(plan: Plan, batch: list[int]) -> dict[str, object]:
    """Every input a summarize_item variant may declare; each variant takes what it names."""
    texts = [source_text(plan.cands[c]) for c in batch]
    # Listing each line's figures was what made the 1.5B keep them (without it: headings only).
    hinted = [t + "【" + "、".join(f.raw for f in extract_figures(t) if substantive(f)) + "】" for t in texts]
    return {
        "items": "\n".join(f"{n}. {t}" for n, t in enumerate(texts, 1)),
        "items_with_figures": "\n".join(f"{n}. {t}" for n, t in enumerate(hinted, 1)),
        "count": len(batch),
    }


def _aligned(answers: dict[int, str], texts: Sequence[str]) -> dict[int, str]:
    """Keep an answer only if it reads most like its own source line: a small model that skips
    a number shifts every later line onto the wrong item."""
    kept = {}
    for n, answer in answers.items():
        if 1 <= n <= len(texts):
            scores = [overlap(answer, t) for t in texts]
            if scores[n - 1] >= max(scores):
                kept[n] = answer
    return kept


def _condense(llm: LLM, prompt: PromptTemplate, plan: Plan, batch: list[int]) -> tuple[dict[int, str], dict]:
    inputs = _prompt_inputs(plan, batch)
    messages = prompt.render(**{k: v for k, v in inputs.items() if k in prompt.inputs})
    done = llm.complete(messages, max_tokens=16 + _TOKENS_PER_ITEM * len(batch), temperature=0.0)
    answers = parse_numbered(done.text)
    if done.finish_reason == "length" and answers:  # the last line was cut mid-way
        answers.pop(max(answers))
    answers = _aligned(answers, [source_text(plan.cands[c]) for c in batch])
    usage = {"prompt_tokens": done.prompt_tokens or 0, "completion_tokens": done.completion_tokens or 0}
    return {c: answers[n] for n, c in enumerate(batch, 1) if n in answers}, usage


def workers(llm: LLM, concurrency: int) -> int:
    from rag.llm.local import LocalLlamaLLM

    # One llama.cpp context on 2 cores: parallel calls only queue on its lock (or thrash).
    return 1 if isinstance(llm, LocalLlamaLLM) else max(1, concurrency)


def run_map(
    plans: list[Plan],
    batches: list[tuple[int, list[int]]],
    llm: LLM,
    prompt: PromptTemplate,
    progress: Progress,
    concurrency: int,
) -> dict:
    total = len(plans)
    done_reports = sum(1 for p in plans if p.batches_left == 0)
    progress("reports", done_reports, total)
    usage = {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0}

    def finish(p_i: int, answers: dict[int, str], used: dict) -> None:
        nonlocal done_reports
        plan = plans[p_i]
        plan.rewrites.update(answers)
        plan.calls += 1
        plan.batches_left -= 1
        usage["calls"] += 1
        for k in ("prompt_tokens", "completion_tokens"):
            usage[k] += used[k]
        if plan.batches_left == 0:
            done_reports += 1
            progress("reports", done_reports, total)

    n_workers = workers(llm, concurrency)
    if n_workers == 1:
        for p_i, batch in batches:
            finish(p_i, *_condense(llm, prompt, plans[p_i], batch))
    else:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            futures = {pool.submit(_condense, llm, prompt, plans[p_i], b): p_i for p_i, b in batches}
            for fut in as_completed(futures):
                finish(futures[fut], *fut.result())
    usage["workers"] = n_workers
    return usage


def _heading_items(report: Report, kind: str) -> tuple[Item, ...]:
    """问题 / 打算 points: verbatim headings, never rewritten (they are short already)."""
    return tuple(
        Item(
            kind=kind,
            text=unredact(report.text[s:e]),
            quote=report.text[s:e],
            start=s,
            end=e,
            redacted=unredact(report.text[s:e]) != report.text[s:e],
        )
        for s, e in heading_spans(report, kind)
    )


def summarize_report(plan: Plan) -> tuple[ReportSummary, int, int]:
    """(validated summary, figures the model changed or invented, items repaired)."""
    r = plan.report
    items, skipped, bad, repaired = [], [], 0, 0
    for i, cand in enumerate(plan.cands):
        out = build_item(cand, plan.rewrites.get(i), key=i in plan.key)
        (skipped if cand.redacted_figure else items).append(out.item)
        bad += out.rewrite_unsupported
        repaired += out.item.status == "repaired"
    data = {
        "label": plan.label,
        "title": r.title,
        "role": r.role,
        "level": r.level,
        "year": r.year,
        "source": r.source,
        "index": r.index,
        "chars": len(r.text),
        "items": items,
        "skipped": skipped,
        "problems": _heading_items(r, "问题"),
        "plans": _heading_items(r, "打算"),
        "calls": plan.calls,
    }
    summary = ReportSummary.model_validate(data, context={"report_text": r.text})
    return summary, bad, repaired
