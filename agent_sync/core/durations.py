"""Parsing and showing durations such as `90`, `30s`, `10m`, `2h`."""

from .errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_SECONDS = 366 * 86400


def parse_duration(text: str | float, bare_unit: str = "m", minimum: float = 0.0) -> float:
    """Seconds in `text`: digits 0-9 with an optional decimal part and an optional unit s/m/h/d.

    A bare number counts in `bare_unit` (minutes for --ttl, as the spec has it).
    Nothing else is a duration: not '', ' 5', '1_0', '1e3', 'inf', nor digits of
    other scripts, which float() would all take. The result must be greater than
    zero and at least `minimum` seconds.
    """
    raw = str(text).lower()
    unit = bare_unit
    if raw and raw[-1] in _UNITS:
        raw, unit = raw[:-1], raw[-1]
    whole, _, part = raw.partition(".")
    if not (_digits(whole) and (_digits(part) or "." not in raw)) or len(raw) > 30:
        raise UsageError(f"invalid duration {str(text)[:60]!r}: use digits with an optional unit, "
                         "e.g. 90, 30s, 10m, 2h, 1.5h")
    seconds = float(raw) * _UNITS[unit]
    if not seconds > 0:
        raise UsageError(f"invalid duration {text!r}: it must be greater than zero")
    if seconds < minimum:
        raise UsageError(f"invalid duration {text!r}: at least {format_duration(minimum)}")
    if seconds > MAX_SECONDS:
        raise UsageError(f"invalid duration {text!r}: at most 366 days")
    return seconds


def _digits(text: str) -> bool:
    return bool(text) and text.isascii() and text.isdigit()


def format_duration(seconds: float) -> str:
    """Short human form: 45s, 12m, 3h05m, 2d."""
    seconds = int(max(0, seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        hours, rest = divmod(seconds, 3600)
        return f"{hours}h{rest // 60:02d}m"
    return f"{seconds // 86400}d"
