"""Metrics of one cell (case × variant), assertions over them, and per-variant aggregates.

Everything here is pure: it reads an observation dict (what a task produced, see
``eval.tasks``) and returns numbers or failure messages, so cached observations can be
re-asserted when a suite's assertions or thresholds change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence

from eval.suite import Assertions, Thresholds
from rag.grounding.draft_guard import placeholders_in
from rag.grounding.figures import extract_figures, find_figure, same_figure

_ENUM = re.compile(r"[一二三四五六七八九十]是")
_NUMBERED = re.compile(r"（[一二三四五六七八九十]+）")
# Redaction marks copied into an output: *, ＊, X/Ｘ standing alone (X村), never 5G/APP.
_REDACTION = re.compile(r"[*＊]+|(?<![A-Za-z])[XＸ]+(?![A-Za-z])")


# --- per-cell metrics -----------------------------------------------------------------


def relevant(passage: dict, source: str | None, contains: Sequence[str]) -> bool:
    if source and source not in passage["source"]:
        return False
    return all(s in passage["text"] for s in contains)


def first_relevant_rank(passages: Sequence[dict], source: str | None, contains: Sequence[str]) -> int | None:
    if not source and not contains:
        return None
    return next((i for i, p in enumerate(passages, 1) if relevant(p, source, contains)), 0)


def recall_and_mrr(rank: int | None) -> tuple[float | None, float | None]:
    """rank None: no expectation; 0: nothing relevant in the top k."""
    if rank is None:
        return None, None
    return (1.0, 1.0 / rank) if rank else (0.0, 0.0)


def citation_problems(
    citations: Iterable[dict], sentences: Sequence[str], report_text: Callable[[str, int], str | None]
) -> tuple[int, list[str]]:
    """(citations checked, problems): each quote must sit at its offsets in the stored report
    text, and contain a figure of the sentence it supports when that sentence has figures."""
    total, problems = 0, []
    for c in citations:
        if not {"source", "report_index", "start", "end", "quote"} <= set(c):
            continue
        total += 1
        text = report_text(c["source"], c["report_index"])
        if text is None or text[c["start"] : c["end"]] != c["quote"]:
            problems.append(f"引文不在原文 {c['source']}#{c['report_index']} {c['start']}-{c['end']}")
            continue
        idx = c.get("sentence")
        figures = extract_figures(sentences[idx]) if isinstance(idx, int) and idx < len(sentences) else []
        if figures and not any(find_figure(f, c["quote"]) for f in figures):
            problems.append(f"引文不含所引数字：{c['quote'][:40]}")
    return total, problems


def figures_against(text: str, sources: Sequence[str]) -> tuple[int, list[str]]:
    """(figures in text, raws found in none of ``sources``)."""
    figures = extract_figures(text)
    missing = [f.raw for f in figures if not any(find_figure(f, s) for s in sources)]
    return len(figures), missing


def has_figure(text: str, expected: str) -> bool:
    """Figure-aware containment: '179.25万' is in '达179.25万元'; falls back to a substring."""
    wanted = extract_figures(expected)
    if not wanted:
        return expected in text
    found = extract_figures(text)
    return all(any(same_figure(w, f) for f in found) for w in wanted)


def structure_counts(text: str) -> dict[str, int]:
    return {"enum": len(_ENUM.findall(text)), "numbered": len(_NUMBERED.findall(text))}


def redaction_marks(text: str) -> list[str]:
    return _REDACTION.findall(text)


def unlisted_placeholders(text: str, listed: Iterable[dict]) -> list[str]:
    labels = {p.get("label") for p in listed}
    return [lab for lab in placeholders_in(text) if lab not in labels]


# --- assertions -----------------------------------------------------------------------


def _any_in(item: str | list[str], text: str) -> bool:
    return any(s in text for s in ([item] if isinstance(item, str) else item))


def _le(value: float | None, limit: float) -> bool:
    return value is not None and value <= limit + 1e-9


def _ge(value: float | None, limit: float) -> bool:
    return value is not None and value >= limit - 1e-9


def failed_assertions(a: Assertions, obs: dict) -> list[str]:
    """Human-readable failures of ``a`` on one observation (empty list: the cell passes)."""
    if obs.get("error"):
        return [f"出错：{obs['error']}"]
    text, m = obs.get("text", ""), obs.get("metrics", {})
    out: list[str] = []
    out += [f"缺少 {item!r}" for item in a.contains if not _any_in(item, text)]
    out += [f"不应出现 {s!r}" for s in a.not_contains if s in text]
    out += [f"不匹配 /{p}/" for p in a.regex if not re.search(p, text)]
    out += [f"缺少数字 {f}" for f in a.contains_figures if not has_figure(text, f)]
    if a.retrieved and not m.get("recall_at_k"):
        out.append("期望来源不在检索结果前 k 条")
    if a.max_unsupported is not None and not _le(m.get("unsupported_figures", 0), a.max_unsupported):
        out.append(f"无依据数字 {m.get('unsupported_figures')} > {a.max_unsupported}")
    if a.min_support_rate is not None and not _ge(m.get("support_rate"), a.min_support_rate):
        out.append(f"支持率 {m.get('support_rate')} < {a.min_support_rate}")
    if a.min_figure_precision is not None and not _ge(m.get("figure_precision", 1.0), a.min_figure_precision):
        out.append(f"数字精确率 {m.get('figure_precision')} < {a.min_figure_precision}")
    if a.citations_valid and m.get("citation_problems"):
        out.append(f"引文无效：{m['citation_problems'][0]}")
    if a.min_citations is not None and m.get("citations", 0) < a.min_citations:
        out.append(f"引文 {m.get('citations', 0)} 条 < {a.min_citations}")
    if a.max_latency_s is not None and not _le(m.get("latency_s"), a.max_latency_s):
        out.append(f"耗时 {m.get('latency_s')}s > {a.max_latency_s}s")
    if a.structure and not m.get("structure_ok", {}).get(a.structure, False):
        out.append(f"条目写法不是 {a.structure}：{m.get('structure')}")
    if a.no_redaction and m.get("redaction_marks"):
        out.append(f"含隐去标记 {m['redaction_marks'][:3]}")
    if a.placeholders_listed and m.get("placeholders_unlisted"):
        out.append(f"占位未列出：{m['placeholders_unlisted'][:3]}")
    out += _draft_failures(a, m)
    if a.min_key_figure_coverage is not None and not _ge(
        m.get("key_figure_coverage"), a.min_key_figure_coverage
    ):
        out.append(f"关键数字覆盖 {m.get('key_figure_coverage')} < {a.min_key_figure_coverage}")
    return out


def _draft_failures(a: Assertions, m: dict) -> list[str]:
    out = []
    if a.facts_used and m.get("facts_unused"):
        out.append(f"未用上的事实：{m['facts_unused']}")
    if a.max_invented_incidents is not None and m.get("invented_incidents", 0) > a.max_invented_incidents:
        out.append(f"编造的事件/结论：{m.get('invented_list', [])[:2]}")
    copy = m.get("longest_copy") or {}
    if a.max_longest_copy is not None and copy.get("chars", 0) > a.max_longest_copy:
        out.append(f"照抄单篇报告 {copy.get('chars')} 字 > {a.max_longest_copy}：{copy.get('text', '')[:30]}")
    length = m.get("length") or {}
    if a.length_in_range and not length.get("in_range"):
        out.append(f"字数 {length.get('chars')} 不在 {length.get('min')}–{length.get('max')}")
    if a.on_topic and not m.get("topic_ok", True):
        out.append(f"偏离侧重点：{m.get('off_topic', [])[:2]}")
    return out


def draft_aggregate(ms: Sequence[dict]) -> dict[str, float | int | None]:
    """Draft figures over a variant's cells (issue 17): facts used (micro), invented incidents,
    the longest copy, share of drafts in the length range and on topic."""
    drafts = [m for m in ms if "facts_total" in m]
    if not drafts:
        return {}
    facts = sum(m["facts_total"] for m in drafts)
    return {
        "facts_used_rate": _ratio(facts - sum(len(m["facts_unused"]) for m in drafts), facts),
        "invented_incidents": sum(m.get("invented_incidents", 0) for m in drafts),
        "longest_copy_max": max((m.get("longest_copy") or {}).get("chars", 0) for m in drafts),
        "length_in_range_rate": _mean(float(bool((m.get("length") or {}).get("in_range"))) for m in drafts),
        "topic_ok_rate": _mean(float(m["topic_ok"]) for m in drafts if m.get("topic_ok") is not None),
    }


# --- aggregates and thresholds --------------------------------------------------------


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def _sum(values: Iterable[int | None]) -> int | None:
    vals = [v for v in values if v is not None]
    return sum(vals) if vals else None


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def aggregate(cells: Sequence[dict]) -> dict[str, float | int | None]:
    """Per-variant metrics over its cells (micro-averaged where counts exist)."""
    ms = [c["metrics"] for c in cells]
    checked = sum(m.get("figures_checked", 0) for m in ms)
    citations = sum(m.get("citations", 0) for m in ms)
    bad = sum(len(m.get("citation_problems", [])) for m in ms)
    structure = [
        # a cell that errored has no structure: it counts as not structured, never as a crash
        float(m.get("structure_ok", {}).get(c["structure"], False))
        for c, m in zip(cells, ms, strict=True)
        if c.get("structure")
    ]
    latencies = [m.get("latency_s") for m in ms if m.get("latency_s") is not None]
    return {
        "cells": len(cells),
        "passed": sum(c["passed"] for c in cells),
        "pass_rate": _ratio(sum(c["passed"] for c in cells), len(cells)),
        "recall_at_k": _mean(m.get("recall_at_k") for m in ms),
        "mrr": _mean(m.get("mrr") for m in ms),
        "figure_precision": _ratio(checked - sum(m.get("unsupported_figures", 0) for m in ms), checked),
        "support_rate": _mean(m.get("support_rate") for m in ms),
        "citation_validity": _ratio(citations - bad, citations),
        "key_figure_coverage": _mean(m.get("key_figure_coverage") for m in ms),
        "structure_ok": _mean(structure),
        "unsupported_figures": sum(m.get("unsupported_figures", 0) for m in ms),
        "figures_misbound": sum(m.get("figures_misbound", 0) for m in ms),
        "latency_mean_s": _mean(latencies),
        "latency_max_s": round(max(latencies), 3) if latencies else None,
        "prompt_tokens": _sum(m.get("prompt_tokens") for m in ms),
        "completion_tokens": _sum(m.get("completion_tokens") for m in ms),
        **draft_aggregate(ms),
    }


def threshold_results(metrics_by_variant: dict[str, dict], thresholds: Thresholds) -> list[dict]:
    """One row per (variant, threshold). A variant without the metric (recall of a draft
    variant) is not judged on it; a metric no variant measured fails: the suite is misconfigured."""
    out = []
    for op, limits in (("min", thresholds.min), ("max", thresholds.max)):
        for metric, limit in limits.items():
            row = {"metric": metric, "op": op, "limit": limit}
            rows = []
            for variant, metrics in metrics_by_variant.items():
                value = metrics.get(metric)
                if value is not None:
                    ok = _ge(value, limit) if op == "min" else _le(value, limit)
                    rows.append(row | {"variant": variant, "value": value, "passed": ok})
            out += rows or [row | {"variant": "*", "value": None, "passed": False}]
    return out


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """ROC AUC = P(score of a random positive > score of a random negative), ties count ½."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        return None
    wins = sum(1.0 if p > n else 0.5 if math.isclose(p, n) else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))
