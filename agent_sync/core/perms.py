"""Modes: nothing agent-sync creates is writable by group or others, and a test for what is.

Hooks run the archive and trust the settings and the coordination folder, so
anyone who may write to those can run code as, or lie to, every agent. One
umask floor at process start covers every file and folder we create (SQLite's
database, WAL and shared-memory files included), whatever the user's umask.
"""

import sys

if sys.platform == "win32":  # os.umask is this builtin: the hook's quick refusal sets the floor without os
    from nt import umask as _umask
else:
    from posix import umask as _umask

TYPE_CHECKING = False
if TYPE_CHECKING:
    import os

FLOOR = 0o022  # never create anything group- or world-writable
OPEN_BITS = 0o022  # stat.S_IWGRP | stat.S_IWOTH: a file that group or others may write


def restrict_umask() -> None:
    """Add FLOOR to the process umask (a stricter umask such as 077 is kept)."""
    old = _umask(FLOOR)
    _umask(old | FLOOR)


def open_to_others(path: "str | os.PathLike[str]") -> int | None:
    """The permission bits of `path` if group or others may write to it, else None (also when missing).

    Windows has no such bits (every file reads as 0o666), so there it is always None.
    """
    import os
    import stat

    if os.name == "nt":
        return None
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return stat.S_IMODE(mode) if mode & OPEN_BITS else None
