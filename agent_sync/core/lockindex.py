"""A small text file listing live locks, so hooks can skip SQLite when no lock can match.

Writers publish it while holding the database's write lock, merging in the
previous entries before commit and shrinking it only after commit. The index
is therefore always a superset of the committed locks: a stale entry costs a
database look-up, never a missed conflict. Readers import nothing but `os`; the text's
format and the blocking rule are in indexfile.py, which needs not even that.
"""

import os
import time

from . import repo
from .indexfile import ANY, HEADER, NAME, line, parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from .db import Database
    from .indexfile import Entry


def path_of(root: str) -> str:
    return os.path.join(repo.state_dir(root), NAME)


def publish(db: "Database", merge_existing: bool) -> None:
    """Rewrite the index from the locks this transaction can see."""
    now = time.time()
    latest: dict[tuple[str, ...], float] = {}  # (kind, mode, owner, key) -> the latest expiry (covers earlier ones)
    any_line = False

    def keep(expires_at: float, *fields: str) -> None:
        if expires_at > latest.get(fields, 0.0):
            latest[fields] = expires_at

    for row in db.all("SELECT expires_at, kind, mode, owner, key FROM locks WHERE expires_at > ?", (now,)):
        keep(*row)
    if merge_existing:
        current = read(db.root)
        if current is None:
            any_line = os.path.exists(path_of(db.root))  # unreadable: every hook asks the database until a rewrite
        else:
            for entry in current[1]:
                if isinstance(entry, str):  # ANY, the only entry that is not a tuple
                    any_line = True
                elif entry[0] > now:
                    keep(*entry)
    write(db.root, db.case_insensitive, [(expires_at, *fields) for fields, expires_at in latest.items()],  # type: ignore[misc]
          any_line)


def write(root: str, case_insensitive: bool, entries: "Iterable[Entry]", any_line: bool = False) -> None:
    """Replace the index with `entries`, each (expires_at, kind, mode, owner, key)."""
    lines = {line(*entry) for entry in entries}
    if any_line:
        lines.add(ANY)
    body = [HEADER, "ci\t" + ("1" if case_insensitive else "0")] + sorted(lines)
    _replace(path_of(root), "\n".join(body) + "\n")


def _replace(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError:  # a full disk: leave no partial file behind (the caller's transaction rolls back)
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    for attempt in range(20):
        try:
            os.replace(tmp, path)
            return
        except PermissionError:  # Windows: a reader has the file open
            time.sleep(0.01 * (attempt + 1))
    os.remove(tmp)
    os.remove(path)  # without an index every hook asks the database: slower, still correct


def read(root: str) -> "tuple[bool, list[Entry]] | None":
    """(case_insensitive, entries) with entries as (expires_at, kind, mode, owner, key) or ANY.

    None when the index is absent or unreadable.
    """
    try:
        with open(path_of(root), encoding="utf-8") as handle:
            return parse(handle.read())
    except (OSError, UnicodeDecodeError):
        return None
