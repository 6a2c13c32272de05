"""Tests for agent_sync.core.wildmatch: tables, plus hypothesis checks against a regex reference."""

import itertools
import os
import re
import sys

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from agent_sync.core.wildmatch import covers, is_pattern, match, may_overlap  # noqa: E402

# ---------------------------------------------------------------------------
# match: table

MATCH_CASES = [
    # literals and `?`
    ("foo", "foo", True),
    ("bar", "foo", False),
    ("", "foo", False),
    ("???", "foo", True),
    ("??", "foo", False),
    ("foo?bar", "foo/bar", False),
    # `*` stays within a segment
    ("*", "foo", True),
    ("f*", "foo", True),
    ("*f", "foo", False),
    ("*foo*", "foo", True),
    ("*ob*a*r*", "foobar", True),
    ("*ab", "aaaaaaabababab", True),
    ("*", "a/b", False),
    ("foo*bar", "foo/baz/bar", False),
    ("*/foo", "bar/baz/foo", False),
    ("*/*/*", "foo/bb/aa/rr", False),
    ("*X*i", "abcXdefXghi", True),
    ("*/*X*/*/*i", "ab/cXd/efXg/hi", True),
    ("-*-*-*-*-*-*-12-*-*-*-m-*-*-*", "-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1", True),
    ("-*-*-*-*-*-*-12-*-*-*-m-*-*-*", "-adobe-courier-bold-o-normal--12-120-75-75-X-70-iso8859-1", False),
    # `**` as a whole segment
    ("**", "a/b/c", True),
    ("**/foo", "foo", True),
    ("**/foo", "XXX/foo", True),
    ("**/foo", "bar/baz/foo", True),
    ("**/foo", "foobar", False),
    ("**/bar*", "foo/bar/baz", False),
    ("**/bar/*", "deep/foo/bar/baz", True),
    ("**/bar/*", "deep/foo/bar", False),
    ("**/bar/**", "deep/foo/bar/baz/x", True),
    ("**/bar/**", "deep/foo/bar", False),
    ("**/**/**", "foo/bb/aa/rr", True),
    ("**/*X*/**/*i", "ab/cXd/efXg/hi", True),
    ("**/*a*b*g*n*t", "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txt", True),
    ("**/*a*b*g*n*t", "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txtz", False),
    ("a/**", "a", False),
    ("a/**", "a/b", True),
    ("a/**", "a/b/c", True),
    ("a/**", "ab/c", False),
    ("a/**/b", "a/b", True),
    ("a/**/b", "a/x/b", True),
    ("a/**/b", "a/x/y/b", True),
    ("a/**/b", "a/xb", False),
    ("a/**/b", "a/x/yb", False),
    ("a/**/**/b", "a/b", True),
    ("src/**/*.py", "src/x.py", True),
    ("src/**/*.py", "src/a/b/x.py", True),
    ("src/**/*.py", "src/a/b/x.js", False),
    # `**` that is not a whole segment acts like `*`
    ("foo**bar", "foo/baz/bar", False),
    ("foo**bar", "foobazbar", True),
    ("**a", "x/a", False),
    ("**a", "xa", True),
    ("a**/b", "ax/b", True),
    ("a**/b", "a/x/b", False),
    ("***", "a/b", True),
    # bracket expressions
    ("*[al]?", "ball", True),
    ("[ten]", "ten", False),
    ("**[!te]", "ten", True),
    ("**[!ten]", "ten", False),
    ("t[a-g]n", "ten", True),
    ("t[!a-g]n", "ten", False),
    ("t[!a-g]n", "ton", True),
    ("t[^a-g]n", "ton", True),
    ("[!a]", "b", True),
    ("[!a]", "a", False),
    ("[!a]", "/", False),
    ("[^a]", "a", False),
    ("a[]]b", "a]b", True),
    ("[]]", "]", True),
    ("[]]", "a", False),
    ("a[]-]b", "a-b", True),
    ("a[]-]b", "a]b", True),
    ("a[]-]b", "aab", False),
    ("a[]a-]b", "aab", True),
    ("[!]-]", "]", False),
    ("[!]-]", "a", True),
    ("[a-]", "-", True),
    ("[a-]", "a", True),
    ("[a-]", "b", False),
    ("[-a]", "-", True),
    ("[z-a]", "m", False),
    ("foo[/]bar", "foo/bar", False),
    ("foo[^a-z]bar", "foo/bar", False),
    ("foo[!-0]bar", "foo/bar", False),
    ("[/-9]", "5", True),
    ("f[^eiu][^eiu][^eiu][^eiu][^eiu]r", "foo/bar", False),
    ("f[^eiu][^eiu][^eiu][^eiu][^eiu]r", "foo-bar", True),
    ("[\\]]", "]", True),
    ("[\\]]", "\\", False),
    ("[\\-_]", "-", True),
    ("[\\\\-^]", "]", True),
    ("[\\\\]", "\\", True),
    ("[[:alpha:]]", "a", True),
    ("[[:alpha:]]", "1", False),
    ("[[:digit:]]", "7", True),
    ("[[:digit:]]", "x", False),
    ("[[:alnum:]][[:alnum:]]", "a1", True),
    ("[[:alnum:]]", "_", False),
    ("[[:space:]]", " ", True),
    ("[[:space:]]", "x", False),
    ("[[:upper:]]", "Q", True),
    ("[[:upper:]]", "q", False),
    ("[[:lower:]]", "q", True),
    ("[[:punct:]]", "!", True),
    ("[[:punct:]]", "a", False),
    ("[[:xdigit:]]", "f", True),
    ("[[:xdigit:]]", "g", False),
    ("[[:digit:][:upper:][:space:]]", "A", True),
    ("[[:digit:][:upper:][:space:]]", "a", False),
    ("[a-c[:digit:]x-z]", "5", True),
    ("[a-c[:digit:]x-z]", "y", True),
    ("[a-c[:digit:]x-z]", "q", False),
    ("[![:digit:]]", "5", False),
    ("[[:a]", "a", True),  # no ':]' before ']': '[' is an ordinary member
    ("[[:a]", ":", True),
    # escapes
    ("foo\\*", "foo*", True),
    ("foo\\*", "foox", False),
    ("foo\\*bar", "foobar", False),
    ("f\\\\oo", "f\\oo", True),
    ("\\[ab]", "[ab]", True),
    ("\\[ab]", "a", False),
    ("\\?", "?", True),
    ("\\?", "x", False),
    ("a\\/**", "a/b/c", True),
    # malformed input matches literally (git would refuse to match at all)
    ("a[b", "a[b", True),
    ("[", "[", True),
    ("[!]", "[!]", True),
    ("[[:nope:]]", "[o]", True),  # unknown class: outer '[' literal, then the set '[:nope:]'
    ("[[:nope:]]", "n", False),
    ("a\\", "a\\", True),
]


@pytest.mark.parametrize("pattern, path, expected", MATCH_CASES)
def test_match_table(pattern, path, expected):
    assert match(pattern, path) is expected


def test_match_table_is_big_enough():
    assert len(MATCH_CASES) >= 50


@pytest.mark.parametrize(
    "text, expected",
    [
        ("src/api/x.py", False),
        ("src/api/", False),
        ("a\\b", False),
        ("src/*.py", True),
        ("src/?.py", True),
        ("src/[ab].py", True),
        ("src/**", True),
        ("a\\*b", True),
        ("", False),
    ],
)
def test_is_pattern(text, expected):
    assert is_pattern(text) is expected


def test_adversarial_pattern_is_not_exponential():
    # No timing assertion: without an automaton this would take effectively forever.
    assert match("*a" * 20 + "b", "a" * 40) is False
    assert match("*a" * 20 + "b", "a" * 40 + "b") is True
    assert match("**/" * 15 + "x", "a/" * 30 + "y") is False
    assert may_overlap("*a" * 12 + "b", "*a" * 12 + "c") is False


# ---------------------------------------------------------------------------
# covers

COVERS_CASES = [
    # plain path: only itself
    ("src/a.py", "src/a.py", True),
    ("src/a.py", "src/a.pyc", False),
    ("src/api", "src/api/x.py", False),
    ("src/api", "src/api", True),
    ("a\\b", "a\\b", True),  # backslash in a plain path is just a character
    # directory lock: itself and everything under it
    ("src/api/", "src/api", True),
    ("src/api/", "src/api/x.py", True),
    ("src/api/", "src/api/v1/x.py", True),
    ("src/api/", "src/apix/x.py", False),
    ("src/api/", "src/ap", False),
    ("src/", "src", True),
    ("src/", "lib/src/x", False),
    # pattern locks
    ("src/api/**", "src/api/x/y", True),
    ("src/api/**", "src/api", False),
    ("src/*.py", "src/a.py", True),
    ("src/*.py", "src/sub/a.py", False),
    ("**/test_*.py", "test_a.py", True),
    ("**/test_*.py", "x/y/test_a.py", True),
    ("src/[ab].py", "src/a.py", True),
    # a pattern also covers its own literal spelling (Next.js-style route dirs)
    ("app/[id]/page.tsx", "app/[id]/page.tsx", True),
    ("app/[id]/page.tsx", "app/i/page.tsx", True),
    ("app/[id]/page.tsx", "app/x/page.tsx", False),
    # pattern directory locks
    ("src/*/", "src/a", True),
    ("src/*/", "src/a/b/c.py", True),
    ("src/*/", "src", False),
    ("app/[id]/", "app/[id]/page.tsx", True),
    ("**/", "anything/at/all", True),
]


@pytest.mark.parametrize("lock, path, expected", COVERS_CASES)
def test_covers_table(lock, path, expected):
    assert covers(lock, path) is expected


# ---------------------------------------------------------------------------
# may_overlap

OVERLAP_CASES = [
    # two plain paths
    ("src/a.py", "src/a.py", True),
    ("src/a.py", "src/b.py", False),
    ("src/a", "src/a/b", False),
    # plain vs pattern
    ("src/a.py", "src/*.py", True),
    ("src/a.js", "src/*.py", False),
    ("src/a/b.py", "src/*.py", False),
    ("x/y/test_a.py", "**/test_*.py", True),
    ("app/[id]/page.tsx", "app/*/page.tsx", True),
    # directory locks
    ("src/", "src/api/x.py", True),
    ("src/", "src", True),
    ("src/", "srcx/a.py", False),
    ("src/", "src/api/", True),
    ("src/api/", "src/web/", False),
    ("src/", "src/**", True),
    ("src/", "*/x.py", True),
    ("src/", "lib/**", False),
    ("src/", "**", True),
    ("src/*/", "src/a/b.py", True),
    ("src/*/", "lib/a/b.py", False),
    # pattern vs pattern
    ("src/*.py", "src/*.js", False),
    ("src/*.py", "src/a*", True),
    ("src/api/**", "src/web/**", False),
    ("src/**", "**/test_*.py", True),
    ("a/*/c", "a/b/*", True),
    ("docs/*.md", "src/**", False),
    ("src/**", "src/**/*.py", True),
    ("*.py", "**/*.py", True),
    ("*.py", "src/*.py", False),
    ("src/*", "src/*/x", False),
    ("src/**", "src", False),
    ("a/**/b", "a/b", True),
    ("**/x", "x", True),
    ("[ab]", "[bc]", True),
    ("[ab]", "[cd]", False),
    ("[!a]", "a", False),
    ("[!a]", "?", True),
    ("[[:digit:]]", "[[:alpha:]]", False),
    ("[/-9]", "?", True),  # the range's only start is '/', which neither may match
    ("[/-/]", "?", False),
    ("?", "ab", False),
    ("*", "*/*", False),
    ("**", "a/b", True),
    ("a\\*", "a*", True),
    ("", "a", False),
    ("", "", False),  # the empty path is not a path
    ("/", "**", False),  # neither is one starting with '/'
]


@pytest.mark.parametrize("a, b, expected", OVERLAP_CASES)
def test_may_overlap_table(a, b, expected):
    assert may_overlap(a, b) is expected
    assert may_overlap(b, a) is expected


def test_may_overlap_table_is_big_enough():
    assert len(OVERLAP_CASES) >= 30
    assert sum(1 for case in OVERLAP_CASES if not case[2]) >= 10


# ---------------------------------------------------------------------------
# Reference implementation for the property tests: a direct translation to `re`,
# written separately from the module's automaton.


def ref_regex(pattern):
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            j = i
            while j < n and pattern[j] == "*":
                j += 1
            whole = j - i >= 2 and (i == 0 or pattern[i - 1] == "/")
            if whole and j == n:
                out.append(".*")
            elif whole and pattern[j] == "/":
                out.append("(?:.*/)?")
                j += 1
            else:
                out.append("[^/]*")
            i = j
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[":  # the generators only produce simple, closed brackets
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            if body[0] in "!^":
                out.append("[^/" + re.escape(body[1:]) + "]")
            else:
                out.append("(?!/)[" + re.escape(body) + "]")
            i = end
        elif c == "\\":
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def ref_match(pattern, path):
    return ref_regex(pattern).fullmatch(path) is not None


def ref_covers(spec, path):
    """covers() spelled out: literal spelling or glob, applied to a directory prefix for dir locks."""
    if spec.endswith("/"):
        body = spec[:-1]
        parts = path.split("/")
        candidates = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    else:
        body, candidates = spec, [path]
    glob = any(ch in body for ch in "*?[")
    return any(cand == body or (glob and ref_match(body, cand)) for cand in candidates)


def normalise(path):
    return "/".join(part for part in path.split("/") if part)


PATTERN_ATOMS = ["a", "b", "/", "*", "?", "**/", "**", "[ab]", "[!a]", "\\*"]
PATH_ATOMS = ["a", "b", "c", "/", "*"]

patterns = st.lists(st.sampled_from(PATTERN_ATOMS), max_size=8).map("".join)
paths = st.lists(st.sampled_from(PATH_ATOMS), min_size=1, max_size=10).map("".join).map(normalise)


@settings(max_examples=1000, deadline=None)
@given(patterns, paths)
def test_match_agrees_with_regex_reference(pattern, path):
    assume(path)
    assert match(pattern, path) == ref_match(pattern, path)


SPEC_ATOMS = ["a", "b", "ab", "x.py", "/", "*", "**", "**/", "?", "*.py", "[ab]", "[!a]"]
SEGMENTS = ["a", "b", "ab", "x.py"]
ALL_PATHS = [
    "/".join(parts) for depth in (1, 2, 3) for parts in itertools.product(SEGMENTS, repeat=depth)
]

SEGMENT_GLOBS = ["a", "b", "ab", "x.py", "*", "**", "?", "*.py", "[ab]", "[!a]", "a*", "*b", "?b"]

# Free-form specs, plus specs built segment by segment, which hit the enumerated paths more.
spec_bodies = st.one_of(
    st.lists(st.sampled_from(SPEC_ATOMS), min_size=1, max_size=5).map("".join),
    st.lists(st.sampled_from(SEGMENT_GLOBS), min_size=1, max_size=3).map("/".join),
)
specs = st.tuples(spec_bodies, st.booleans()).map(
    lambda body_dir: body_dir[0].rstrip("/") + ("/" if body_dir[1] else "")
)


@settings(max_examples=1000, deadline=None)
@given(specs, specs)
def test_may_overlap_has_no_false_negatives(a, b):
    covered_a = {p for p in ALL_PATHS if ref_covers(a, p)}
    covered_b = {p for p in ALL_PATHS if ref_covers(b, p)}
    # covers() itself must agree with the reference on every enumerated path.
    assert covered_a == {p for p in ALL_PATHS if covers(a, p)}
    assert covered_b == {p for p in ALL_PATHS if covers(b, p)}
    overlap = may_overlap(a, b)
    assert overlap == may_overlap(b, a)
    if covered_a & covered_b:
        assert overlap, sorted(covered_a & covered_b)[:3]
