"""The fast path reads exactly what the authoritative loader reads, or declines.

`fastload.load` may only ever return the loader's own data (same types, same key order), and must
decline (None) whenever the loader would refuse the text. Tests call it with tiny pieces
(`chunk`) so that short texts are cut the way a large file is.
"""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shsync.format import fastload, yamlload
from shsync.format.yamlload import LoadError, load_by_events, load_text

ROOT = Path(__file__).resolve().parents[2]


def same(a: Any, b: Any) -> bool:
    """Equal, with equal types all the way down (True is not 1) and keys in the same order."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(map(same, a, b))
    if type(a) is float and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def agrees(text: str, chunk: int = 8) -> bool:
    """Checks the fast path against the loader on one text; True if it took the fast path."""
    fast = fastload.load(text, chunk=chunk)
    try:
        slow = load_by_events(text, "f.yaml").data
    except LoadError:
        assert fast is None, f"the loader refuses {text!r}, the fast path read {fast!r}"
        return False
    assert fast is None or same(fast, slow), f"{text!r}: fast {fast!r}, loader {slow!r}"
    return fast is not None


def corpus() -> list[str]:
    """Every YAML text the loader's own tests use, the hostile corpus and the examples."""
    texts = [p.read_text("utf-8", errors="replace")
             for p in [*sorted((ROOT / "tests" / "corpus").glob("*.yaml")),
                       *sorted((ROOT / "examples").glob("*.y*ml"))]]
    for source in ("tests/format/test_yamlload.py", "tests/test_fuzz.py"):
        tree = ast.parse((ROOT / source).read_text())
        texts += [n.value for n in ast.walk(tree)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value]
    return texts


def test_every_text_of_the_loaders_corpus_reads_the_same_or_is_declined():
    texts = corpus()
    taken = sum(agrees(text) for text in texts)
    assert len(texts) > 150
    assert taken > 20  # the comparison is not vacuous: plain files do take the fast path


@pytest.mark.parametrize("text", [
    "a: !foo x\n", "a: !!str 1\n", "a: &x 1\nb: *x\n", "a:\n  <<: {b: 1}\n",
    "a: 0x1F\n", "a: 0o17\n", "a: 0b101\n", "a: 1_000\n", "a: _1\n", "a: .Inf\n", "a: .NAN\n",
    "a: 1\n---\nb: 2\n", "a: 1\n...\n", "%YAML 1.2\n---\na: 1\n", "a:\tb\n",
    "a: \x01\n", "a: x\x85y\n", "a: 'x\u2028y'\n", "\ufeffa: 1\n",
    "a:\n" + "".join(" " * (i + 1) + "b:\n" for i in range(40)),
    "a: " + "- " * 100 + "x\n", "? a\n: b\n", "a: [[1]]\n", "a: {b: {c: 1}}\n",
    # found by an attacker's trial: every case below read differently, or was accepted where
    # the loader refuses it, or (the lone CRs) crashed the process when deep enough
    "a: .Nan\n", "a: +.INf\n", "a: .nAn\n", "a: 1._\n", "a: _.5\n", "#\rb: 1\na: 1\n",
    "a: [?x]\n", 'a: "\\ud83d\\ude00"\n', "a:\n- x\n- y\r--- z\n", "#\r]\na: 1\n",
    "a: {k\n : 1}\n", "a: [?]\n", "a: {a:}\n", "a: [a:]\n", "a: [:x]\n", "a: [|x]\n",
    "a: {>x}\n", "a:\r" + "".join(" " * i + "-\r" for i in range(50)), "a: [x]\n",
    "a: [ ]\n", "a: []]\n", "a: {}}\n", "a: ]\n",
])
def test_what_yaml_rs_reads_differently_or_could_crash_on_is_declined(text):
    assert not fastload.eligible(text)
    assert fastload.load(text) is None


def test_an_underscore_declines_only_where_it_could_be_in_a_number():
    for text in ("a: 1_000\n", "a: _1\n", "a: 1_\n", "a: 0.1_1\n", "a: -_1\n", "a: e_1\n",
                 "1_0: x\n", "a: '1_0'\n"):
        assert not fastload.eligible(text), text
    for text in ("first_name: x\n", "a: m00_1@x.example\n", "a: x1_0\n", "a: 1_0z\n"):
        assert fastload.eligible(text), text


def test_empty_flow_collections_are_the_only_ones_read_fast():
    # `shsync export` writes `clients: []` for a practice without clients
    for text in ("a: []\nb: {}\n", "a:\n- []\n- {}\n", "[]: a\n", "a: [] x\n", "a: []: b\n"):
        assert fastload.eligible(text), text
        agrees(text)
    assert fastload.load("a: []\nb: {}\n") == {"a": [], "b": {}}


@pytest.mark.parametrize("digits", [
    "1" * 4301, "0" * 4301, "0" * 4300 + "1", "-" + "0" * 4301, "0" * 2000 + "1" * 2301])
def test_an_integer_longer_than_the_loader_reads_is_left_to_it(digits):
    # yaml_rs drops leading zeros before it counts (a second attacker's trial found it)
    for text in (f"a: {digits}\n", f"a:\n- {digits}\n", f"a:\n  b: {digits}\n"):
        assert fastload.load(text) is None
        with pytest.raises(LoadError):
            load_by_events(text, "f.yaml")


def test_an_integer_of_4300_digits_is_read_by_both():
    text = "a: " + "1" * 4300 + "\n"
    assert fastload.load(text) == load_by_events(text, "f.yaml").data == {"a": int("1" * 4300)}


def test_a_piece_of_too_many_lines_is_left_to_the_loader(monkeypatch):
    # entries written `-` alone give no place to cut; yaml_rs's own tree of millions of them
    # peaked at ten times the loader's memory
    tiny = "a:\n" + "-\n" * 300
    assert fastload.load(tiny) == {"a": [None] * 300}
    monkeypatch.setattr(fastload, "MAX_PIECE_LINES", 100)
    assert fastload.load(tiny) is None


def test_a_piece_that_cannot_be_cut_small_is_left_to_the_loader(monkeypatch):
    indented = "clients:\n" + "  - x\n" * 200  # indented entries: no cut at column 0
    assert fastload.load(indented) == {"clients": ["x"] * 200}
    monkeypatch.setattr(fastload, "MAX_PIECE", 100)
    assert fastload.load(indented) is None
    at_column_0 = "clients:\n" + "- x\n" * 200
    assert fastload.load(at_column_0, chunk=40) == {"clients": ["x"] * 200}


def test_the_numbers_only_yaml_rs_reads_stay_strings_in_a_large_file():
    text = "version: 1\nhex: 0x1F\nclients:\n" + "- id: C-1\n" * 40_000
    assert len(text) >= yamlload.FAST_FROM
    assert load_text(text, "big.yaml").data["hex"] == "0x1F"


def test_a_duplicate_key_in_another_piece_is_left_to_the_loader():
    text = "a: 1\nlist:\n" + "- x\n" * 10 + "a: 2\n"
    assert fastload.load(text, chunk=4) is None
    with pytest.raises(LoadError) as info:
        load_text(text + "pad: " + "y" * yamlload.FAST_FROM + "\n", "f.yaml")
    assert [d.code for d in info.value.diagnostics] == ["yaml-duplicate-key"]


def test_a_long_list_is_read_in_many_pieces_and_joined_in_order():
    text = "version: 1\nclients:\n" + "".join(
        f"- id: C-{i}\n  access:\n  - m{i % 7}@x.example\n" for i in range(500)) + "z: end\n"
    read = fastload.load(text, chunk=64)
    assert read is not None and same(read, load_by_events(text, "f.yaml").data)
    assert [c["id"] for c in read["clients"]] == [f"C-{i}" for i in range(500)]


def test_recurring_texts_are_one_string_object_as_the_loader_keeps_them():
    read = fastload.load("a:\n- k: same text\n- k: same text\n", chunk=4)
    assert read is not None
    first, second = read["a"]
    assert next(iter(first)) is next(iter(second))
    assert first["k"] is second["k"]


def test_nesting_deeper_than_the_loader_allows_is_declined():
    deep = "a:\n" + "".join(" " * (i + 1) + "b:\n" for i in range(35))
    assert fastload.eligible(deep)
    assert fastload.load(deep) is None
    with pytest.raises(LoadError) as info:
        load_text(deep + "pad: " + "y" * yamlload.FAST_FROM + "\n", "f.yaml")
    assert "yaml-too-deep" in [d.code for d in info.value.diagnostics]


def test_a_hostile_nesting_that_would_overflow_yaml_rss_stack_is_refused_in_a_process():
    # yaml_rs has no depth limit of its own in block context and kills the process at about
    # 100,000 levels; the fast path must never hand such a text to it.
    code = ("import sys; from shsync.format.yamlload import load_text, LoadError\n"
            "text = 'a:\\n  ' + '- ' * 200_000 + 'x\\n'\n"
            "try:\n    load_text(text, 'f.yaml')\nexcept LoadError as e:\n"
            "    print(e.diagnostics[0].code)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "yaml-too-deep"), done.stderr


def test_without_yaml_rs_every_text_takes_the_loader(monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml_rs", None)
    assert fastload.load("a: 1\n") is None


def test_a_large_file_takes_the_fast_path(monkeypatch):
    taken: list[dict[str, Any] | None] = []
    real = fastload.load

    def recorded(text: str) -> dict[str, Any] | None:
        taken.append(real(text))
        return taken[-1]

    monkeypatch.setattr(fastload, "load", recorded)
    text = "version: 1\nclients:\n" + "- id: C-1\n" * 40_000
    assert load_text(text, "big.yaml").data["clients"][-1] == {"id": "C-1"}
    assert taken and taken[0] is not None


# Scalars and pieces of syntax where YAML parsers are known to part ways.
SCALARS = st.sampled_from([
    "1", "-1", "+1", "01", "1.5", "1.", ".5", "-.5", "1e3", "1E+3", "1.5e-3", "e3", "0.1",
    ".inf", "-.inf", "+.inf", ".nan", ".NaN", "~", "null", "Null", "NULL", "nUll", "true",
    "True", "TRUE", "tRue", "false", "False", "yes", "no", "on", "off", "y", "n", "1:20",
    "2024-01-01", "2024-01-01T10:00:00Z", "12:30:00", "0x", "0o", "-", "+", ".", "-0", "00",
    "1,000", "++1", "9" * 30, "a@b.example", "C-000001", "First Name", "x y  z", "é", "😀",
    "a#b", "a #b", "a: b", "a:b", "@x", "`x", "'q'", '"q"', "'it''s'", '"a\\"b"',
    '"\\x41\\u00e9\\t"', '"\\/"', '"\\e"', '"\\N"', '"\\_"', '"\\L"', '"\\P"', '"\\z"',
    '"a\n  b"', "'a\n  b'", "a\n  b", "|\n  x\n  y", ">\n  x\n\n  y", "|-\n  x", ">+\n  x\n",
    "|2\n   x", "[a, b]", "[]", "{}", "{a: 1}", "[a, {b: c}]", "", "''", '""', "\xa0x",
    "x\r\n  y", "k" * 1100, "- x", "[a,", "}", "a]",
])
KEYS = st.sampled_from(["id", "email", "access", "roles", "a b", "'q k'", '"d k"', "1", "true",
                        "null", "~", "x" * 1100, "é", "k:", "k #", "-k", "[k]", "{k}", ""])


def _item(key: str, value: str, indent: int) -> str:
    pad = " " * indent
    return f"{pad}{key}: {value}".replace("\n", "\n" + pad) + "\n"


@st.composite
def documents(draw: Any) -> str:
    """Block-style documents shaped like org files, with hazardous keys and scalars."""
    lines = []
    for key in draw(st.lists(KEYS, min_size=1, max_size=4)):
        shape = draw(st.sampled_from(["scalar", "list", "records", "indented"]))
        if shape == "scalar":
            lines.append(_item(key, draw(SCALARS), 0))
        elif shape == "list":
            lines.append(f"{key}:\n" + "".join(
                "- " + v.replace("\n", "\n  ") + "\n" for v in draw(st.lists(SCALARS, max_size=5))))
        else:
            pad = 2 if shape == "indented" else 0
            body = ""
            for _ in range(draw(st.integers(0, 5))):
                fields = draw(st.lists(st.tuples(KEYS, SCALARS), min_size=1, max_size=3))
                entry = "".join(_item(k, v, pad + 2) for k, v in fields)
                body += " " * pad + "- " + entry[pad + 2:]
            lines.append(f"{key}:\n{body}")
    return "".join(lines)


@settings(max_examples=1500, deadline=None)
@given(documents(), st.sampled_from([1, 16, 200, fastload.CHUNK]))
def test_org_shaped_documents_read_the_same_or_are_declined(text, chunk):
    agrees(text, chunk)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from([
    "version: 1\n", "clients:\n", "- ", "  - ", "id: C-1\n", "  id: C-1\n", "&a ", "*a ",
    "<<: ", "!x ", "[", "]", "{", "}", ", ", ": ", "- ", "'", '"', "#", "\n", "  ", "~", "no",
    "1e3", "0x10", "? ", "|\n", ">\n", "---\n", "...\n", "\r\n", "é", "\\", "key", "-1",
]), max_size=40).map("".join), st.sampled_from([1, 8, fastload.CHUNK]))
def test_token_soup_reads_the_same_or_is_declined(text, chunk):
    agrees(text, chunk)


def test_the_org_shaped_strategy_mostly_takes_the_fast_path():
    # So that the property above compares something: most generated documents are eligible.
    from hypothesis import find  # noqa: PLC0415 - used here only

    found = find(documents(), lambda text: agrees(text, 16) and text.count("\n- ") > 3)
    assert fastload.load(found, chunk=16) is not None


def test_the_benchmarks_files_take_the_fast_path(tmp_path):
    sys.path.insert(0, str(ROOT))
    from bench.generate import org, write  # noqa: PLC0415

    text = write(tmp_path / "org.yaml", org(20, 400)).read_text()
    assert agrees(text, 4096)
