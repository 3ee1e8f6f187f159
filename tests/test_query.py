"""Query understanding (rag/query.py): roles, years, places and section words found in a question,
the synonym and cue files, and what a follow-up inherits."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rag.query import (
    CUES_FILE,
    SYNONYMS_FILE,
    QueryTermsError,
    build_vocabulary,
    load_terms,
    understand,
)
from rag.settings import Settings

REPORTS = [
    (
        "seeds/002.txt",
        0,
        "镇党委书记",
        "镇党委书记2022年述职报告\n化眉村完成800平米茶叶加工厂建设，龙井村、化眉村……",
    ),
    (
        "seeds/001.txt",
        0,
        "党委书记",
        "2022年度基层党建述职报告\n紧盯“生态西洞”目标……全镇所有村集体经济收入……",
    ),
    ("r02.txt", 0, "村党支部书记", "桃源村党支部书记2023年度述职报告\n桃源村……所有村……"),
    ("r11.txt", 0, "驻村第一书记", "作为驻村第一书记，2022年是我到青石村驻村的第二年。"),
    ("r05.txt", 0, "镇党委书记", "去年3月我从石门乡调至清河镇任党委书记……所有村"),
    ("r06.txt", 0, "副乡长", "龙潭乡副乡长2024年度述职报告"),
]


@pytest.fixture(scope="module")
def terms():
    return load_terms()


@pytest.fixture(scope="module")
def vocab(terms):
    return build_vocabulary(REPORTS, terms)


def test_vocabulary_holds_corpus_roles_and_rare_place_names(vocab) -> None:
    assert {"镇党委书记", "党委书记", "驻村第一书记", "副乡长"} <= vocab.roles
    assert vocab.places["化眉村"] == {("seeds/002.txt", 0)}
    assert vocab.places["桃源村"] == {("r02.txt", 0)}
    assert "清河镇" in vocab.places and "石门乡" in vocab.places
    # generic phrases are not names: a stop character, or too many reports hold them
    assert "所有村" not in vocab.places and "全镇" not in vocab.places


def test_roles_years_places_sections_are_found(terms, vocab) -> None:
    intent = understand("2022年化眉村那个镇的镇党委书记说存在哪些不足？", terms, vocab)
    assert intent.roles == ("镇党委书记",)
    assert intent.years == (2022,)
    assert intent.places == ("化眉村",)
    assert "问题" in intent.sections
    kinds = {k for k, _, _ in intent.mentions}
    assert kinds == {"roles", "years", "places"}


def test_role_resolves_to_corpus_roles_and_aliases(terms, vocab) -> None:
    # 第一书记 is not a corpus role by itself: the corpus role containing it is meant
    assert understand("青石村第一书记担心什么？", terms, vocab).roles == ("驻村第一书记",)
    # a role the corpus has is itself, not every role containing it
    assert understand("党委书记发展了几名党员", terms, vocab).roles == ("党委书记",)
    # the longest role wins (乡党委书记 is not read as 党委书记 too)
    assert understand("龙潭乡副乡长管什么", terms, vocab).roles == ("副乡长",)
    # colloquial alias from query_cues.yaml
    assert "村党支部书记" in understand("桃源村的村支书干了什么", terms, vocab).roles


def test_bare_place_name_without_suffix(terms, vocab) -> None:
    # 化眉 is no ordinary word (not in jieba's dictionary): the bare stem names 化眉村
    assert understand("化眉那边的茶厂有多大", terms, vocab).places == ("化眉村",)


def test_traditional_question_is_understood_in_simplified(terms, vocab) -> None:
    intent = understand("鎮黨委書記2022年查處了多少起亂蓋房子的？", terms, vocab)
    assert intent.roles == ("镇党委书记",) and intent.years == (2022,)
    assert "违法建房" in intent.expansions and intent.text.startswith("镇党委书记")


def test_plan_words_and_quantity_units(terms, vocab) -> None:
    intent = understand("清河镇下一步打算办几期培训班，每期多少人？", terms, vocab)
    assert intent.sections == ("打算",)
    assert {"期", "人", "名"} <= set(intent.units)
    assert understand("化眉村的茶厂占地多大？", terms, vocab).units[:2] == ("平米", "平方米")
    assert understand("集体收入过了十万块的村有几个", terms, vocab).expansions[-1] == "10万元"
    assert "60岁" in understand("党员里上了六十岁的有多少人", terms, vocab).expansions


def test_question_without_entities_has_none(terms, vocab) -> None:
    intent = understand("如何加强基层党组织建设", terms, vocab)
    assert intent.roles == intent.years == intent.places == intent.sections == ()
    assert intent.keyword_query == intent.text


def test_synonym_file_loads_and_every_entry_is_applied(terms) -> None:
    raw = yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8"))["synonyms"]
    assert len(terms.synonyms) == len(raw) >= 50
    for key, gap, forms in terms.synonyms:
        phrase = key.replace("…", "了几回") if gap else key
        intent = understand(f"请问{phrase}的情况怎么样")
        for form in forms:
            assert form in intent.keyword_query.split() or form in intent.text, (key, form)


def test_cue_file_sections_map_to_skeleton_kinds(terms) -> None:
    from rag.schema import SECTION_KINDS

    assert {kind for _, kind in terms.section_cues} <= set(SECTION_KINDS)
    for cue, kind in terms.section_cues:
        assert kind in understand(f"那位书记说的{cue}是什么").sections, cue
    assert understand("根子在哪").sections == ("原因", "问题")  # 存在问题及原因分析


def test_terms_files_come_from_settings_and_errors_say_what_to_fix(tmp_path: Path) -> None:
    syn = tmp_path / "syn.yaml"
    syn.write_text("synonyms:\n  苞谷: [玉米]\n", encoding="utf-8")
    terms = load_terms(Settings(synonyms_file=syn))
    assert understand("种苞谷多少亩", terms).expansions == ("玉米",)
    assert load_terms(Settings()).sources == (str(SYNONYMS_FILE), str(CUES_FILE))
    bad = tmp_path / "bad.yaml"
    bad.write_text("synonyms:\n  苞谷: 7\n", encoding="utf-8")
    with pytest.raises(QueryTermsError, match="苞谷"):
        load_terms(Settings(synonyms_file=bad))
    with pytest.raises(QueryTermsError, match="不存在"):
        load_terms(Settings(query_cues_file=tmp_path / "missing.yaml"))


def test_follow_up_inherits_what_it_does_not_name(terms, vocab) -> None:
    first = understand(
        "乡长2023年抓党建存在哪些问题？", terms, build_vocabulary([*REPORTS, ("x", 0, "乡长", "")], terms)
    )
    follow = understand("那副乡长呢？", terms, vocab)
    merged = follow.inherit(first)
    assert merged.roles == ("副乡长",)  # named: replaces
    assert merged.years == (2023,) and "问题" in merged.sections  # not named: inherited
    assert set(merged.inherited) == {"years", "sections"}
    assert "乡长" not in first.without_mentions(["roles"]) and "2023" in first.without_mentions(["roles"])


def test_quantity_units_are_whole_words_and_people_count_in_persons(terms, vocab) -> None:
    # 多少年轻人 asks for people, not years; 个别 is no counter
    assert set(understand("每年派多少年轻人下村", terms, vocab).units) >= {"人", "名"}
    assert "年" not in understand("每年派多少年轻人下村", terms, vocab).units
    # a person word after the counter: 几个队员 is counted in 名/人 as well as 个
    assert {"个", "名", "人"} <= set(understand("消防队配了几个全职队员", terms, vocab).units)
    # a word before the ask fixes the unit: age, not area
    assert understand("护林员年纪普遍多大", terms, vocab).units == ("岁",)
    assert "亩" in understand("茶园面积有多大", terms, vocab).units
    assert understand("空气好的日子占几成", terms, vocab).units[:2] == ("%", "％")
    assert understand("一共投了多少万元", terms, vocab).units == ("元",)  # 万 is the magnitude
    # a money noun after the ask asks for a sum; 张 and km are units; 编制 are counted in persons
    assert "万元" in understand("第一书记跑来了多少帮扶资金", terms, vocab).units
    assert "万元" in understand("老学校租出去一年能收多少租", terms, vocab).units
    assert understand("卫生院多了多少张病床", terms, vocab).units == ("张",)
    assert "km" in understand("排污管子有多长", terms, vocab).units
    assert {"个", "名"} <= set(understand("划转过来多少个编制", terms, vocab).units)


def test_quantity_and_total_asks(terms, vocab) -> None:
    assert understand("做过几轮排查", terms, vocab).quantity
    # 好几年 / 几乎 ask for no figure
    assert not understand("有的村好几年没发展党员，几乎停了", terms, vocab).quantity
    assert understand("各村的收入加起来有多少", terms, vocab).totals == terms.total_words
    assert understand("各村收入有多少", terms, vocab).totals == ()


def test_synonyms_match_across_aspect_particles(terms) -> None:
    # 入党 → 党员 (synonyms.yaml) also for 入了党 / 入过党
    for q in ("今年让几个人入了党", "他们入过党吗"):
        assert "党员" in understand(q, terms).expansions, q
    # the particle is only skipped for matching: the question text is unchanged
    assert understand("今年让几个人入了党", terms).text == "今年让几个人入了党"


def test_self_criticism_and_later_words_are_section_cues(terms) -> None:
    assert "问题" in understand("副乡长坦白自己下支部检查得怎样", terms).sections
    assert "打算" in understand("部长往后要盯哪个项目", terms).sections
