"""Reduce step: group the per-report items by theme across people, write the overview.

Themes come from keyword rules over each item's topic heading and sentence (no model
call: deterministic, instant, and measured on the seed 汇编 — see the report for the
numbers). Groups shared by several people come first: that is what 共性 means.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from rag.brief.extract import substantive
from rag.brief.schema import Group, Item, Ref, ReportSummary
from rag.grounding.figures import extract_figures

Themes = tuple[tuple[str, tuple[str, ...]], ...]


def _themes(*rows: tuple[str, str]) -> Themes:
    """(name, space-separated keywords) rows → the theme table."""
    return tuple((name, tuple(words.split())) for name, words in rows)


MEASURE_THEMES = _themes(
    (
        "项目建设与产业发展",
        "项目 投资 产业 种植 合作社 收购 烟 集体经济 销售 产值 入股 粮食 耕地 农业 招商 企业 亩",
    ),
    ("安全生产与风险防范", "安全 消防 隐患 应急 演练 风险 舆情 舆论 防汛"),
    (
        "民生保障与社会事业",
        "返贫 脱贫 困难 民生 教育 学校 校园 污水 公路 人居 办实事 慰问 低保 就业 医疗 急难愁盼 农户 入户",
    ),
    (
        "基层组织与队伍建设",
        "支部 党员 组织生活 三会一课 示范点 发展党员 活动室 党总支 主题党日 积极分子 人大 党务 干部",
    ),
    ("理论学习与宣传思想", "学习 理论 宣讲 中心组 宣传 意识形态 培训 调研 外宣 信息 思政 党课 主题教育"),
    ("党风廉政与作风建设", "廉政 廉洁 谈心谈话 警示 纪律 作风 家访 巡察 整改 一岗双责"),
)
PROBLEM_THEMES = _themes(
    ("党建责任落实和督导不够", "责任 主抓 压力 追责 督 监管 指导 推进不 措施不"),
    ("工作思路和创新举措不足", "创新 思路 办法 举措 方法"),
    ("理论学习和思想认识有差距", "学习 理论 认识 思想"),
    ("示范引领和总结提炼不够", "示范 亮点 引领 先锋 模范 总结 带头"),
    ("统筹推进不够均衡", "均衡 统筹"),
    ("队伍和阵地建设有短板", "队伍 阵地 培训 党务 书屋"),
)
PLAN_THEMES = _themes(
    ("强化理论武装，坚定理想信念", "学习 理论 思想 宣讲 信念 勤"),
    ("压实党建责任，从严管党治党", "责任 从严 党建 担责 担当 严"),
    ("创新方式载体，打造党建品牌", "创新 载体 方式 品牌"),
    ("转变工作作风，严守廉洁底线", "作风 廉洁 纪 律 勤政 守纪"),
    ("聚焦发展服务，夯实执政基础", "发展 服务 群众 产业 集体经济 宗旨 执政 实"),
)
OTHER = "其他"
_TENTATIVE_CLAUSE_RE = re.compile(r"[^，；。]*(?:预计|计划(?!生育)|力争|争取|有望)[^，；。]*")


def classify(item: Item, themes: Themes) -> str:
    """The theme with most keyword hits; the topic heading counts double."""

    def hits(words: Sequence[str]) -> int:
        return sum(item.quote.count(w) + 2 * item.heading.count(w) for w in words)

    scores = [(hits(words), -i, name) for i, (name, words) in enumerate(themes)]
    best = max(scores)
    return best[2] if best[0] > 0 else OTHER


def assign_themes(summary: ReportSummary) -> ReportSummary:
    def tag(items: Sequence[Item], themes: Themes) -> tuple[Item, ...]:
        return tuple(i.model_copy(update={"theme": classify(i, themes)}) for i in items)

    return summary.model_copy(
        update={
            "items": tag(summary.items, MEASURE_THEMES),
            "problems": tag(summary.problems, PROBLEM_THEMES),
            "plans": tag(summary.plans, PLAN_THEMES),
        }
    )


def _groups(refs: Sequence[Ref], order: Themes) -> tuple[Group, ...]:
    names = [name for name, _ in order] + [OTHER]
    buckets: dict[str, list[Ref]] = {}
    for ref in refs:
        buckets.setdefault(ref.item.theme or OTHER, []).append(ref)
    groups = [Group(name, tuple(buckets[name])) for name in names if name in buckets]
    # Most people first, then most items; OTHER always last.
    return tuple(sorted(groups, key=lambda g: (g.name == OTHER, -len(g.reports), -len(g.refs))))


def measure_groups(summaries: Sequence[ReportSummary]) -> tuple[Group, ...]:
    refs = [Ref(s.label, i) for s in summaries for i in s.key_items]
    return _groups(refs, MEASURE_THEMES)


def problem_groups(summaries: Sequence[ReportSummary]) -> tuple[Group, ...]:
    return _groups([Ref(s.label, i) for s in summaries for i in s.problems], PROBLEM_THEMES)


def plan_groups(summaries: Sequence[ReportSummary]) -> tuple[Group, ...]:
    return _groups([Ref(s.label, i) for s in summaries for i in s.plans], PLAN_THEMES)


def _who(summaries: Sequence[ReportSummary]) -> str:
    counts = Counter(s.role or "未注明职务" for s in summaries)
    return "、".join(f"{role}（{n}人）" if n > 1 else role for role, n in counts.items())


def overview(summaries: Sequence[ReportSummary], themes: Sequence[Group], problems: Sequence[Group]) -> str:
    """总体情况: built from counts and theme names only (no figure of any report)."""
    years = sorted({s.year for s in summaries if s.year})
    year = f"{years[0]}年度" if len(years) == 1 else ("、".join(map(str, years)) + "年度" if years else "")
    n_items = sum(len(s.items) for s in summaries)
    n_key = sum(len(s.key_items) for s in summaries)
    text = (
        f"本汇编收录{year}述职报告{len(summaries)}篇，述职人为{_who(summaries)}。各篇均全文通读，"
        f"共摘出含具体数据的做法和成效{n_items}条，其中{n_key}条列入本综述；"
        f"另摘出存在问题{sum(len(s.problems) for s in summaries)}条、"
        f"下步打算{sum(len(s.plans) for s in summaries)}条。"
    )
    named = [g for g in themes if g.name != OTHER][:3]
    if named:
        text += "工作成效主要集中在" + "、".join(g.name for g in named) + "等方面。"
    shared = [g for g in problems if g.name != OTHER and len(g.reports) > 1][:2]
    if shared:
        text += "多人共同提到的问题是" + "、".join(f"{g.name}（{len(g.reports)}人）" for g in shared) + "。"
    return text


def _tentative_clause(quote: str) -> str:
    """The 预计/计划 clause of a sentence, preferring one that carries a figure."""
    clauses = [m.group().strip() for m in _TENTATIVE_CLAUSE_RE.finditer(quote)]
    with_figures = [c for c in clauses if any(substantive(f) for f in extract_figures(c))]
    return (with_figures or clauses or [""])[-1]


def attention(summaries: Sequence[ReportSummary], problems: Sequence[Group]) -> list[str]:
    """需要关注的事项, each with its citations: targets reported as if done, redacted data,
    problems only one person raised."""
    notes: list[tuple[str, list[Ref]]] = []
    for s in summaries:
        for item in s.key_items:
            clause = _tentative_clause(item.quote) if item.tentative else ""
            if clause:
                notes.append(
                    (f"{s.label}所报“{clause}”是计划或预计数，不宜视为已完成成效", [Ref(s.label, item)])
                )
        if s.skipped:
            refs = [Ref(s.label, i) for i in s.skipped]
            notes.append((f"{s.label}报告中有{len(s.skipped)}处数据被隐去（*、X），相关内容未采用", refs))
    for g in problems:
        if len(g.reports) == 1 and g.name != OTHER:
            notes.append((f"“{g.name}”仅{g.reports[0]}提到，可结合实际了解是否具有普遍性", list(g.refs)))
    return [text + " " + "".join(r.marker() for r in refs) for text, refs in notes]
