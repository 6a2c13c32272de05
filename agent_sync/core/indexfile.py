"""The lock index's text, without `os`: its format, its parser, and the question hooks ask of it.

lockindex.py writes and reads the file; the pre-tool hook's os-free answer (quickstamp.edit_allowed)
reads it as well, so the format and the rule "could a lock here block this?" are written once, here.

The file: HEADER, then `ci<TAB>0` or `ci<TAB>1` (keys folded for a case-insensitive filesystem), then
one line per live lock, `expires_at<TAB>kind<TAB>mode<TAB>owner<TAB>key`, or ANY, which every path
matches; every line ends with a newline.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from . import lockspec

    Entry = tuple[float, str, str, str, str] | str  # (expires_at, kind, mode, owner, key), or ANY

NAME = "locks.idx"
HEADER = "agent-sync lock index 1"
ANY = "*"  # a line that matches every path: sends the caller to the database


def line(expires_at: float, kind: str, mode: str, owner: str, key: str) -> str:
    """One lock's line; ANY when a field could not be read back (a tab or newline in it)."""
    fields = (kind, mode, owner, key)
    if any("\t" in f or "\n" in f for f in fields):
        return ANY
    return f"{expires_at!r}\t{kind}\t{mode}\t{owner}\t{key}"


def parse(text: str) -> "tuple[bool, list[Entry]] | None":
    """(case_insensitive, entries) of the file's text; None when it is not a whole index."""
    lines = text.split("\n")
    if len(lines) < 3 or lines[0] != HEADER or lines[1] not in ("ci\t0", "ci\t1") or not text.endswith("\n"):
        return None
    entries: "list[Entry]" = []
    for text_line in lines[2:-1]:
        if text_line == ANY:
            entries.append(ANY)
            continue
        parts = text_line.split("\t")
        if len(parts) != 5:
            return None
        try:
            expires = float(parts[0])
        except ValueError:
            return None
        entries.append((expires, parts[1], parts[2], parts[3], parts[4]))
    return lines[1] == "ci\t1", entries


def may_block(entries: "Iterable[Entry]", me: str, specs: "Iterable[lockspec.Spec]", now: float) -> bool:
    """False only when no live lock of another agent among `entries` can cover any of `specs`."""
    from . import lockspec  # here: every writer imports this module (through lockindex), only hooks ask this

    specs = list(specs)
    for entry in entries:
        if isinstance(entry, str):  # ANY
            return True
        expires, kind, _mode, owner, key = entry
        if expires <= now or owner == me or kind == lockspec.RESOURCE:
            continue
        if any(lockspec.overlaps(s.key, s.kind, key, kind) for s in specs):
            return True
    return False
