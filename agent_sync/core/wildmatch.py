"""Glob matching for lock specs: git wildmatch (WM_PATHNAME) semantics and lock overlap.

Paths and specs are repo-relative, '/'-separated, normalised (no '.'/'..', no empty
segments, no leading '/'). This module runs inside a hook on every tool call, so it
imports nothing and caches compiled patterns.

Patterns compile to a small NFA: a tuple of nodes, where node i either consumes one
character (moving to i + 1, or staying at i for the looping `*`/`**` nodes) or is an
epsilon node jumping forward. Matching runs the NFA over a set of states, so it is
O(len(pattern) * len(path)) with no backtracking. `may_overlap` searches the product of
two lock NFAs, which makes it exact rather than heuristic.

Deliberate differences from git, all in inputs git rejects outright: an unterminated
`[` (or one naming an unknown `[:class:]`) and a trailing lone backslash match
themselves literally, where git's wildmatch fails the whole match.
"""

# Node kinds. Consuming nodes: (_LIT, ch), (_ONE,), (_SET, negate, ranges),
# (_STAR,), (_ALL,). Epsilon node: (_EPS, forward_offsets).
_LIT = "lit"  # one exact character
_ONE = "one"  # `?`: any character but '/'
_SET = "set"  # `[...]`: ranges is a tuple of (lo, hi) chars; never matches '/'
_STAR = "star"  # `*`: loops on any character but '/'
_ALL = "all"  # whole-segment `**`: loops on any character
_EPS = "eps"  # no input consumed; continue at i + offset for each offset

_LOOPS = (_STAR, _ALL)

# POSIX classes, ASCII only (like git's sane_ctype), as character ranges.
_CLASSES = {
    "alnum": (("0", "9"), ("A", "Z"), ("a", "z")),
    "alpha": (("A", "Z"), ("a", "z")),
    "blank": (("\t", "\t"), (" ", " ")),
    "cntrl": (("\x00", "\x1f"), ("\x7f", "\x7f")),
    "digit": (("0", "9"),),
    "graph": (("!", "~"),),
    "lower": (("a", "z"),),
    "print": ((" ", "~"),),
    "punct": (("!", "/"), (":", "@"), ("[", "`"), ("{", "~")),
    "space": (("\t", "\r"), (" ", " ")),
    "upper": (("A", "Z"),),
    "xdigit": (("0", "9"), ("A", "F"), ("a", "f")),
}

_MAX_CODEPOINT = 0x10FFFF
_CACHE_LIMIT = 512
_nfa_cache: dict = {}
_common_cache: dict = {}


# ---------------------------------------------------------------------------
# Public API


def is_pattern(text: str) -> bool:
    """True when text contains glob syntax (* ? [) that wildmatch interprets.

    Any `*`, `?` or `[` counts, even escaped or unterminated ones; a backslash alone does
    not. A spec that is not a pattern is a plain path and is compared literally.
    """
    return "*" in text or "?" in text or "[" in text


def match(pattern: str, path: str) -> bool:
    """git wildmatch with WM_PATHNAME: does the whole of path match pattern?

    `*` and `?` never match '/'; `[...]` supports ranges, `!`/`^` negation, a leading
    literal `]`, backslash escapes and POSIX `[:class:]`es, and never matches '/'.
    `**` forming a whole segment spans directories: `**/x` is x at any depth (zero
    included), `a/**` is everything under a (not a itself), `a/**/b` includes a/b.
    Any other `**` acts like `*`. A backslash escapes the next character.
    """
    return _run(_cached_nfa(pattern, False), path)


def covers(lock: str, path: str) -> bool:
    """Does a lock spec cover a concrete file path?

    - plain path: covers exactly itself; with a trailing '/' (a directory lock such as
      'src/') it covers that path and everything under it;
    - pattern: covers what `match` accepts, plus (like git pathspecs) the path spelled
      exactly like the pattern, e.g. a Next.js file literally named 'app/[id]/page.tsx';
      with a trailing '/' it covers every path whose directory prefix it covers,
      so 'src/*/' covers 'src/a' and 'src/a/b.py'.
    """
    if not is_pattern(lock):  # fast path for the common case
        body, is_dir = _split_dir(lock)
        return path == lock or (is_dir and (path == body or path.startswith(lock)))
    return _run(_cached_nfa(lock, True), path)


def may_overlap(a: str, b: str) -> bool:
    """Could some normalised path be covered by both lock specs a and b?

    Exact for the `covers` semantics (so never a false negative): it searches the
    product of the two lock automata for a non-empty path with no empty segment and no
    leading or trailing '/'. Symmetric in a and b.
    """
    nfa_a, nfa_b = _cached_nfa(a, True), _cached_nfa(b, True)
    # A search state: (state in a, state in b, whether the path so far ends mid-segment).
    start = [(sa, sb, False) for sa in nfa_a.closure[0] for sb in nfa_b.closure[0]]
    seen = set(start)
    todo = list(start)
    while todo:
        sa, sb, mid_segment = todo.pop()
        if sa == nfa_a.accept or sb == nfa_b.accept:
            if sa == nfa_a.accept and sb == nfa_b.accept and mid_segment:
                return True
            continue  # the accept state consumes nothing further
        slash, other = _common_chars(nfa_a.nodes[sa], nfa_b.nodes[sb])
        # '/' may only follow a non-'/' character: no leading '/' and no '//'.
        moves = ([True] if other else []) + ([False] if slash and mid_segment else [])
        for next_mid in moves:
            for ta in nfa_a.closure[nfa_a.successor(sa)]:
                for tb in nfa_b.closure[nfa_b.successor(sb)]:
                    state = (ta, tb, next_mid)
                    if state not in seen:
                        seen.add(state)
                        todo.append(state)
    return False


# ---------------------------------------------------------------------------
# Automaton


class _Nfa:
    __slots__ = ("nodes", "accept", "closure")

    def __init__(self, nodes):
        self.nodes = tuple(nodes)
        self.accept = len(self.nodes)
        self.closure = _closures(self.nodes)

    def successor(self, state):
        """Where a consuming node goes after its character."""
        return state if self.nodes[state][0] in _LOOPS else state + 1


def _closures(nodes):
    """For each state, the consuming states (or accept) reachable without input.

    Epsilon edges only point forward, so one backward pass suffices.
    """
    n = len(nodes)
    closure = [frozenset((n,))] * (n + 1)
    for i in range(n - 1, -1, -1):
        kind = nodes[i][0]
        if kind == _EPS:
            closure[i] = frozenset().union(*(closure[i + off] for off in nodes[i][1]))
        elif kind in _LOOPS:
            closure[i] = closure[i + 1] | {i}
        else:
            closure[i] = frozenset((i,))
    return tuple(closure)


def _run(nfa, text):
    """Simulate the NFA on text; True when text is accepted as a whole."""
    states = nfa.closure[0]
    nodes, closure, accept = nfa.nodes, nfa.closure, nfa.accept
    for ch in text:
        following = set()
        for state in states:
            if state != accept and _accepts(nodes[state], ch):
                following |= closure[nfa.successor(state)]
        if not following:
            return False
        states = following
    return accept in states


def _accepts(node, ch):
    kind = node[0]
    if kind == _LIT:
        return ch == node[1]
    if kind == _ALL:
        return True
    if ch == "/":  # WM_PATHNAME: nothing else ever matches '/'
        return False
    if kind == _SET:
        return any(lo <= ch <= hi for lo, hi in node[2]) != node[1]
    return True  # _ONE, _STAR


def _common_chars(p, q):
    """Can consuming nodes p and q accept a common character: ('/' ?, other ?).

    Membership of every node is constant between consecutive breakpoints (range starts
    and ends + 1, and '/'), so testing one character at each breakpoint is exact.
    """
    key = (p, q)
    hit = _common_cache.get(key)
    if hit is None:
        points = {0, ord("/") + 1}
        points.update(_breakpoints(p))
        points.update(_breakpoints(q))
        other = any(
            _accepts(p, chr(pt)) and _accepts(q, chr(pt))
            for pt in points
            if pt != ord("/") and pt <= _MAX_CODEPOINT
        )
        hit = (_accepts(p, "/") and _accepts(q, "/"), other)
        _remember(_common_cache, key, hit)
    return hit


def _breakpoints(node):
    if node[0] == _LIT:
        return (ord(node[1]), ord(node[1]) + 1)
    if node[0] == _SET:
        return [pt for lo, hi in node[2] for pt in (ord(lo), ord(hi) + 1)]
    return ()


def _remember(cache, key, value):
    if len(cache) >= _CACHE_LIMIT:  # crude bound; hooks are short-lived processes
        cache.clear()
    cache[key] = value


def _cached_nfa(text, as_lock):
    key = (text, as_lock)
    nfa = _nfa_cache.get(key)
    if nfa is None:
        nfa = _Nfa(_lock_nodes(text) if as_lock else _parse(text))
        _remember(_nfa_cache, key, nfa)
    return nfa


def _lock_nodes(lock):
    """Nodes accepting exactly the paths `covers` says the lock covers."""
    body, is_dir = _split_dir(lock)
    nodes: list[tuple] = [(_LIT, ch) for ch in body]
    if is_pattern(lock):
        glob = _parse(body)
        if glob != nodes:
            # Either the literal spelling or the glob: jump over whichever is unused.
            nodes = [(_EPS, (1, len(nodes) + 2))] + nodes + [(_EPS, (len(glob) + 1,))] + glob
    if is_dir:
        # Optionally '/' and then anything: the directory itself or anything under it.
        nodes += [(_EPS, (1, 3)), (_LIT, "/"), (_ALL,)]
    return nodes


def _split_dir(lock):
    """Split a trailing '/' (escaped or not, in a pattern) off a directory lock."""
    if not lock.endswith("/"):
        return lock, False
    body = lock[:-1]
    if is_pattern(lock):
        backslashes = len(body) - len(body.rstrip("\\"))
        if backslashes % 2:  # the '/' was written as '\/'
            body = body[:-1]
    return body, True


# ---------------------------------------------------------------------------
# Pattern parsing


def _parse(pattern):
    """Compile a wildmatch pattern into a list of NFA nodes."""
    nodes: list[tuple] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            i = _parse_stars(pattern, i, nodes)
        elif ch == "?":
            nodes.append((_ONE,))
            i += 1
        elif ch == "[" and (bracket := _parse_bracket(pattern, i)) is not None:
            node, i = bracket
            nodes.append(node)
        elif ch == "\\" and i + 1 < n:
            nodes.append((_LIT, pattern[i + 1]))
            i += 2
        else:
            nodes.append((_LIT, ch))
            i += 1
    return nodes


def _parse_stars(pattern, i, nodes):
    """Append the nodes for the run of '*' at i; return the index after it."""
    n = len(pattern)
    end = i
    while end < n and pattern[end] == "*":
        end += 1
    at_segment_start = not nodes or nodes[-1] == (_LIT, "/")
    if end - i < 2 or not at_segment_start:
        nodes.append((_STAR,))
        return end
    if end == n:
        nodes.append((_ALL,))  # trailing '**': everything below
        return end
    slash_len = 1 if pattern[end] == "/" else 2 if pattern.startswith("\\/", end) else 0
    if not slash_len:
        nodes.append((_STAR,))  # '**x' is not a whole segment
        return end
    # '**/': zero directories (jump past), or anything ending in '/'.
    nodes.extend([(_EPS, (1, 3)), (_ALL,), (_LIT, "/")])
    return end + slash_len


def _parse_bracket(pattern, start):
    """Parse `[...]` at start into (node, index after it), or None when malformed."""
    n = len(pattern)
    i = start + 1
    negate = i < n and pattern[i] in "!^"
    if negate:
        i += 1
    ranges: list[tuple[str, str]] = []
    first = True
    while i < n:
        ch = pattern[i]
        if ch == "]" and not first:
            return (_SET, negate, tuple(ranges)), i + 1
        first = False
        if pattern.startswith("[:", i):
            close = pattern.find("]", i + 2)
            if close >= i + 3 and pattern[close - 1] == ":":
                members = _CLASSES.get(pattern[i + 2 : close - 1])
                if members is None:
                    return None
                ranges.extend(members)
                i = close + 1
                continue
            # No ':]' before the next ']': this '[' is an ordinary member.
        lo, i = _bracket_char(pattern, i)
        if lo is None:
            return None
        hi = lo
        if pattern.startswith("-", i) and i + 1 < n and pattern[i + 1] != "]":
            hi, i = _bracket_char(pattern, i + 1)
            if hi is None:
                return None
        ranges.append((lo, hi))  # lo > hi is an empty range, as in git
    return None


def _bracket_char(pattern, i):
    """One possibly escaped member character at i: (char, next index) or (None, i)."""
    if pattern[i] != "\\":
        return pattern[i], i + 1
    if i + 1 < len(pattern):
        return pattern[i + 1], i + 2
    return None, i
