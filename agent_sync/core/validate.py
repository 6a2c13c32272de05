"""Checks on text that agents hand us: valid UTF-8, bounded, single-line where it must be."""

from .errors import UsageError

LIMITS = {
    "name": 64,
    "role": 200,
    "title": 200,
    "description": 4000,
    "reason": 500,
    "message": 16000,
    "decision": 4000,
    "type": 40,
    "resource": 200,
}


def text(value: str | None, field: str, multiline: bool = False, allow_empty: bool = False) -> str:
    """`value` checked against the rules for `field`; raises UsageError."""
    if value is None:
        value = ""
    if any(0xD800 <= ord(ch) < 0xE000 for ch in value):
        raise UsageError(f"{field} is not valid UTF-8")
    if "\x00" in value:
        raise UsageError(f"{field} contains a NUL byte")
    if not multiline and any(ch in value for ch in "\n\r"):
        raise UsageError(f"{field} must be a single line")
    if not multiline and any(_is_control(ch) for ch in value):
        raise UsageError(f"{field} must not contain control characters or escape sequences")
    limit = LIMITS[field]
    if len(value) > limit:
        raise UsageError(f"{field} is {len(value)} characters long; the limit is {limit}")
    if not allow_empty and not value.strip():
        raise UsageError(f"{field} must not be empty")
    return value.strip() if not multiline else value


def key(value: str) -> str:
    """Case-insensitive comparison key for names, roles and titles."""
    return " ".join(value.split()).casefold()


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0


def argv_is_text(argv: list[str]) -> None:
    """Reject arguments that were not valid UTF-8 (decoded with surrogateescape)."""
    for position, value in enumerate(argv, 1):
        if any(0xD800 <= ord(ch) < 0xE000 for ch in value):
            raise UsageError(f"argument {position} is not valid UTF-8")
