"""Modes: nothing agent-sync creates is writable by group or others, and a test for what is.

Hooks run the archive and trust the settings and the coordination folder, so
anyone who may write to those can run code as, or lie to, every agent. One
umask floor at process start covers every file and folder we create (SQLite's
database, WAL and shared-memory files included), whatever the user's umask.
"""

import os
import stat

FLOOR = 0o022  # never create anything group- or world-writable
OPEN_BITS = stat.S_IWGRP | stat.S_IWOTH


def restrict_umask() -> None:
    """Add FLOOR to the process umask (a stricter umask such as 077 is kept)."""
    old = os.umask(FLOOR)
    os.umask(old | FLOOR)


def open_to_others(path: "str | os.PathLike[str]") -> int | None:
    """The permission bits of `path` if group or others may write to it, else None (also when missing).

    Windows has no such bits (every file reads as 0o666), so there it is always None.
    """
    if os.name == "nt":
        return None
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return stat.S_IMODE(mode) if mode & OPEN_BITS else None
