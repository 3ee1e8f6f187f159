"""Query understanding: what a question names (roles, years, places, section words) and the
report wording of its colloquial phrases.

Everything found is a *soft* signal for retrieval (rag/fusion.py turns it into boosts), never a
filter. The cue words and the synonym list are packaged data files (``rag/data/query_cues.yaml``,
``rag/data/synonyms.yaml``; ``Settings.synonyms_file`` / ``Settings.query_cues_file`` replace them);
roles and place names also come from the indexed reports themselves (:func:`corpus_vocabulary`,
rebuilt when the store changes), so a new report's 村 or role is understood without editing a list.

``QueryIntent.inherit`` is how a short follow-up in a chat (那副乡长呢？) keeps the previous
question's entities: what the follow-up names replaces, what it leaves out is inherited.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from rag.documents.metadata import find_role
from rag.documents.simplify import to_simplified
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.index.index import Index

DATA_DIR = Path(__file__).resolve().parent / "data"
SYNONYMS_FILE = DATA_DIR / "synonyms.yaml"
CUES_FILE = DATA_DIR / "query_cues.yaml"

ENTITY_KINDS = ("roles", "years", "places", "sections")
_YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:\s*年|(?!\d))")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
# A Chinese numeral followed by a counter or unit: 六十岁 → 60岁, 十万块 → 10万元.
_CN_NUM_RE = re.compile(
    r"([零〇一二两三四五六七八九十百千]+)(万|亿)?(岁|个|名|人|次|亩|户|天|件|起|篇|场|期|座|部|家|栋|处|元|块|公里|米|吨)"
)


# Aspect particles between two characters (入了党, 起过火): synonym keys also match without them.
_PARTICLE_RE = re.compile(r"(?<=[\u4e00-\u9fff])[了过着](?=[\u4e00-\u9fff])")


class QueryTermsError(ValueError):
    """A cue or synonym file that cannot be used, with what to fix."""


@dataclass(frozen=True)
class QueryTerms:
    """The packaged (or configured) word lists."""

    synonyms: tuple[tuple[str, re.Pattern[str] | None, tuple[str, ...]], ...]  # (key, gap pattern, forms)
    section_cues: tuple[tuple[str, str], ...]  # (cue word, section kind), longest cue first
    also_sections: Mapping[str, tuple[str, ...]]
    role_aliases: Mapping[str, tuple[str, ...]]
    place_suffixes: tuple[str, ...]
    place_stop_chars: frozenset[str]
    place_max_report_share: float
    quantity_asks: tuple[str, ...] = ()
    quantity_units: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    quantity_not: tuple[str, ...] = ()  # 好几年, 几乎: an ask word that asks for nothing
    quantity_people: tuple[str, ...] = ()  # 几个队员 asks for 名/人, not 个
    quantity_before: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # 年纪多大 → 岁
    total_asks: tuple[str, ...] = ()  # 加起来, 一共 …: the question asks for a total
    total_words: tuple[str, ...] = ()  # 合计, 累计, 共 …: how a passage states one
    sources: tuple[str, ...] = ()


def _read_yaml(path: Path, what: str) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise QueryTermsError(f"{what} {path} 不存在：检查设置，或删去该设置以使用内置文件") from None
    except yaml.YAMLError as exc:
        raise QueryTermsError(f"{what} {path} 不是合法的 YAML：{exc}") from None
    if not isinstance(data, dict):
        raise QueryTermsError(f"{what} {path} 应是一个映射（key: value）")
    return data


def _str_list(value: object, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(x, str) and x.strip() for x in items):
        raise QueryTermsError(f"{where}: 应是非空字符串的列表，收到 {value!r}")
    return tuple(to_simplified(x.strip()) for x in items)


def _gap_pattern(key: str) -> re.Pattern[str] | None:
    """起…火 → 起 followed by 火 within four characters; None for a plain key."""
    if "…" not in key:
        return None
    parts = [re.escape(p) for p in key.split("…") if p]
    return re.compile(r".{0,4}?".join(parts))


@lru_cache(maxsize=8)
def _load_terms(synonyms_path: str, cues_path: str, _mtimes: tuple[float, float]) -> QueryTerms:
    syn = _read_yaml(Path(synonyms_path), "同义词文件").get("synonyms") or {}
    if not isinstance(syn, dict):
        raise QueryTermsError(f"同义词文件 {synonyms_path}: synonyms 应是 口语: [书面语, …] 的映射")
    synonyms = tuple(
        (key, _gap_pattern(key), _str_list(v, f"{synonyms_path}: {k}"))
        for k, v in syn.items()
        for key in [to_simplified(str(k).strip())]
    )
    cues = _read_yaml(Path(cues_path), "检索提示词文件")
    sections = cues.get("sections") or {}
    section_cues = sorted(
        ((cue, kind) for kind, words in sections.items() for cue in _str_list(words, f"sections.{kind}")),
        key=lambda x: -len(x[0]),
    )
    also = {k: _str_list(v, f"also.{k}") for k, v in (cues.get("also") or {}).items()}
    aliases = {
        to_simplified(k): _str_list(v, f"role_aliases.{k}")
        for k, v in (cues.get("role_aliases") or {}).items()
    }
    return QueryTerms(
        synonyms=synonyms,
        section_cues=tuple(section_cues),
        also_sections=also,
        role_aliases=aliases,
        place_suffixes=_str_list(cues.get("place_suffixes") or ["村", "镇", "乡"], "place_suffixes"),
        place_stop_chars=frozenset(str(cues.get("place_stop_chars") or "")),
        place_max_report_share=float(cues.get("place_max_report_share", 0.2)),
        quantity_asks=_str_list(cues.get("quantity_asks") or ["多少"], "quantity_asks"),
        quantity_units={
            str(k): _str_list(v, f"quantity_units.{k}") for k, v in (cues.get("quantity_units") or {}).items()
        },
        quantity_not=_str_list(cues.get("quantity_not") or ["好几"], "quantity_not"),
        quantity_people=_str_list(cues.get("quantity_people") or ["人"], "quantity_people"),
        quantity_before={
            str(k): _str_list(v, f"quantity_before.{k}")
            for k, v in (cues.get("quantity_before") or {}).items()
        },
        total_asks=_str_list(cues.get("total_asks") or ["一共"], "total_asks"),
        total_words=_str_list(cues.get("total_words") or ["合计"], "total_words"),
        sources=(synonyms_path, cues_path),
    )


def load_terms(settings: Settings | None = None) -> QueryTerms:
    """The word lists of ``settings`` (packaged files by default); re-read when a file changes."""
    syn = Path(getattr(settings, "synonyms_file", None) or SYNONYMS_FILE)
    cues = Path(getattr(settings, "query_cues_file", None) or CUES_FILE)

    def mtime(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except FileNotFoundError:
            return -1.0

    return _load_terms(str(syn), str(cues), (mtime(syn), mtime(cues)))


# ----------------------------------------------------------------------------- corpus vocabulary


@dataclass(frozen=True)
class CorpusVocabulary:
    """Roles and place names of the indexed reports. ``places`` maps a name (化眉村) to the
    reports (source, report index) that mention it; ``stems`` maps a bare name (化眉) to names."""

    roles: frozenset[str] = frozenset()
    places: Mapping[str, frozenset[tuple[str, int]]] = field(default_factory=dict)
    stems: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reports: int = 0


EMPTY_VOCABULARY = CorpusVocabulary()


def _place_names(text: str, terms: QueryTerms) -> set[str]:
    """Candidate names (two or three characters + a suffix) in a simplified text."""
    found: set[str] = set()
    for suffix in terms.place_suffixes:
        start = 0
        while (i := text.find(suffix, start)) >= 0:
            start = i + 1
            for n in (2, 3):
                stem = text[i - n : i] if i >= n else ""
                if len(stem) == n and all(
                    "\u4e00" <= ch <= "\u9fff" and ch not in terms.place_stop_chars for ch in stem
                ):
                    found.add(stem + suffix)
    return found


def build_vocabulary(
    reports: Iterable[tuple[str, int, str | None, str]], terms: QueryTerms
) -> CorpusVocabulary:
    """From (source, report index, role, title + text) of every report."""
    roles: set[str] = set()
    holders: dict[str, set[tuple[str, int]]] = {}
    n = 0
    for source, idx, role, text in reports:
        n += 1
        if role:
            roles.add(to_simplified(role))
        for name in _place_names(to_simplified(text), terms):
            holders.setdefault(name, set()).add((source, idx))
    limit = max(2, terms.place_max_report_share * n)
    places = {name: frozenset(keys) for name, keys in holders.items() if len(keys) <= limit}
    stems: dict[str, list[str]] = {}
    for name in places:
        for suffix in terms.place_suffixes:
            if name.endswith(suffix):
                stems.setdefault(name[: -len(suffix)], []).append(name)
                break
    return CorpusVocabulary(frozenset(roles), places, {k: tuple(v) for k, v in stems.items()}, n)


_vocab_lock = threading.Lock()
_vocab_cache: dict[tuple[str, int, tuple[str, ...]], CorpusVocabulary] = {}


def corpus_vocabulary(index: Index, terms: QueryTerms) -> CorpusVocabulary:
    """The vocabulary of an Index's reports, built once per store generation (one pass over the
    stored reports: ~1 s at 100k chunks) and shared by every Index on the same directory."""
    where = f"{Path(index.dir).resolve()}|{getattr(index.settings, 'database_url', None) or ''}"
    key = (where, index.store.generation, terms.sources)
    with _vocab_lock:
        hit = _vocab_cache.get(key)
        if hit is not None:
            return hit
        vocab = build_vocabulary(
            ((r.source, r.index, r.role, f"{r.title}\n{r.text}") for r in index.store.reports()), terms
        )
        for old in [k for k in _vocab_cache if k[0] == key[0]]:
            del _vocab_cache[old]
        _vocab_cache[key] = vocab
        return vocab


# ----------------------------------------------------------------------------- understanding


@dataclass(frozen=True)
class QueryIntent:
    """What a question names. ``text`` is the simplified question; ``expansions`` are report
    wordings added to the keyword query; ``mentions`` are (kind, start, end) spans in ``text``."""

    text: str
    roles: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    places: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    units: tuple[str, ...] = ()  # units the asked-for figure may carry (多少天 → 天)
    quantity: bool = False  # asks for a figure (多少, 几个 …), whatever its unit
    totals: tuple[str, ...] = ()  # asks for a total (加起来, 一共 …): the words a passage states one with
    expansions: tuple[str, ...] = ()
    mentions: tuple[tuple[str, int, int], ...] = ()
    inherited: tuple[str, ...] = ()  # entity kinds taken from a previous question

    @property
    def keyword_query(self) -> str:
        """The question plus the report wording of its colloquial phrases (for BM25)."""
        return " ".join([self.text, *self.expansions])

    def entities(self) -> dict[str, list]:
        return {kind: list(getattr(self, kind)) for kind in ENTITY_KINDS}

    def without_mentions(self, kinds: Iterable[str] = ENTITY_KINDS) -> str:
        """``text`` with the spans of the given entity kinds cut out."""
        cut = sorted((s, e) for k, s, e in self.mentions if k in set(kinds))
        out, pos = [], 0
        for s, e in cut:
            if s >= pos:
                out.append(self.text[pos:s])
                pos = e
        out.append(self.text[pos:])
        return "".join(out)

    def inherit(self, previous: QueryIntent) -> QueryIntent:
        """A follow-up's intent: its own entities, and the previous question's for every kind it
        does not name (那副乡长呢？ after 乡长2023年… keeps 2023, replaces the role)."""
        taken = {
            k: getattr(previous, k) for k in ENTITY_KINDS if not getattr(self, k) and getattr(previous, k)
        }
        return replace(self, **taken, inherited=tuple(taken))


def _cn_number(text: str) -> int | None:
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        else:
            return None
    total = section + (digit or 0)
    return total or None


def _numeral_forms(text: str) -> list[str]:
    """六十岁 → 60岁, 十万块 → 10万元: reports write figures in digits."""
    out = []
    for m in _CN_NUM_RE.finditer(text):
        value = _cn_number(m.group(1))
        if value is None:
            continue
        unit = "元" if m.group(3) == "块" else m.group(3)
        out.append(f"{value}{m.group(2) or ''}{unit}")
    return out


def _find_all(text: str, word: str) -> Iterable[int]:
    start = 0
    while (i := text.find(word, start)) >= 0:
        yield i
        start = i + 1


def _roles(text: str, terms: QueryTerms, vocab: CorpusVocabulary) -> tuple[list[str], list[tuple[int, int]]]:
    """Roles named in the text, longest match first, non-overlapping; aliases resolved."""
    words = {r: (r,) for r in vocab.roles} | dict(terms.role_aliases)
    found, _ = find_role(text, "")  # the parser's own role list (第一书记, 组织委员 …)
    if found:
        words.setdefault(found, (found,))
    taken: list[tuple[int, int]] = []
    roles: list[str] = []
    for word in sorted(words, key=len, reverse=True):
        for i in _find_all(text, word):
            span = (i, i + len(word))
            if any(s < span[1] and span[0] < e for s, e in taken):
                continue
            taken.append(span)
            roles.extend(r for r in _resolve_role(words[word], vocab) if r not in roles)
    return roles, taken


def _resolve_role(named: Iterable[str], vocab: CorpusVocabulary) -> list[str]:
    """The corpus roles a named role stands for: itself when reports carry it, else the roles
    containing it (第一书记 → 驻村第一书记); unchanged when the corpus has neither."""
    out: list[str] = []
    for role in named:
        if role in vocab.roles or not vocab.roles:
            out.append(role)
            continue
        wider = sorted(r for r in vocab.roles if role in r)
        out.extend(wider or [role])
    return out


def _places(text: str, terms: QueryTerms, vocab: CorpusVocabulary) -> tuple[list[str], list[tuple[int, int]]]:
    """Place names of the corpus in the text: a name with its suffix (化眉村), or a bare name that
    is no ordinary word (化眉, not in jieba's dictionary). Scans the question, not the gazetteer."""
    import jieba

    names: list[str] = []
    spans: list[tuple[int, int]] = []
    if not vocab.places:
        return names, spans
    for suffix in terms.place_suffixes:
        for i in _find_all(text, suffix):
            for n in (3, 2):
                name = text[i - n : i + len(suffix)] if i >= n else ""
                if name in vocab.places and not any(s < i + len(suffix) and i - n < e for s, e in spans):
                    spans.append((i - n, i + len(suffix)))
                    if name not in names:
                        names.append(name)
                    break
    jieba.setLogLevel(logging.WARNING)
    jieba.dt.check_initialized()
    freq = jieba.dt.FREQ
    for n in (3, 2):
        for i in range(len(text) - n + 1):
            stem = text[i : i + n]
            if stem not in vocab.stems or freq.get(stem, 0) or any(s < i + n and i < e for s, e in spans):
                continue
            spans.append((i, i + n))
            names.extend(x for x in vocab.stems[stem] if x not in names)
    return names, sorted(spans)


def _ask_positions(text: str, terms: QueryTerms) -> list[tuple[int, str]]:
    """(position, ask word) of every quantity ask, minus those inside 好几 / 几乎 …"""
    dead = {i for w in terms.quantity_not for s in _find_all(text, w) for i in range(s, s + len(w))}
    return [(i, a) for a in terms.quantity_asks for i in _find_all(text, a) if i not in dead]


def _units(text: str, terms: QueryTerms, asks: list[tuple[int, str]]) -> list[str]:
    """Units of the figure a question asks for: 多少天 → 天, 几位 → 名/人/位, 多大 → 平米/亩 …
    A unit is a whole word after the ask (多少年轻人 asks for no 年, 几个别 no 个); a person word
    soon after it adds 名/人 (几个队员); a word shortly before it fixes the unit (年纪普遍多大 → 岁)."""
    import jieba

    units: list[str] = []
    for i, ask in asks:
        before = next((w for w in terms.quantity_before if w in text[max(0, i - len(w) - 3) : i]), None)
        fixed = terms.quantity_before[before] if before else terms.quantity_units.get(ask, ())
        found: list[str] = list(fixed)
        window = text[i + len(ask) : i + len(ask) + 8]
        pos = 0
        for word in [] if found else jieba.lcut(window, HMM=False):
            if pos >= 4:
                break
            pos += len(word)
            # the word is the unit, or a magnitude + unit (万元); 年轻人 holds no unit 人
            units_of = terms.quantity_units
            key = next((k for k in units_of if word == k or (word[1:] == k and word[0] in "万亿千百")), None)
            if key:
                found = list(terms.quantity_units[key])
                break
        if not before and any(w in window for w in terms.quantity_people):
            found += terms.quantity_units.get("人", ())
        units.extend(u for u in found if u not in units)
    return units


def understand(
    question: str, terms: QueryTerms | None = None, vocab: CorpusVocabulary = EMPTY_VOCABULARY
) -> QueryIntent:
    """Roles, years, places, section kinds and keyword expansions of one question."""
    terms = terms or load_terms()
    text = to_simplified(question.strip())
    mentions: list[tuple[str, int, int]] = []

    roles, role_spans = _roles(text, terms, vocab)
    mentions += [("roles", s, e) for s, e in role_spans]
    years = []
    for m in _YEAR_RE.finditer(text):
        if int(m.group(1)) not in years:
            years.append(int(m.group(1)))
        mentions.append(("years", m.start(), m.end()))
    places, place_spans = _places(text, terms, vocab)
    mentions += [("places", s, e) for s, e in place_spans]
    asks = _ask_positions(text, terms)

    sections: list[str] = []
    for cue, kind in terms.section_cues:
        if cue in text:
            for k in (kind, *terms.also_sections.get(kind, ())):
                if k not in sections:
                    sections.append(k)

    expansions: list[str] = []
    bare = _PARTICLE_RE.sub("", text)  # 入了党 matches 入党
    for phrase, gap, forms in terms.synonyms:
        if any((gap.search(t) if gap else phrase in t) for t in (text, bare)):
            expansions.extend(f for f in forms if f not in expansions and f not in text)
    expansions.extend(f for f in _numeral_forms(text) if f not in expansions)
    return QueryIntent(
        text=text,
        roles=tuple(roles),
        years=tuple(years),
        places=tuple(places),
        sections=tuple(sections),
        units=tuple(_units(text, terms, asks)),
        quantity=bool(asks),
        totals=terms.total_words if any(w in text for w in terms.total_asks) else (),
        expansions=tuple(expansions),
        mentions=tuple(sorted(mentions, key=lambda m: m[1])),
    )


def understand_for_index(index: Index, question: str) -> QueryIntent:
    """:func:`understand` with the Index's settings and corpus vocabulary."""
    terms = load_terms(index.settings)
    return understand(question, terms, corpus_vocabulary(index, terms))


def follow_up_intent(index: Index, question: str, previous: str) -> tuple[str, QueryIntent]:
    """(retrieval text, intent) of a short follow-up to ``previous``: the previous question's
    topic words without the entities the follow-up replaces, then the follow-up itself; the
    intent inherits the entity kinds the follow-up does not name."""
    prev = understand_for_index(index, previous)
    cur = understand_for_index(index, question)
    replaced = [k for k in ENTITY_KINDS if getattr(cur, k)]
    text = f"{prev.without_mentions(replaced).strip()} {cur.text}".strip()
    merged = understand_for_index(index, text)
    inherited = cur.inherit(prev)
    return text, replace(
        merged, **{k: getattr(inherited, k) for k in ENTITY_KINDS}, inherited=inherited.inherited
    )
