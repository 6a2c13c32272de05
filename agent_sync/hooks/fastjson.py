"""JSON decoding without importing the `json` package (which pulls in `re`).

The C scanner behind json.loads is used directly; any failure means "not JSON".
"""

import _json

_WS = " \t\n\r"


class _Options:
    strict = False
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float
    memo = {}


_scan = _json.make_scanner(_Options())


def loads(text):
    """The decoded value, or None when text is not one complete JSON document."""
    if not isinstance(text, str):
        return None
    start = len(text) - len(text.lstrip(_WS))
    try:
        value, end = _scan(text, start)
    except (StopIteration, ValueError, RecursionError, SystemError):  # the C scanner fails in these ways
        return None
    if text[end:].strip(_WS):
        return None
    return value
