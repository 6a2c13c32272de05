"""Strict integers for arguments and MCP params: ASCII digits only, and within what SQLite stores.

Python's int() takes `1_0`, ` 7 `, `١٢` (Arabic-Indic digits) and numbers of
any size; SQLite then overflows past 2^63 and the command died with an
internal error. Everything that names a number goes through here instead.
"""

from .errors import UsageError

INT64_MIN = -(2 ** 63)
INT64_MAX = 2 ** 63 - 1


def in_range(value: int, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum


def parse_int(value: "str | int", field: str, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> int:
    """`value` as an int in [minimum, maximum]; UsageError (one line, exit 2) otherwise."""
    if isinstance(value, bool):
        raise UsageError(f"{field} must be a whole number, not {value!r}")
    if isinstance(value, int):
        number = value
    else:
        text = str(value)
        digits = text[1:] if text[:1] == "-" else text
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 40:
            raise UsageError(f"{field} must be a whole number written with the digits 0-9, not {text[:60]!r}")
        number = int(text)
    if not minimum <= number <= maximum:
        raise UsageError(f"{field} must be between {minimum} and {maximum}, not {str(number)[:60]}")
    return number


def id_number(value: "str | int", field: str) -> "int | None":
    """The id in `12` / `#12` (1 to 2^63-1), or None when `value` is not written as a number at all."""
    if isinstance(value, int) and not isinstance(value, bool):
        return parse_int(value, field, 1)
    text = str(value).strip()
    raw = text[1:] if text.startswith("#") else text
    if not (raw.isascii() and raw.isdigit()):
        return None
    return parse_int(raw, field, 0 if raw.strip("0") == "" else 1)
