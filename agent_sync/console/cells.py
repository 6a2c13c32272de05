"""Terminal cell widths: wide (CJK, emoji) characters take two cells, combining marks none."""

import unicodedata

ELLIPSIS = "\u2026"


def char_width(ch):
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text):
    return sum(char_width(ch) for ch in text)


def clip(text, cells, ellipsis=ELLIPSIS):
    """`text` cut to at most `cells` cells, ending in an ellipsis when cut."""
    if cells <= 0:
        return ""
    if width(text) <= cells:
        return text
    room, out, used = cells - width(ellipsis), [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > room:
            break
        out.append(ch)
        used += w
    return "".join(out) + ellipsis


def pad(text, cells):
    """`text` clipped or padded with spaces to exactly `cells` cells."""
    text = clip(text, cells)
    return text + " " * (cells - width(text))


def wrap(text, cells, indent=0):
    """Break `text` into lines of at most `cells` cells; later lines start after `indent` spaces."""
    if cells <= indent + 1:
        return [clip(text, cells)]
    lines, current, used, limit = [], [], 0, cells
    for ch in text:
        w = char_width(ch)
        if used + w > limit:
            lines.append("".join(current))
            current, used, limit = [" " * indent], indent, cells
        current.append(ch)
        used += w
    lines.append("".join(current))
    return lines
