"""Words of figure binding: lists kept as data (``rag/data/binding.yaml``, read and extended
without touching the rules in ``rag.grounding.clauses`` / ``rag.grounding.binding_rules``) and the
part-of-speech reading of a figure's words (jieba)."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import yaml

__all__ = ["BINDING_WORDS_FILE", "PERSON_UNITS", "measure_word_families", "person_nouns", "pos_bigrams"]

BINDING_WORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "binding.yaml"
PERSON_UNITS = frozenset(("人", "名", "位"))  # measure words of people (3.5人, 3.5名)


@lru_cache(maxsize=4)
def _load(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(
            f"数字绑定词表 {path} 读不出来（{exc}）：请恢复这个文件 / cannot read {path}"
        ) from exc
    nouns = data.get("person_nouns", []) if isinstance(data, dict) else None
    if not isinstance(nouns, list) or not all(isinstance(w, str) for w in nouns):
        raise ValueError(
            f"数字绑定词表 {path} 格式不对：person_nouns 应是字符串列表 / must be a list of strings"
        )
    families = data.get("measure_word_families", [])
    if not isinstance(families, list) or not all(
        isinstance(f, list) and all(isinstance(w, str) for w in f) for f in families
    ):
        raise ValueError(
            f"数字绑定词表 {path} 格式不对：measure_word_families 应是由量词列表组成的列表 / "
            "must be a list of lists of measure words"
        )
    return data


def measure_word_families(path: Path = BINDING_WORDS_FILE) -> tuple[frozenset[str], ...]:
    """Measure words counting the same kind of thing (电梯46部 = 46台): they match where the noun does."""
    return tuple(frozenset(f) for f in _load(path).get("measure_word_families", []))


def person_nouns(path: Path = BINDING_WORDS_FILE) -> frozenset[str]:
    """Nouns that only restate a measure word of people (3.5名工作人员 = 3.5人)."""
    return frozenset(_load(path).get("person_nouns", []))


@lru_cache(maxsize=2048)
def pos_bigrams(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(bigrams inside the verbs, adjectives and adverbs of ``text``, bigrams inside its nouns):
    调解成功 → 调解 v, 成功 a; 供水工程 n. A part-of-speech tagger (jieba's, already the keyword
    index's tokenizer) tells them apart where bigrams cannot."""
    import jieba
    import jieba.posseg  # loaded on first use: most claims never need it

    jieba.setLogLevel(logging.WARNING)
    verbs: set[str] = set()
    nouns: set[str] = set()
    for w in jieba.posseg.cut(text.replace("|", "，")):
        if w.flag[:1] in ("v", "a", "d") and w.flag != "vn":  # 应急 (vn) names a thing
            verbs.update(w.word[i : i + 2] for i in range(len(w.word) - 1))
        elif w.flag[:1] == "n":
            nouns.update(w.word[i : i + 2] for i in range(len(w.word) - 1))
    return frozenset(verbs), frozenset(nouns)
