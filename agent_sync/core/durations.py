"""Parsing and showing durations such as `90`, `30s`, `10m`, `2h`."""

from .errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_SECONDS = 366 * 86400


def parse_duration(text: str | float, bare_unit: str = "m") -> float:
    """Seconds in `text`: a positive number with an optional unit s/m/h/d.

    A bare number counts in `bare_unit` (minutes for --ttl, as the spec has it).
    """
    raw = str(text).strip().lower()
    unit = bare_unit
    if raw and raw[-1] in _UNITS:
        raw, unit = raw[:-1], raw[-1]
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"invalid duration {text!r}: use a number with an optional unit, e.g. 90, 30s, 10m, 2h") from None
    seconds = value * _UNITS[unit]
    if not seconds > 0 or seconds != seconds:
        raise UsageError(f"invalid duration {text!r}: it must be greater than zero")
    if seconds > MAX_SECONDS:
        raise UsageError(f"invalid duration {text!r}: at most 366 days")
    return seconds


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
