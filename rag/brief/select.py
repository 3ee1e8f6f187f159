"""Which figures of a 履职 sentence are achievements, and the clause spans that state them.

An achievement states an action the reporter's unit took and its result or measure: a verb
and a figure with a unit. Real reports put many other figures in the same sentences, and a
brief that shows them as achievements misleads the leader who reads it:

- dates and page or site stamps (时间:2021-08-31, 第2页), anniversaries (建党100周年);
- speech time spans and the speaker's own details (再过5天, 我今年48岁, 在乡镇工作了16年);
- background of the place (总人口52.3万人, 辖14个乡镇, 耕地面积86万亩, 现有居民4210户);
- scope and bases (全县87所中小学, 全镇1386名农村党员中): what a result is measured over;
- goals and targets (…的目标要求, 力争…, 确保…达到);
- road-map sentences and headings (下面我讲三个方面, 从…三个方面向大家汇报);
- problems (班子成员多达11人, 55岁以上的占了近六成, 有3个村…不足5万元).

Forecasts (预计/计划) stay items but are flagged; a past event that mentions a plan
(列入了年度计划，并于当年10月前完成) is not a forecast. Long multi-figure sentences are split
into clause items so one bullet states one or a few results (发展党员167名).

Rules are code (not the model): they run on every report, deterministically, and a test over
the fixture corpus (tests/test_brief_select.py) holds them to account.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.documents.simplify import to_simplified
from rag.grounding.figures import Figure, extract_figures, has_redacted_figure

# Clauses end at Chinese and ASCII clause punctuation; an ASCII colon only when it is not part of
# a URL (http://…), which is report text like any other.
_CLAUSE_RE = re.compile(r"(?:[^，；：,;:。！？!?]|:(?=//))+(?:[，；：,;。！？!?]|:(?!//))*")
# Whole sentences that are never items.
_ROADMAP_RE = re.compile(
    r"汇报|報告如下|报告如下|下面我|下面，我|(?:几|三|四|五|两)个方面|请予审议|請予審議|作如下|述职如下|述職如下"
)
_PROBLEM_RE = re.compile(
    r"问题[^。；]{0,6}突出|不够|不足[，。；,;]|还不|差距|薄弱|短板|有待|偏低|偏高|偏大|老化|滞后|缺口|"
    r"(?<!为)(?<!帮扶)困难(?!群众|户|家庭|学生|职工|党员|老人|人员)|跟不上|不到位|青黄不接|依然|仍然|仍有|尚未|难以|臃肿|过多|多达\d+[^，。；]{0,4}[，,]有的|"
    r"問題[^。；]{0,6}突出|不夠|差距|薄弱|有待|偏低|滯後|困難|難以|依然|仍然"
)
_RESOLVED_RE = re.compile(r"解决|整改|化解|办结|消除|破解|处置|处理|解決|辦結|排查")
# Clauses whose figures are not results.
_STAMP_RE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|第\s*\d+\s*页|阅读|閱讀|字数|字數|来源|來源|资源描述")
_TIME_SPAN_RE = re.compile(
    r"再过|再過|任职|任職|参加工作|參加工作|工作了|干了|幹了|年头|年頭|满一年|滿一年|我今年|今年\d+[岁歲]|"
    r"周年|週年|分管|协助|協助"
)
_BACKGROUND_RE = re.compile(
    r"位于|位於|地处|地處|总面积|總面積|辖区面积|轄區面積|国土面积|下辖|下轄|(?<![管直])辖\d|轄\d|"
    r"辖[^，。]{0,4}\d+个(?:乡镇|行政村|村|社区)|总人口|總人口|户籍人口|戶籍人口|常住人口|"
    r"(?<!新增)(?<!增加)耕地(?:面积)?\d|现有|現有|共有|下设|下設|常年|[村镇乡组]有\d|[村鎮鄉組]有\d|全村有|\d+个村民小组|"
    r"\d+個村民小組"
)
_SCOPE_RE = re.compile(
    r"全[县镇乡村区市縣鎮鄉區]\d|\d+[^，。；\d]{0,10}中[，,]|中有\d|分解到|对照|對照|交办的\d|交辦的\d|"
    r"下达的\d|下達的\d"
)
# An incident reported as a fact (发生森林火情2起) is not an achievement; 未发生… is.
_INCIDENT_RE = re.compile(r"(?<![未无無没])发生[^，。；]{0,8}(?:火情|事故|案件|火灾|疫情)|(?<![未無])發生")
_GOAL_RE = re.compile(r"目标|目標|力争|力爭|确保|確保|要求|争创|爭創|门槛|門檻")
_FORECAST_RE = re.compile(r"预计|預計|(?<!列入)(?<!纳入)(?<!年度)计划(?!生育|内)|計劃|有望|将要|將要")


_ACTION_RE = re.compile(
    r"新建|新修|新增|新聘|建成|修建|组建|完成|落实|开展|组织|举办|召开|发展|培训|实现|推动|争取|投入|改造|"
    r"硬化|安装|收购|化解|办结|查处|整改|排查|签订|带动|培育|引进|打造|种植|发放|表彰|评选|调解|清理|接待|"
    r"提供|建立|成立|设立|下降|提高|增长|上升|减少|达到|超额|累计|帮助|解决|聘任|选派|慰问|走访|兑付|清查|"
    r"拆除|治理|整治|签约|接种|体检|代缴|采样|参加|宣讲|撰写|开工|批复|实施|播种|入股|销售|覆盖|救助"
)


_CONTINUATION_RE = re.compile(
    r"(?:同比|比上年|比去年|较上年)?(?:增长|下降|增加|减少|提高)|其中|占|均|分别|同比"
)


@dataclass(frozen=True)
class ClauseItem:
    """A span of a sentence (offsets relative to it) stating results, and whether it is a forecast."""

    start: int
    end: int
    figures: tuple[Figure, ...]  # offsets relative to the sentence
    tentative: bool
    has_verb: bool = True


def sentence_excluded(sentence: str) -> str | None:
    """Why a whole 履职 sentence is never an item (None when it may be)."""
    if _ROADMAP_RE.search(sentence):
        return "roadmap"
    if _PROBLEM_RE.search(sentence) and not _RESOLVED_RE.search(sentence):
        return "problem"
    return None


def clause_excluded(clause: str) -> str | None:
    """Why the figures of a clause are not results (None when they are)."""
    for name, pattern in (
        ("stamp", _STAMP_RE),
        ("time_span", _TIME_SPAN_RE),
        ("background", _BACKGROUND_RE),
        ("scope", _SCOPE_RE),
        ("goal", _GOAL_RE),
        ("incident", _INCIDENT_RE),
    ):
        if pattern.search(clause):
            return name
    return None


def is_forecast(clause: str) -> bool:
    """A forecast or plan figure: 预计/计划 as a verb in the clause (列入年度计划 is a noun: no)."""
    return bool(_FORECAST_RE.search(clause))


def _result_figure(fig: Figure) -> bool:
    return fig.kind in ("number", "percent") and fig.unit not in ("年", "周年")


def clause_items(sentence: str, *, max_figures: int = 3, max_chars: int = 60) -> list[ClauseItem]:
    """Spans of ``sentence`` that state results, in order; empty when none does.

    Clauses holding only excluded figures split the sentence; a clause without figures joins
    the result clause after it (it usually names the subject: 围绕产业发展，新建大棚45个). A run
    longer than ``max_chars`` or with more than ``max_figures`` results is cut at clause ends.
    """
    if sentence_excluded(sentence):
        return []
    clauses = [m.span() for m in _CLAUSE_RE.finditer(sentence)]
    runs: list[list[tuple[int, int, tuple[Figure, ...]]]] = [[]]
    redacted: list[ClauseItem] = []
    for s, e in clauses:
        text = sentence[s:e]
        figures = tuple(f for f in extract_figures(text) if _result_figure(f))
        if has_redacted_figure(text):  # its own item: shown nowhere, listed as skipped
            redacted.append(ClauseItem(s, _trim_end(sentence, s, e), (), False, True))
            runs.append([])
            continue
        reason = clause_excluded(text)
        if not reason and text.startswith("其中") and _after_background(runs):
            reason = "background"  # 全村有…户…人，其中脱贫户112户：still the description
        if reason or (figures and not _has_verb(text) and _after_background(runs)):
            runs.append([(-1, -1, ())] if reason == "background" else [])  # ends the run
            continue
        shifted = tuple(_shift(f, s) for f in figures)
        runs[-1].append((s, e, shifted))
    items: list[ClauseItem] = []
    for run in runs:
        clauses_of_run = [c for c in run if c[0] >= 0]
        items.extend(i for i in _split_run(sentence, clauses_of_run, max_figures, max_chars) if i.has_verb)
    return sorted(items + redacted, key=lambda i: i.start)


def _trim_end(sentence: str, start: int, end: int) -> int:
    while end > start and sentence[end - 1] in "，,、 ":
        end -= 1
    return end


def _after_background(runs: list[list[tuple[int, int, tuple[Figure, ...]]]]) -> bool:
    """The run so far is the tail of a background clause (全村有…个组、…户…人，党员87名)."""
    return bool(runs[-1]) and runs[-1][0][0] == -1 and len(runs[-1]) == 1


def _has_verb(text: str) -> bool:
    """A verb in the clause: an item states an action. jieba's part-of-speech tags find most;
    they tag some of the reports' commonest verbs otherwise (新建, 落实), hence the list."""
    import jieba.posseg as pseg

    simple = to_simplified(text)
    return bool(_ACTION_RE.search(simple)) or any(w.flag.startswith("v") for w in pseg.cut(simple))


def _shift(fig: Figure, by: int) -> Figure:
    return Figure(fig.raw, fig.start + by, fig.end + by, fig.value, fig.unit, fig.kind, fig.approx)


def _split_run(
    sentence: str, run: Sequence[tuple[int, int, tuple[Figure, ...]]], max_figures: int, max_chars: int
) -> list[ClauseItem]:
    out: list[ClauseItem] = []
    group: list[tuple[int, int, tuple[Figure, ...]]] = []

    def flush() -> None:
        while group and not group[-1][2]:
            group.pop()  # trailing clauses without figures add nothing
        if group:
            s, e = group[0][0], group[-1][1]
            figures = tuple(f for _, _, fs in group for f in fs)
            tentative = any(is_forecast(sentence[a:b]) for a, b, _ in group)
            out.append(ClauseItem(s, e, figures, tentative, _has_verb(sentence[s:e])))
        group.clear()

    for clause in run:
        figures_so_far = sum(len(fs) for _, _, fs in group)
        too_long = group and clause[1] - group[0][0] > max_chars
        too_many = figures_so_far and figures_so_far + len(clause[2]) > max_figures
        # A forecast does not share a bullet with results already achieved (…16.2万元，预计…200万元).
        text = sentence[clause[0] : clause[1]]
        forecast_after_results = bool(figures_so_far) and is_forecast(text)
        after_semicolon = bool(group) and sentence[group[-1][1] - 1] in "；;"
        cut = too_long or too_many or after_semicolon or forecast_after_results
        # 增长6.1% / 其中… / 占…的 qualify the figure before them: never a bullet of their own.
        if group and group[-1][2] and cut and not _CONTINUATION_RE.match(text):
            flush()
        group.append(clause)
    flush()
    return out
