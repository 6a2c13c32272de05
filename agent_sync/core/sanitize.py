"""Making agent-written text safe for terminals and for other agents' context.

The untrusted frame: agent-written text reaches another agent's context only
between FRAME_OPEN and FRAME_CLOSE, escaped by `escape_markup`. Two rules make
the frame hold:
- Agent text can never produce either marker. After escaping, every `&` in it
  starts `&amp;`, `&lt;` or `&gt;`, and both markers hold an `&` followed by
  something else (`&a` of `&agent`, `&/`).
- The markers contain no `<` or `>`, so they arrive intact where an agent
  HTML-escapes hook context (Gemini CLI turns `<` into `&lt;`).
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


def escape_markup(text: str) -> str:
    """Neutralise anything that could open or close a frame, or read as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inline(text: str, limit: int | None = None) -> str:
    """One-line, control-free, markup-escaped text for an agent's context."""
    clean = escape_markup(strip_controls(text))
    if limit is not None and len(clean) > limit:
        clean = clean[: max(0, limit - 1)] + "…"
    return clean


def frame(body: str) -> str:
    """Wrap text in the untrusted frame; the body must already be escaped."""
    return f"{FRAME_OPEN}\n{body.rstrip()}\n{FRAME_CLOSE}"


def one_line(text: str | None, limit: int = 200) -> str:
    """Control-free single line for terminals and stderr, cut to `limit`."""
    clean = strip_controls(text or "")
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"
