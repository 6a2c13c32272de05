"""Making agent-written text safe for terminals and for other agents' context.

Agent-written text reaches another agent's context in one of two forms:
- a block between FRAME_OPEN and FRAME_CLOSE (`frame`), for lists and messages;
- a value in our own sentence, in double quotes (`quote`), for one-line answers
  and errors, so it cannot read as our words.
Either way it first goes through `defuse`, and the frame holds because:
- Agent text can never produce either marker. Both contain the frame word
  (`agent-sync-state`) right after an `&`; in text whose folded form holds that
  word, `defuse` escapes every `&`, `<` and `>`, and other text cannot hold a
  marker at all. Nothing else is escaped: `<`, `>` and `&` show as written, in
  terminals and in agents' context alike (no HTML entities in ordinary text).
- The markers contain no `<` or `>`, so they arrive intact where an agent
  HTML-escapes hook context (Gemini CLI turns `<` into `&lt;`), and that
  escaping cannot forge one either (it yields `&lt;`/`&gt;`, never `&a` or `&/`).
"""

FRAME_OPEN = "[&agent-sync-state trust=untrusted]"
FRAME_CLOSE = "[&/agent-sync-state]"


def strip_controls(text: str, keep_newlines: bool = False) -> str:
    """Remove ANSI/VT escape sequences and C0/C1 control characters.

    Tabs become spaces; newlines become ' / ' unless kept.
    """
    if text.isprintable():
        return text  # nothing below applies to printable text: the common case, at C speed
    out = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        code = ord(ch)
        if ch == "\x1b" or ch == "\x9b":
            i = _skip_escape(text, i)
            continue
        if ch == "\n":
            out.append("\n" if keep_newlines else " / ")
        elif ch in "\t\r":
            out.append(" ")
        elif code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
            pass
        elif 0xD800 <= code < 0xE000 or code in (0x2028, 0x2029, 0x2066, 0x2067, 0x2068, 0x2069) or 0x202A <= code <= 0x202E:
            out.append("\ufffd")  # lone surrogates and bidi overrides: visible, harmless
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _skip_escape(text: str, i: int) -> int:
    """Index just past the escape sequence starting at text[i]."""
    n = len(text)
    if text[i] == "\x9b":
        return _skip_csi(text, i + 1)
    if i + 1 >= n:
        return n
    nxt = text[i + 1]
    if nxt == "[":
        return _skip_csi(text, i + 2)
    if nxt in "]PX^_":  # OSC, DCS, SOS, PM, APC: run to BEL or ST
        j = i + 2
        while j < n:
            if text[j] == "\x07":
                return j + 1
            if text[j] == "\x1b" and j + 1 < n and text[j + 1] == "\\":
                return j + 2
            j += 1
        return n
    return i + 2


def _skip_csi(text: str, j: int) -> int:
    n = len(text)
    while j < n and not ("\x40" <= text[j] <= "\x7e"):
        j += 1
    return j + 1


FRAME_WORD = "agent-sync-state"
# In text that spells the frame word: &, < and >, with the full-width and small forms NFKC folds into them.
_ESCAPES = (("&", "&amp;"), ("\uff06", "&amp;"), ("\ufe60", "&amp;"), ("<", "&lt;"), ("\uff1c", "&lt;"),
            ("\ufe64", "&lt;"), (">", "&gt;"), ("\uff1e", "&gt;"), ("\ufe65", "&gt;"))


def looks_like_frame(text: str) -> bool:
    """Could `text` be read as (part of) a frame marker? Case, width, look-alikes and invisibles ignored."""
    if text.isascii():
        return FRAME_WORD in text.lower()
    from .names import skeleton

    return FRAME_WORD in skeleton(text)


def defuse(text: str) -> str:
    """`text`, unable to produce a frame marker; unchanged unless it spells the frame word.

    Text that does spell it (a forged marker, today's or the tag-shaped one of
    earlier releases) has its `&`, `<` and `>` escaped; nothing else ever is.
    """
    if not looks_like_frame(text):
        return text
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text


escape_markup = defuse  # the old name: it no longer HTML-escapes anything


def inline(text: str, limit: int | None = None) -> str:
    """One-line, control-free, defused text for a frame."""
    clean = defuse(strip_controls(text))
    if limit is not None and len(clean) > limit:
        clean = clean[: max(0, limit - 1)] + "…"
    return clean


_BARE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_*?[]!#")


def quote(text: str | None, limit: int = 200) -> str:
    """Agent text as a value inside our own sentence: one line, defused, and in double quotes
    (`"` and `\\` escaped) unless it is a single word of plain characters, which cannot read as a sentence."""
    clean = inline(text or "", limit)
    if clean and set(clean) <= _BARE:
        return clean
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def frame(body: str) -> str:
    """Wrap text in the untrusted frame; the body must already be escaped."""
    return f"{FRAME_OPEN}\n{body.rstrip()}\n{FRAME_CLOSE}"


def one_line(text: str | None, limit: int = 200) -> str:
    """Control-free single line for terminals and stderr, cut to `limit`."""
    clean = strip_controls(text or "")
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def field(text: str | None, limit: int = 120) -> str:
    """A field inside a frame: one line, no controls, unable to forge a marker; nothing else changed."""
    return defuse(one_line(text or "", limit))
