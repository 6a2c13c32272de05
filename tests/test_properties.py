"""Property tests for the pure helpers: durations and repository-relative paths."""

import math
import os
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from agent_sync.core.durations import MAX_SECONDS, parse_duration  # noqa: E402
from agent_sync.core.errors import UsageError  # noqa: E402
from agent_sync.core.repo import relative_path  # noqa: E402

SETTINGS = settings(max_examples=300, deadline=None)
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# ---------------------------------------------------------------------------
# Durations


@st.composite
def positive_durations(draw):
    unit = draw(st.sampled_from(sorted(UNITS)))
    top = MAX_SECONDS / UNITS[unit]
    number = draw(st.one_of(
        st.integers(min_value=1, max_value=int(top)).map(str),
        st.floats(min_value=1e-6, max_value=top, allow_nan=False, allow_infinity=False).map(lambda x: f"{x:.6f}"),
    ))
    spelled = draw(st.sampled_from([unit, unit.upper()]))
    return number + spelled, float(number) * UNITS[unit]


@SETTINGS
@given(positive_durations())
def test_positive_duration_with_unit_round_trips(case):
    text, seconds = case
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-12)
    assert parse_duration(text, bare_unit="s") == pytest.approx(seconds, rel=1e-12)  # the unit wins


@SETTINGS
@given(st.integers(min_value=1, max_value=MAX_SECONDS // 60))
def test_bare_number_is_minutes(n):
    assert parse_duration(str(n), bare_unit="m") == n * 60
    assert parse_duration(str(n)) == n * 60
    assert parse_duration(str(n), bare_unit="s") == n


@SETTINGS
@given(st.one_of(st.integers(max_value=0), st.floats(max_value=0, allow_nan=False, allow_infinity=False)),
       st.sampled_from(["", "s", "m", "h", "d"]))
def test_zero_and_negative_are_refused(number, unit):
    with pytest.raises(UsageError):
        parse_duration(f"{number}{unit}")


@SETTINGS
@given(st.text(alphabet=st.characters(blacklist_categories=("Nd", "Cs")), max_size=12),
       st.sampled_from(["", "s", "m", "h", "d"]))
def test_text_without_digits_is_refused(garbage, unit):
    # Without a digit no duration can be spelled; inf and nan spellings are refused too.
    with pytest.raises(UsageError):
        parse_duration(garbage + unit)


@SETTINGS
@given(st.text(max_size=10), st.sampled_from(["", "s", "m", "h", "d"]))
def test_only_ascii_digits_with_one_optional_decimal_point_parse(text, unit):
    # The grammar is [0-9]+(.[0-9]+)?[smhd]? (the unit in either case) and nothing else: float() takes far more.
    given = text + unit
    body, unit = (text, unit) if unit or text[-1:].lower() not in UNITS else (text[:-1], text[-1].lower())
    whole, _, part = body.partition(".")
    spelled = all(c in "0123456789" for c in whole + part) and whole and (part or "." not in body)
    try:
        parse_duration(given, bare_unit="s")
    except UsageError:
        assert not spelled or float(body) == 0 or float(body) * UNITS.get(unit, 1) > MAX_SECONDS
    else:
        assert spelled


@pytest.mark.parametrize("text", ["1_0", "1_000s", "١٢", "１０m", "\u0665", " 5", "5 ", "1e3", "1.", ".5", "+5",
                                  "0.001", "10 m"])
def test_spellings_float_takes_but_a_duration_does_not(text):
    with pytest.raises(UsageError):
        parse_duration(text, minimum=1)


@pytest.mark.parametrize("text", ["", " ", "m", "1x", "1.2.3m", "--5", "1e", "0", "-0.0", "nan",
                                  "inf", "-inf", "1e400", "367d", "1e9s", "0x10"])
def test_bad_durations(text):
    with pytest.raises(UsageError):
        parse_duration(text)


@SETTINGS
@given(st.floats(min_value=MAX_SECONDS + 1, max_value=1e300, allow_nan=False))
def test_too_long_is_refused(seconds):
    with pytest.raises(UsageError):
        parse_duration(f"{seconds:f}s")


def test_the_limit_itself_is_accepted():
    assert parse_duration("366d") == MAX_SECONDS
    assert math.isclose(parse_duration("0.5s"), 0.5)


# ---------------------------------------------------------------------------
# Repository-relative paths

SEGMENTS = st.sampled_from([".", "..", "a", "b", "sub", "dir", "x.py", "with space", "ünï", ".hidden", "..."])
CWDS = ["", "sub", "sub/dir", "a"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    base = tmp_path_factory.mktemp("props")
    root = base / "repo"
    (root / "sub" / "dir").mkdir(parents=True)
    (root / "a").mkdir()
    (root / "sub" / "x.py").write_text("")
    return os.path.realpath(root)


def inside(path, root):
    return path == root or path.startswith(root + os.sep)


@SETTINGS
@given(segments=st.lists(SEGMENTS, min_size=1, max_size=8), cwd_rel=st.sampled_from(CWDS),
       absolute=st.booleans(), trailing=st.booleans())
def test_relative_path_normalises_or_refuses(tree, segments, cwd_rel, absolute, trailing):
    root = tree
    cwd = os.path.join(root, cwd_rel) if cwd_rel else root
    raw = "/".join(segments) + ("/" if trailing else "")
    if absolute:
        raw = os.path.join(cwd, raw)
    expected = os.path.normpath(os.path.join(cwd, raw))  # no symlinks in this tree
    if not inside(expected, root):
        with pytest.raises(UsageError):
            relative_path(root, raw, cwd)
        return
    rel = relative_path(root, raw, cwd)
    assert "\\" not in rel and not rel.startswith("/") and not rel.endswith("/")
    if rel == "":
        assert expected == root
        return
    parts = rel.split("/")
    assert all(part not in ("", ".", "..") for part in parts), rel
    assert os.path.join(root, *parts) == expected


@SETTINGS
@given(segments=st.lists(SEGMENTS, min_size=1, max_size=6))
def test_relative_path_ignores_a_different_cwd_for_absolute_input(tree, segments):
    raw = os.path.join(tree, *segments)
    try:
        from_root = relative_path(tree, raw, tree)
    except UsageError:
        with pytest.raises(UsageError):
            relative_path(tree, raw, os.path.join(tree, "sub", "dir"))
        return
    assert relative_path(tree, raw, os.path.join(tree, "sub", "dir")) == from_root


@pytest.mark.parametrize("raw", ["", "a\x00b"])
def test_relative_path_refuses_empty_and_nul(tree, raw):
    with pytest.raises(UsageError):
        relative_path(tree, raw, tree)


# ---------------------------------------------------------------------------
# Hook answers: fastjson.dumps writes what json.dumps(ensure_ascii=False) writes

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_hook_json_answers_match_the_json_module(value):
    import json

    from agent_sync.core import fastjson

    assert fastjson.dumps(value) == json.dumps(value, ensure_ascii=False)
    assert fastjson.loads(fastjson.dumps(value)) == value or value != value


# ---------------------------------------------------------------------------
# Whole numbers (core/numbers.py): ASCII digits, within what SQLite stores

from agent_sync.core.numbers import INT64_MAX, INT64_MIN, id_number, parse_int  # noqa: E402


@SETTINGS
@given(st.integers())
def test_integers_parse_exactly_within_64_bits_and_are_refused_beyond(n):
    if INT64_MIN <= n <= INT64_MAX:
        assert parse_int(str(n), "n") == n and parse_int(n, "n") == n
    else:
        with pytest.raises(UsageError):
            parse_int(str(n), "n")
        with pytest.raises(UsageError):
            parse_int(n, "n")


@SETTINGS
@given(st.text(max_size=25))
def test_integer_text_is_ascii_digits_or_refused(text):
    digits = text[1:] if text.startswith("-") else text
    plain = bool(digits) and all(c in "0123456789" for c in digits)
    try:
        value = parse_int(text, "n")
    except UsageError:
        assert not plain or not INT64_MIN <= int(text) <= INT64_MAX
    else:
        assert plain and value == int(text)


@SETTINGS
@given(st.integers(min_value=0), st.booleans())
def test_ids_are_positive_64_bit_numbers(n, hashed):
    text = ("#" if hashed else "") + str(n)
    if n <= INT64_MAX:
        assert id_number(text, "id") == n
    else:
        with pytest.raises(UsageError):
            id_number(text, "id")


@pytest.mark.parametrize("text", ["title", "١٢", "1_0", "12a", "", "#"])
def test_what_is_not_written_as_a_number_is_a_title(text):
    assert id_number(text, "id") is None


# ---------------------------------------------------------------------------
# Shell words: our quote is shlex.quote's rule without importing shlex (and re)


@SETTINGS
@given(st.one_of(st.text(), st.text(alphabet="abz_AZ09@%+=:,./-' \"$`\\\n\t*?[]{}~#!;&|<>()é\u00a0\u0660")))
def test_quote_is_shlex_quote(text):
    import shlex

    from agent_sync.core.program import quote

    assert quote(text) == shlex.quote(text)
