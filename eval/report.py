"""Reports of runs: a terminal summary, a run-to-run comparison, a self-contained HTML page.

The HTML has no scripts and no external assets: a variant × case matrix (pass/fail colours)
and one inline-SVG bar chart per metric. Every piece of run content is html-escaped (answers
are model output and may contain anything, ``<script>`` included).
"""

from __future__ import annotations

from html import escape

from eval.runner import Run
from eval.suite import METRICS

RATIOS = frozenset(
    {
        "pass_rate",
        "recall_at_k",
        "mrr",
        "figure_precision",
        "support_rate",
        "citation_validity",
        "key_figure_coverage",
        "structure_ok",
    }
)
LOWER_IS_BETTER = frozenset(
    {"unsupported_figures", "latency_mean_s", "latency_max_s", "prompt_tokens", "completion_tokens"}
)


def _fmt(v: object) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}".rstrip("0").rstrip(".")
    return str(v)


def _prompt_ids(run: Run) -> list[str]:
    return list(run.summary.get("variants", {}))


# --- terminal -------------------------------------------------------------------------


def text_report(run: Run) -> str:
    h = run.header
    lines = [
        f"套件 {h['suite']['name']}：模型 {h['model']}，嵌入 {h['embedder']}，运行 {run.id}",
        f"记录：{run.path}",
        "",
    ]
    pids = _prompt_ids(run)
    width = max([8, *(len(p) for p in pids)])
    lines.append("指标".ljust(22) + "".join(p.rjust(width + 2) for p in pids))
    for metric in ("cells", "passed", *METRICS):
        values = [run.summary["variants"][p].get(metric) for p in pids]
        if all(v is None for v in values):
            continue
        lines.append(metric.ljust(22) + "".join(_fmt(v).rjust(width + 2) for v in values))
    lines.append("")
    failed = [c for c in run.cells if not c["passed"]]
    for c in failed:
        lines.append(f"✗ {c['prompt_id']} {c['case']}：{'；'.join(c['failures'][:3])}")
    for t in run.summary.get("thresholds", []):
        mark = "✓" if t["passed"] else "✗"
        sign = "≥" if t["op"] == "min" else "≤"
        lines.append(f"{mark} 阈值 {t['variant']} {t['metric']} {_fmt(t['value'])} {sign} {_fmt(t['limit'])}")
    cached = sum(c["cached"] for c in run.cells)
    verdict = "通过" if run.passed else "未通过"
    n, ok = len(run.cells), len(run.cells) - len(failed)
    lines.append(f"{verdict}：{ok}/{n} 个单元通过，{cached} 个来自缓存")
    return "\n".join(lines)


# --- compare --------------------------------------------------------------------------


def compare(a: Run, b: Run) -> dict:
    """Per prompt id and metric: a, b and b − a; plus the cells whose pass/fail changed."""
    variants: dict[str, dict] = {}
    for pid in dict.fromkeys([*_prompt_ids(a), *_prompt_ids(b)]):
        ma, mb = a.summary["variants"].get(pid, {}), b.summary["variants"].get(pid, {})
        rows = {}
        for metric in ("cells", "passed", *METRICS):
            va, vb = ma.get(metric), mb.get(metric)
            if va is None and vb is None:
                continue
            delta = round(vb - va, 4) if isinstance(va, int | float) and isinstance(vb, int | float) else None
            rows[metric] = {"a": va, "b": vb, "delta": delta}
        variants[pid] = rows
    before = {(c["case"], c["prompt_id"]): c["passed"] for c in a.cells}
    changed = []
    for c in b.cells:
        was = before.get((c["case"], c["prompt_id"]))
        if was is not None and was != c["passed"]:
            changed.append({"case": c["case"], "variant": c["prompt_id"], "a": was, "b": c["passed"]})
    return {"a": a.id, "b": b.id, "variants": variants, "changed": changed}


def compare_text(diff: dict) -> str:
    lines = [f"A = {diff['a']}", f"B = {diff['b']}"]
    for pid, rows in diff["variants"].items():
        lines.append(f"\n{pid}")
        lines.append(f"  {'指标':20}{'A':>10}{'B':>10}{'B−A':>10}")
        for metric, r in rows.items():
            d = r["delta"]
            arrow = ""
            if d:
                better = (d < 0) if metric in LOWER_IS_BETTER else (d > 0)
                arrow = " ↑" if better else " ↓"
            delta = "–" if d is None else f"{d:+.4g}"
            lines.append(f"  {metric:22}{_fmt(r['a']):>10}{_fmt(r['b']):>10}{delta:>10}{arrow}")
    for c in diff["changed"]:
        lines.append(f"{'修复' if c['b'] else '退步'}：{c['variant']} {c['case']}")
    return "\n".join(lines)


# --- HTML -----------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.4em;vertical-align:top}
td.pass{background:#d9f2de}td.fail{background:#f8d7da}td.na{background:#eee;color:#888}
.snip{font-size:.85em;max-width:28em;white-space:pre-wrap}.fails{color:#a00;font-size:.85em}
.charts{display:flex;flex-wrap:wrap;gap:1.5em}small{color:#666}
"""


def _bar_chart(metric: str, values: dict[str, float | None]) -> str:
    """A horizontal bar per prompt id; ratios on a 0–1 scale, other metrics on 0–max."""
    bar_h, label_w, bar_w = 18, 130, 220
    known = [v for v in values.values() if isinstance(v, int | float)]
    top = 1.0 if metric in RATIOS else (max(known) if known and max(known) > 0 else 1.0)
    rows = []
    for i, (pid, v) in enumerate(values.items()):
        y = 20 + i * (bar_h + 6)
        w = 0 if v is None else max(1, int(bar_w * min(v, top) / top))
        rows.append(
            f'<text x="0" y="{y + 13}" font-size="12">{escape(pid)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#4a7bd0"/>'
            f'<text x="{label_w + w + 4}" y="{y + 13}" font-size="12">{escape(_fmt(v))}</text>'
        )
    height = 24 + len(values) * (bar_h + 6)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 60}" height="{height}" '
        f'role="img" aria-label="{escape(metric)}"><text x="0" y="13" font-size="13" font-weight="bold">'
        f"{escape(metric)}</text>{''.join(rows)}</svg>"
    )


def _cell_html(cell: dict | None) -> str:
    if cell is None:
        return '<td class="na">–</td>'
    cls = "pass" if cell["passed"] else "fail"
    mark = "✓" if cell["passed"] else "✗"
    text = cell.get("text") or cell.get("error") or ""
    latency = (cell.get("metrics") or {}).get("latency_s")
    fails = "".join(f"<li>{escape(f)}</li>" for f in cell["failures"])
    return (
        f'<td class="{cls}" title="{escape(text[:1000])}">{mark} <small>{escape(_fmt(latency))}s'
        f"{' · 缓存' if cell.get('cached') else ''}</small>"
        f'<div class="snip">{escape(text[:200])}</div>'
        + (f'<ul class="fails">{fails}</ul>' if fails else "")
        + "</td>"
    )


def html_report(run: Run) -> str:
    h = run.header
    variants = list(dict.fromkeys(c["variant"] for c in run.cells))
    cases = list(dict.fromkeys((c["case"], c["task"]) for c in run.cells))
    by_key = {(c["case"], c["variant"]): c for c in run.cells}
    head = "".join(f"<th>{escape(v)}</th>" for v in variants)
    body = "".join(
        f"<tr><th>{escape(case)}<br><small>{escape(task)}</small></th>"
        + "".join(_cell_html(by_key.get((case, v))) for v in variants)
        + "</tr>"
        for case, task in cases
    )
    metrics = run.summary.get("variants", {})
    charts = "".join(
        _bar_chart(m, {pid: vals.get(m) for pid, vals in metrics.items()})
        for m in METRICS
        if any(vals.get(m) is not None for vals in metrics.values())
    )
    thresholds = "".join(
        f'<tr><td class="{"pass" if t["passed"] else "fail"}">{"✓" if t["passed"] else "✗"}</td>'
        f"<td>{escape(t['variant'])}</td><td>{escape(t['metric'])}</td>"
        f"<td>{'≥' if t['op'] == 'min' else '≤'} {escape(_fmt(t['limit']))}</td>"
        f"<td>{escape(_fmt(t['value']))}</td></tr>"
        for t in run.summary.get("thresholds", [])
    )
    prompts = ", ".join(f"{escape(p)}@{escape(str(x))}" for p, x in h.get("prompts", {}).items())
    git = h.get("git") or {}
    verdict = "通过" if run.passed else "未通过"
    return (
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">'
        f"<title>{escape(h['suite']['name'])} · {escape(run.id)}</title><style>{_CSS}</style></head><body>"
        f"<h1>评测 {escape(h['suite']['name'])}：{verdict}</h1>"
        f"<p><small>运行 {escape(run.id)} · 模型 {escape(str(h.get('model')))} · 嵌入 "
        f"{escape(str(h.get('embedder')))} · commit {escape(str(git.get('commit')))}"
        f"{' (有未提交改动)' if git.get('dirty') else ''} · 提示 {prompts}</small></p>"
        f"<h2>用例 × 变体</h2><table><tr><th>用例</th>{head}</tr>{body}</table>"
        f"<h2>阈值</h2><table>{thresholds or '<tr><td>（无）</td></tr>'}</table>"
        f'<h2>指标</h2><div class="charts">{charts}</div></body></html>'
    )


# --- judge calibration (rag eval judge --html) ------------------------------------------------


def _rate_cell(value: float | None, good: bool) -> str:
    cls = "na" if value is None else ("pass" if good else "fail")
    return f'<td class="{cls}">{escape(_fmt(value))}</td>'


def judge_html(result: dict) -> str:
    """The calibration as a self-contained page: set × kind matrix of the checker's accuracy
    (false accepts or rejects, the binding alone beside it), a summary per set, the misjudged claims."""
    sets = result["sets"]
    kinds = list(dict.fromkeys(k for r in sets.values() for k in r["by_kind"]))
    head = "".join(
        f"<th>{escape(name)}<br><small>{escape(str(r.get('set')))}</small></th>" for name, r in sets.items()
    )
    body = ""
    for kind in kinds:
        cells = ""
        for r in sets.values():
            k = r["by_kind"].get(kind)
            if k is None:
                cells += '<td class="na">–</td>'
                continue
            wrong = k.get("checker_false_accept_rate", k.get("checker_false_reject_rate"))
            tag = "误拒" if k["label"] else "误收"
            cls = "pass" if (k["checker_accuracy"] or 0) >= 0.95 else "fail"
            cells += (
                f'<td class="{cls}">{escape(_fmt(k["checker_accuracy"]))} <small>n={k["n"]}</small>'
                f'<div class="snip">{tag} {escape(_fmt(wrong))} · 绑定 {escape(_fmt(k["binding_accuracy"]))}'
                f" · 判断 {escape(_fmt(k['judge_accuracy']))}</div></td>"
            )
        body += f"<tr><th>{escape(kind)}</th>{cells}</tr>"
    summary = "".join(
        f"<tr><th>{escape(name)}</th><td>{r['n']}</td>"
        + _rate_cell(r["checker_accuracy"], (r["checker_accuracy"] or 0) >= 0.95)
        + _rate_cell(r["checker_false_accept_rate"], (r["checker_false_accept_rate"] or 0) <= 0.02)
        + _rate_cell(r["checker_false_reject_rate"], (r["checker_false_reject_rate"] or 0) <= 0.05)
        + _rate_cell(r["binding_accuracy"], (r["binding_accuracy"] or 0) >= 0.95)
        + _rate_cell(r["judge_auc"], (r["judge_auc"] or 0) >= 0.8)
        + "</tr>"
        for name, r in sets.items()
    )
    wrong_rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(row['id'])}</td><td>{escape(row['kind'])}</td>"
        f"<td>{escape(row['verdict'])} {escape(_fmt(row['score']))}</td>"
        f'<td class="snip">{escape(row.get("claim") or "")}</td>'
        f'<td class="snip">{escape(row.get("binding") or row.get("evidence") or "")}</td></tr>'
        for name, r in sets.items()
        for row in r["items"]
        if (row["verdict"] == "supported") != row["label"]
    )
    return (
        '<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">'
        f"<title>核查校准 · {escape(str(result['model']))}</title><style>{_CSS}</style></head><body>"
        f"<h1>核查校准（rag eval judge）</h1><p><small>模型 {escape(str(result['model']))} · 提示 "
        f"{escape(str(result['prompt_id']))}@{escape(str(result['prompt_hash']))}</small></p>"
        "<h2>各集</h2><table><tr><th>集</th><th>条数</th><th>核查准确率</th><th>误收率</th><th>误拒率</th>"
        f"<th>绑定准确率（仅代码）</th><th>判断 AUC</th></tr>{summary}</table>"
        f"<h2>类别 × 集（核查准确率）</h2><table><tr><th>类别</th>{head}</tr>{body}</table>"
        "<h2>判错的条目</h2><table><tr><th>集</th><th>id</th><th>类别</th><th>结论</th><th>陈述</th>"
        f"<th>数字绑定 / 证据</th></tr>{wrong_rows or '<tr><td>（无）</td></tr>'}</table></body></html>"
    )
