"""The fixture corpus (tests/fixtures/reports/) is what it claims: expected.yaml matches the files.

Every expected substring occurs in its file, every figure lies in its text, the styles are
covered, 繁體 files are fully traditional, one-line files have no breaks.
"""

import collections
import pathlib
import re
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent / "fixtures" / "reports"
KEYS = {
    "file",
    "styles",
    "title",
    "role",
    "year",
    "level",
    "sections",
    "problems",
    "plans",
    "achievements",
    "junk",
}
ROLES = set(
    """村党总支书记 村党支部书记 村党委书记 社区党委书记 社区党总支书记 社区党支部书记 镇党委书记
    乡党委书记 街道党工委书记 党工委书记 党委书记 党委副书记 党总支书记 党支部书记 支部书记 党组书记
    驻村第一书记 第一书记 纪委书记 纪工委书记 乡长 副乡长 镇长 副镇长 街道办主任 村主任 村委会主任
    社区主任 组织委员 宣传委员 纪检委员 统战委员 武装部长 组织部长 宣传部长 统战部长 人大主席 局长
    副局长""".split()  # noqa: SIM905
)
LEVELS = {"村", "镇", "乡", "局"}
KINDS = {"前言", "履职", "问题", "原因", "打算", "结语", "其他"}
STYLES = {
    "seed",
    "speech",
    "alt_headings",
    "bare_headings",
    "one_line",
    "fragment",
    "site_noise",
    "ascii_punct",
    "placeholders",
    "traditional",
    "multi_figures",
    "implicit_sections",
    "forecast",
    "goals_roadmap",
    "problem_figures",
}
MIN_PER_STYLE = {s: 2 for s in STYLES}
MIN_PER_STYLE["traditional"] = 3
HAN = re.compile(r"[\u4e00-\u9fff]")
NUM = re.compile(r"[0-9０-９一二两三四五六七八九十百千万半]")

errors = []


def err(name, msg):
    errors.append(f"{name}: {msg}")


def check_strings(name, text, key, values, lo, hi, min_len=1, max_len=None):
    if not isinstance(values, list) or not lo <= len(values) <= hi:
        err(name, f"{key}: expected {lo}-{hi} items, got {values!r}")
        return
    for v in values:
        if not isinstance(v, str) or v not in text:
            err(name, f"{key}: not a substring: {v!r}")
        elif not min_len <= len(v) <= (max_len or 10**9):
            err(name, f"{key}: length {len(v)} outside {min_len}-{max_len}: {v!r}")


def main():
    entries = yaml.safe_load((HERE / "expected.yaml").read_text(encoding="utf-8"))
    txts = sorted(p.name for p in HERE.glob("*.txt"))
    names = [e.get("file") for e in entries]
    if sorted(names) != txts:
        err("expected.yaml", f"entries {sorted(set(names) ^ set(txts))} do not match the .txt files")
    if len(set(names)) != len(names):
        err("expected.yaml", "duplicate file entries")
    style_count = collections.Counter()
    rows = []
    for e in entries:
        name = e.get("file", "?")
        if set(e) != KEYS:
            err(name, f"keys {sorted(set(e) ^ KEYS)} wrong")
            continue
        path = HERE / name
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        han = len(HAN.findall(text))
        if not 600 <= han <= 2500:
            err(name, f"{han} Chinese characters, want 600-2500")
        for s in e["styles"]:
            if s not in STYLES:
                err(name, f"unknown style {s!r}")
        style_count.update(set(e["styles"]))
        t = e["title"]
        if t is not None:
            first = text.splitlines()[0] if text else ""
            if t not in first:
                err(name, f"title not on the first line: {t!r}")
            if not t.endswith(("报告", "報告")):
                err(name, f"title should end in 报告: {t!r}")
        if "fragment" in e["styles"] and t is not None:
            err(name, "fragment with a title")
        if e["role"] is not None and e["role"] not in ROLES:
            err(name, f"role {e['role']!r} not in vocabulary")
        y = e["year"]
        if y is not None and not (isinstance(y, int) and 2019 <= y <= 2025):
            err(name, f"year {y!r}")
        if e["level"] is not None and e["level"] not in LEVELS:
            err(name, f"level {e['level']!r}")
        if not e["sections"] or any(k not in KINDS for k in e["sections"]):
            err(name, f"sections {e['sections']!r}")
        check_strings(name, text, "problems", e["problems"], 2, 4, 10, 40)
        check_strings(name, text, "plans", e["plans"], 2, 4, 10, 40)
        check_strings(name, text, "junk", e["junk"], 1, 30)
        ach = e["achievements"]
        if not isinstance(ach, list) or not 3 <= len(ach) <= 8:
            err(name, f"achievements: want 3-8, got {len(ach) if isinstance(ach, list) else ach!r}")
            ach = []
        for a in ach:
            if set(a) != {"text", "figure"}:
                err(name, f"achievement keys {a!r}")
                continue
            if a["text"] not in text:
                err(name, f"achievement text not a substring: {a['text']!r}")
            if a["figure"] not in a["text"]:
                err(name, f"figure {a['figure']!r} not in its text {a['text']!r}")
            if not NUM.search(a["figure"]) or "*" in a["figure"] or "x" in a["figure"].lower():
                err(name, f"figure {a['figure']!r} is not a real figure")
            for j in e["junk"]:
                if j in a["text"] or a["text"] in j:
                    err(name, f"achievement {a['text']!r} overlaps junk {j!r}")
            for p in e["problems"] + e["plans"]:
                if a["text"] in p:
                    err(name, f"achievement {a['text']!r} lies inside problem/plan {p!r}")
        if "one_line" in e["styles"] and "\n" in text.strip():
            err(name, "one_line file has line breaks")
        if "traditional" in e["styles"]:
            if not any(c in text for c in "黨報告職鄉員"):
                err(name, "traditional file without traditional characters")
            if any(c in text for c in "党报职乡员这们"):
                err(name, "traditional file still has simplified characters")
        if "ascii_punct" in e["styles"] and not re.search(r"[,:;()]", text):
            err(name, "ascii_punct file without ASCII punctuation")
        rows.append((name, han, len(e["problems"]), len(e["plans"]), len(ach), len(e["junk"]), e["styles"]))
    for s, n in MIN_PER_STYLE.items():
        if style_count[s] < n:
            err("corpus", f"style {s} used {style_count[s]} times, want >= {n}")

    for name, han, np_, npl, na, nj, styles in rows:
        counts = f"problems={np_} plans={npl} achievements={na} junk={nj:2d}"
        print(f"{name:58s} han={han:4d} {counts}  {','.join(styles)}")
    print()
    print("files:", len(rows))
    print("per style:", ", ".join(f"{s}={style_count[s]}" for s in sorted(STYLES)))
    if errors:
        print(f"\n{len(errors)} FAILURES:")
        for m in errors:
            print("  " + m)
        return 1
    print("OK: all substrings found, all figures inside their text, all checks passed")
    return 0


def test_expected_yaml_matches_the_fixture_reports():
    errors.clear()
    assert main() == 0, errors


if __name__ == "__main__":
    sys.exit(main())
